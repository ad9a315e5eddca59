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

from django.db import transaction
from django.utils import timezone

from lms_notify.bulk import copy_insert_ignoring_conflicts, is_postgresql

from .. import closing
from ..links import without_links_of_others
from ..models import Channel, Event, Notification, NotificationRule
from ..recipients import Recipient
from ..templating import TemplateCache
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

    @property
    def dedupe_key(self):
        return f"{self.event}:{self.recipient.key}:{self.channel}:{self.occurrence}"


_EVENT_LABELS = dict(Event.choices)


def _notification_fields(message: OutgoingMessage, *, templates: TemplateCache, now) -> dict:
    """The outbox row for one message as field values: rendered, or omitted with its reason."""
    recipient, channel = message.recipient, message.channel
    learner = recipient.subject_learner
    language, tz = (learner.language, learner.timezone) if learner is not None else ("en", "UTC")
    address = recipient.address(channel)
    reason = recipient.ineligibility(channel)
    context = {
        "recipient_name": recipient.name,
        # Event.values builds a list on every access: too slow for 100,000 messages (seed 000).
        "event_label": _EVENT_LABELS.get(message.event, message.event),
        **message.context,
    }
    if recipient.audience != closing.LEARNER:
        # A copy for the learner's manager, guardian or staff is built from the learner's context: never with
        # a link made for the learner (their personal answer link). A learner's own messages skip the check.
        context = without_links_of_others(context, recipient.key)
    if message.subject is not None or message.body is not None:
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
        rendered = templates.render(message.event, language, context, tz=tz, audience=recipient.audience)
    subject, body, rendered_html, sms_body = rendered.subject, rendered.body, rendered.html_body, rendered.sms_body
    if channel == Channel.SMS:
        body, rendered_html = sms_body, ""
    elif channel == Channel.INBOX and rendered.footer:
        # Read in the inbox, not received by email: the footer saying why the email came does not apply.
        body = body.removesuffix(rendered.footer).rstrip()
    if reason:
        status = Notification.Status.OMITTED
    elif message.requires_confirmation:
        status = Notification.Status.AWAITING_CONFIRMATION
    else:
        status = Notification.Status.QUEUED
    is_email = channel == Channel.EMAIL
    return dict(
        event=message.event,
        channel=channel,
        recipient_learner=recipient.learner if recipient.guardian is None else recipient.guardian.learner,
        recipient_guardian=recipient.guardian,
        recipient_user=recipient.user,
        to=address if channel != Channel.INBOX else "",
        language=language,
        subject=subject,
        body=body,
        html_body=rendered_html if is_email else "",
        attachments=message.attachments if is_email else [],
        context=message.refs,
        status=status,
        reason=reason,
        dedupe_key=message.dedupe_key[:255],
        rule=message.rule,
        created_by=message.actor,
        created_at=now,
        next_attempt_at=max(message.not_before or now, now),
    )


def build_notification(message: OutgoingMessage, *, templates: TemplateCache, now=None) -> Notification:
    """The unsaved outbox row for one message: rendered, or omitted with its reason."""
    return Notification(**_notification_fields(message, templates=templates, now=now or timezone.now()))


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
    if not return_rows and is_postgresql():
        return _enqueue_copy(messages, templates=templates, now=now)
    rows = [build_notification(m, templates=templates, now=now) for m in messages]
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


# Columns written by the COPY path; every other column takes its model default.
_FK_COLUMNS = {"recipient_learner", "recipient_guardian", "recipient_user", "rule", "created_by"}
_JSON_COLUMNS = {"attachments", "context"}


def _copy_plan():
    """(field names, ([(field name, default)], positions of foreign keys, [(position, encoder)] of JSON))."""
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    names = [f.name for f in fields]
    defaults = [(f.name, f.get_default()) for f in fields]
    fks = [i for i, name in enumerate(names) if name in _FK_COLUMNS]
    jsons = [(i, fields[i].encoder) for i, name in enumerate(names) if name in _JSON_COLUMNS]
    return names, (defaults, fks, jsons)


def _plain_json(value, dumps=json.dumps):
    """JSON of the usual refs ({"notify_run": 12, "invitation": 3}): the C encoder with its default
    settings gives the very text the field's encoder would, without building an encoder per row."""
    if value.__class__ is dict and all(k.__class__ is str and v.__class__ in (int, str) for k, v in value.items()):
        return dumps(value)
    return None


def _copy_row(values, plan, dumps=json.dumps, plain=_plain_json):
    defaults, fks, jsons = plan
    get = values.get
    row = [get(name, default) for name, default in defaults]
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


def _enqueue_copy(messages, *, templates, now) -> dict[str, int]:
    """PostgreSQL: stream the rows with COPY; the unique dedupe_key stays the arbiter between
    concurrent callers and the result names exactly the rows this call inserted."""
    names, plan = _copy_plan()
    rows, queued = {}, set()
    for message in messages:
        values = _notification_fields(message, templates=templates, now=now)
        key = values["dedupe_key"]
        if key in rows:
            continue  # the first message of a key wins, as in the bulk_create path
        rows[key] = _copy_row(values, plan)
        if values["status"] == Notification.Status.QUEUED:
            queued.add(key)
    if not rows:
        return {}
    with transaction.atomic():
        inserted = copy_insert_ignoring_conflicts(
            Notification, names, list(rows.values()), returning=("id", "dedupe_key")
        )
        created = {key: pk for pk, key in inserted}
        if not queued.isdisjoint(created):
            transaction.on_commit(request_dispatch, robust=True)
    return created


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
