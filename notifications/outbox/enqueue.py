"""The one door into the outbox: `enqueue` renders each message, decides omission (the
recipient's eligibility, see notifications.recipients) and inserts it under its unique
dedupe_key, so an occurrence can never be queued twice whoever tries and however often.

Queued rows ask for a dispatch once the surrounding transaction commits
(`request_dispatch`, coalesced: at most one dispatch task waits at a time).
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from lms_notify.bulk import columns_sql, is_postgresql

from .. import closing, registry
from ..links import learner_home_maker, without_links_of_others
from ..models import Channel, Notification, NotificationRule
from ..optout import UNSUBSCRIBED, applies_to, family_of
from ..recipients import Reason, Recipient
from ..templating import FILL_NAMES, RenderedMessage, TemplateCache
from .barred import barred_among
from .wakeup import request_dispatch


@dataclass
class OutgoingMessage:
    event: str
    channel: str
    recipient: Recipient
    # Names the occurrence: with event, recipient and channel it forms the dedupe key.
    occurrence: str
    context: dict = field(default_factory=dict)
    # Object references the send-time check reads, e.g. {"invitation": 12}.
    refs: dict = field(default_factory=dict)
    requires_confirmation: bool = False
    not_before: datetime | None = None
    rule: NotificationRule | None = None
    actor: object | None = None
    attachments: list = field(default_factory=list)
    # Already written by an administrator (convocations, custom emails).
    subject: str | None = None
    body: str | None = None
    # Words an administrator wrote for this sending, compiled ({"subject"/"body": template}): rendered for each
    # reader in her language and time zone, with her copy's values (notifications.templating.render_for_reader).
    written: dict | None = None

    @property
    def dedupe_key(self):
        return f"{self.event}:{self.recipient.key}:{self.channel}:{self.occurrence}"


# The key of an outbox row's references (its `context`) saying the built-in words replaced a failing template.
TEMPLATE_FALLBACK = "template_fallback"


# The fields `_notification_values` gives, in its order; every other column of the outbox takes its default.
_FIELD_NAMES = (
    "event",
    "channel",
    "recipient_learner",
    "recipient_guardian",
    "recipient_user",
    "to",
    "language",
    "subject",
    "body",
    "html_body",
    "attachments",
    "context",
    "status",
    "reason",
    "dedupe_key",
    "rule",
    "created_by",
    "created_at",
    "next_attempt_at",
)


def omission(message: OutgoingMessage, *, blocked=(), opted_out=(), address=None) -> str:
    """Why `message` would be omitted ("" when it would go): the recipient's eligibility, then an undeliverable
    address (`blocked`) and an optional family she left (`opted_out`), as `barred_among` reads them for the
    batch."""
    recipient, channel = message.recipient, message.channel
    reason = recipient.ineligibility(channel)
    if not reason and blocked and channel == Channel.EMAIL:
        address = recipient.address(channel) if address is None else address
        if address.lower() in blocked:
            reason = Reason.UNDELIVERABLE
    if not reason and opted_out and (recipient.key, family_of(message.event)) in opted_out and applies_to(channel):
        reason = UNSUBSCRIBED
    return reason


def _notification_values(
    message: OutgoingMessage,
    *,
    templates: TemplateCache,
    now,
    shaped=None,
    blocked=(),
    opted_out=(),
    home=None,
):
    """The outbox row for one message, rendered or omitted with its reason: (values in _FIELD_NAMES
    order, None), as a tuple because 100,000 of them are built for one Notify run (seed 000).

    With `shaped` (a ShapeCachedTemplates' method of that name) a message made from a shape comes
    back as (values with the text and HTML left to the database: None, its Shaped). `home`: the batch's
    links.learner_home_maker, made once for all its messages. The events' labels are read when the message is
    made, never at import, when the declarations may still be loading."""
    recipient, channel = message.recipient, message.channel
    learner = recipient.subject_learner
    language, tz = (learner.language, learner.timezone) if learner is not None else ("en", "UTC")
    address = recipient.address(channel)
    reason = (
        omission(message, blocked=blocked, opted_out=opted_out, address=address)
        if blocked or opted_out
        else recipient.ineligibility(channel)
    )
    context = {
        "recipient_name": recipient.name,
        "event_label": registry.labels().get(message.event, message.event),
        **message.context,
    }
    if recipient.audience == closing.LEARNER:
        context = (home or learner_home_maker())(context)
    else:
        # A copy for the learner's manager, guardian or staff is built from the learner's context: never with
        # a link made for the learner (their personal answer link). A learner's own messages skip the check.
        context = without_links_of_others(context, recipient.key)
    shape = None
    rendered = None
    if message.written:
        rendered = templates.render_for_reader(
            message.event, language, context, written=message.written, tz=tz, audience=recipient.audience
        )
    elif message.subject is not None or message.body is not None:
        # Written by an administrator for this send: laid out and signed off as every other email.
        rendered = templates.render_written(
            message.event,
            language,
            context,
            subject=message.subject or "",
            body=message.body or "",
            tz=tz,
            audience=recipient.audience,
        )
    else:
        # An inbox copy drops the email's footer (below): filled in here, not by the database.
        render = shaped if shaped is not None and channel != Channel.INBOX else templates.render
        found = render(message.event, language, context, tz=tz, audience=recipient.audience)
        if type(found) is RenderedMessage:
            rendered = found
        else:
            shape = found
    if rendered is not None:
        subject, body, rendered_html, sms_body = rendered.subject, rendered.body, rendered.html_body, rendered.sms_body
        fallback = rendered.fallback
    else:
        subject, body, rendered_html, sms_body = shape.subject, None, None, None
        fallback = shape.shape.fallback
    refs = message.refs
    if fallback:
        # Shown on the message's page: the administrator's template failed for it, the built-in words went.
        refs = {**refs, TEMPLATE_FALLBACK: fallback}
    if channel == Channel.SMS:
        body, rendered_html = sms_body, ""
    elif channel == Channel.INBOX and rendered is not None and rendered.footer:
        # Read in the inbox, not received by email: the footer saying why the email came does not apply.
        body = body.removesuffix(rendered.footer).rstrip()
    if reason:
        status = Notification.Status.OMITTED
    elif message.requires_confirmation:
        status = Notification.Status.AWAITING_CONFIRMATION
    else:
        status = Notification.Status.QUEUED
    is_email = channel == Channel.EMAIL
    guardian = recipient.guardian
    values = (
        message.event,
        channel,
        recipient.learner if guardian is None else guardian.learner,
        guardian,
        recipient.user,
        address if channel != Channel.INBOX else "",
        language,
        subject,
        body,
        rendered_html if is_email else "",
        message.attachments if is_email else [],
        refs,
        status,
        reason,
        message.dedupe_key[:255],
        message.rule,
        message.actor,
        now,
        max(message.not_before or now, now),
    )
    return values, shape


def _notification_fields(
    message: OutgoingMessage, *, templates: TemplateCache, now, blocked=(), opted_out=(), home=None
) -> dict:
    """The outbox row for one message as field values: rendered, or omitted with its reason."""
    values, _ = _notification_values(
        message, templates=templates, now=now, blocked=blocked, opted_out=opted_out, home=home
    )
    return dict(zip(_FIELD_NAMES, values, strict=True))


def build_notification(
    message: OutgoingMessage, *, templates: TemplateCache, now=None, blocked=(), opted_out=(), home=None
) -> Notification:
    """The unsaved outbox row for one message: rendered, or omitted with its reason (`blocked`: the
    undeliverable addresses among the batch's, `opted_out`: who left which optional family)."""
    now = now or timezone.now()
    fields = _notification_fields(
        message, templates=templates, now=now, blocked=blocked, opted_out=opted_out, home=home
    )
    return Notification(**fields)


def enqueue(
    messages: Iterable[OutgoingMessage], *, templates: TemplateCache | None = None, return_rows: bool = True
) -> list[Notification] | dict[str, int]:
    """Put messages in the outbox; returns the rows this call created.

    A message whose dedupe_key is already in the outbox is silently dropped
    (database constraint, so concurrent callers cannot both win). Queued
    rows are dispatched right after the surrounding transaction commits.

    With return_rows=False the result is {dedupe_key: pk} of the rows this
    call created: large batches (seed 000, 100,000 learners) then never build
    or read back model instances.
    """
    templates = templates or TemplateCache()
    now = timezone.now()
    messages = list(messages)
    blocked, opted_out = barred_among(messages)
    home = learner_home_maker()
    if not return_rows and is_postgresql():
        return _enqueue_copy(messages, templates=templates, now=now, blocked=blocked, opted_out=opted_out, home=home)
    rows = [
        build_notification(m, templates=templates, now=now, blocked=blocked, opted_out=opted_out, home=home)
        for m in messages
    ]
    if not rows:
        return [] if return_rows else {}
    keys = [row.dedupe_key for row in rows]
    with transaction.atomic():
        existing = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        fresh = {}
        for row in rows:
            if row.dedupe_key not in existing:
                fresh.setdefault(row.dedupe_key, row)
        Notification.objects.bulk_create(list(fresh.values()), ignore_conflicts=True, batch_size=2000)
        # ignore_conflicts returns no ids; read back the rows that are ours (a
        # concurrent caller may have won some keys in between).
        created = list(Notification.objects.filter(dedupe_key__in=list(fresh), created_at=now).order_by("pk"))
        if any(row.status == Notification.Status.QUEUED for row in created):
            transaction.on_commit(request_dispatch, robust=True)
    return created if return_rows else {row.dedupe_key: row.pk for row in created}


_FK_COLUMNS = {"recipient_learner", "recipient_guardian", "recipient_user", "rule", "created_by"}
_JSON_COLUMNS = {"attachments", "context"}


def _copy_plan():
    """(column names: _FIELD_NAMES then the others, their defaults, positions of foreign keys,
    [(position, encoder)] of JSON), for rows made of _notification_values and the defaults."""
    fields = {f.name: f for f in Notification._meta.concrete_fields if not f.primary_key}
    others = [name for name in fields if name not in _FIELD_NAMES]
    fks = [i for i, name in enumerate(_FIELD_NAMES) if name in _FK_COLUMNS]
    jsons = [(i, fields[name].encoder) for i, name in enumerate(_FIELD_NAMES) if name in _JSON_COLUMNS]
    return [*_FIELD_NAMES, *others], [fields[name].get_default() for name in others], fks, jsons


def _plain_json(value, dumps=json.dumps, plain=(int, str)):
    """JSON of the usual refs ({"notify_run": 12, "invitation": 3}): the C encoder with its default
    settings gives the very text the field's encoder would, without building an encoder per row."""
    if value.__class__ is not dict:
        return None
    for k, v in value.items():
        if k.__class__ is not str or v.__class__ not in plain:
            return None
    return dumps(value)


def _copy_row(values, fks, jsons, dumps=json.dumps, plain=_plain_json):
    """The values of _notification_values as COPY writes them: foreign keys as pks, JSON as text."""
    row = list(values)
    for i in fks:
        value = row[i]
        if value is not None and value.__class__ is not int:
            row[i] = value.pk
    for i, encoder in jsons:
        value = row[i]
        if value == []:
            row[i] = "[]"
        else:
            row[i] = plain(value) or dumps(value, cls=encoder)
    return row


# Values a shaped row carries for its text, and for its HTML: a version with more is filled in here.
_SLOTS = 4


class _ShapeRow(NamedTuple):
    """A shape on one channel as the database fills it in: the texts between the values of the text
    and of the HTML version (each padded to _SLOTS + 1), and the positions of those values."""

    number: int
    texts: tuple
    text_at: tuple
    html_texts: tuple
    html_at: tuple


def _shape_row(shape, channel, number) -> _ShapeRow | None:
    """The shape's text and HTML versions on `channel` (None when one has more than _SLOTS values)."""
    text, html, sms = shape.layouts()
    text = sms if channel == Channel.SMS else text
    html = html if channel == Channel.EMAIL else (("",), ())
    if len(text[1]) > _SLOTS or len(html[1]) > _SLOTS:
        return None
    pad = ("",) * _SLOTS
    return _ShapeRow(number, (*text[0], *pad)[: _SLOTS + 1], text[1], (*html[0], *pad)[: _SLOTS + 1], html[1])


def _filled(shaped, channel) -> tuple:
    """(text, HTML) of a shaped message filled in here, as _notification_values gives them."""
    rendered = shaped.shape.fill(dict(zip(FILL_NAMES, shaped.values, strict=True)))
    if channel == Channel.SMS:
        return rendered.sms_body, ""
    return rendered.body, rendered.html_body if channel == Channel.EMAIL else ""


def _enqueue_copy(messages, *, templates, now, blocked=(), opted_out=(), home=None) -> dict[str, int]:
    """PostgreSQL: stream the rows with COPY; the unique dedupe_key stays the arbiter between
    concurrent callers and the result names exactly the rows this call inserted.

    Messages made from a shape (ShapeCachedTemplates) travel as their shape, once, and their own
    values; the database fills the text and HTML in (seed 000: 100,000 messages that differ only
    by a name and a link)."""
    names, defaults, fks, jsons = _copy_plan()
    shaped = getattr(templates, "shaped", None)
    rows, queued, shapes = {}, set(), {}
    key_at, status_at = _FIELD_NAMES.index("dedupe_key"), _FIELD_NAMES.index("status")
    body_at, html_at = _FIELD_NAMES.index("body"), _FIELD_NAMES.index("html_body")
    no_slots = (None,) * (1 + 2 * _SLOTS)
    for message in messages:
        values, shape = _notification_values(
            message,
            templates=templates,
            now=now,
            shaped=shaped,
            blocked=blocked,
            opted_out=opted_out,
            home=home,
        )
        key = values[key_at]
        if key in rows:
            continue  # the first message of a key wins, as in the bulk_create path
        slots = no_slots
        if shape is not None:
            where = (shape.shape, message.channel)
            if where not in shapes:
                shapes[where] = _shape_row(shape.shape, message.channel, number=len(shapes) + 1)
            layout = shapes[where]
            if layout is None:
                values = list(values)
                values[body_at], values[html_at] = _filled(shape, message.channel)
            else:
                plain, html_values = shape.values, shape.html_values
                slots = (
                    layout.number,
                    *[plain[i] for i in layout.text_at],
                    *(None,) * (_SLOTS - len(layout.text_at)),
                    *[html_values[i] for i in layout.html_at],
                    *(None,) * (_SLOTS - len(layout.html_at)),
                )
        row = _copy_row(values, fks, jsons)
        row.extend(slots)
        rows[key] = row
        if values[status_at] == Notification.Status.QUEUED:
            queued.add(key)
    if not rows:
        return {}
    # No savepoint: nothing here is retried on failure, and a Notify chunk counts its queries (seed 000).
    with transaction.atomic(savepoint=False):
        inserted = _insert_shaped(
            names, defaults, list(rows.values()), [layout for layout in shapes.values() if layout]
        )
        created = {key: pk for pk, key in inserted}
        if not queued.isdisjoint(created):
            transaction.on_commit(request_dispatch, robust=True)
    return created


def _insert_shaped(names, defaults, rows, shapes) -> list[tuple]:
    """Insert the rows (the first `names` columns, then a shape number and its values, or Nones; the
    last len(defaults) columns take those values) skipping any whose dedupe_key is taken, as
    copy_insert_ignoring_conflicts does; the text and HTML of a shaped row are its shape's texts with
    the row's values in between. Returns (id, dedupe_key) of the rows inserted."""
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    columns = columns_sql(Notification, names)
    copied = names[: len(names) - len(defaults)]
    copied_columns = columns_sql(Notification, copied)
    slots = [f"_t{i}" for i in range(1, _SLOTS + 1)] + [f"_h{i}" for i in range(1, _SLOTS + 1)]
    texts = [f"t{i}" for i in range(_SLOTS + 1)] + [f"h{i}" for i in range(_SLOTS + 1)]

    def concat(prefix):
        # concat() reads a NULL (an unused slot) as an empty text.
        parts = [f"s.{prefix}0"]
        for i in range(1, _SLOTS + 1):
            parts += [f"m._{prefix}{i}", f"s.{prefix}{i}"]
        return f"concat({', '.join(parts)})"

    filled = {
        "body": f"CASE WHEN m._shape IS NULL THEN m.body ELSE {concat('t')} END",
        "html_body": f"CASE WHEN m._shape IS NULL THEN m.html_body ELSE {concat('h')} END",
    }
    # The columns every row leaves to their default are not copied row by row: one parameter each.
    select = ", ".join(
        [filled.get(name, f"m.{quote(Notification._meta.get_field(name).column)}") for name in copied]
        + ["%s"] * len(defaults)
    )
    with connection.cursor() as cursor:
        # Dropped at commit, so they always have the table's current columns; their rows never outlive
        # the statement that moves them (a second call in the same transaction reuses them).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS _outbox_rows ON COMMIT DROP AS SELECT {copied_columns}, "
            f"NULL::integer AS _shape, {', '.join(f'NULL::text AS {slot}' for slot in slots)} "
            f"FROM {table} WITH NO DATA; "
            f"CREATE TEMP TABLE IF NOT EXISTS _outbox_shapes (id integer, {', '.join(f'{t} text' for t in texts)}) "
            "ON COMMIT DROP"
        )
        if shapes:
            with cursor.cursor.copy(f"COPY _outbox_shapes (id, {', '.join(texts)}) FROM STDIN") as copy:
                for shape in shapes:
                    copy.write_row((shape.number, *shape.texts, *shape.html_texts))
        with cursor.cursor.copy(f"COPY _outbox_rows ({copied_columns}, _shape, {', '.join(slots)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH m AS (DELETE FROM _outbox_rows RETURNING *), s AS (DELETE FROM _outbox_shapes RETURNING *) "
            f"INSERT INTO {table} ({columns}) SELECT {select} FROM m LEFT JOIN s ON s.id = m._shape "
            f"ON CONFLICT DO NOTHING RETURNING id, dedupe_key",
            defaults,
        )
        return cursor.fetchall()


def confirm(notifications, *, actor) -> int:
    """Release messages awaiting confirmation (seed 004); returns how many were released."""
    now = timezone.now()
    pks = [n.pk if isinstance(n, Notification) else n for n in notifications]
    with transaction.atomic():
        released = Notification.objects.filter(pk__in=pks, status=Notification.Status.AWAITING_CONFIRMATION).update(
            status=Notification.Status.QUEUED, confirmed_by=actor, confirmed_at=now, next_attempt_at=now
        )
        if released:
            transaction.on_commit(request_dispatch, robust=True)
    return released
