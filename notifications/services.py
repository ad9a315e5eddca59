"""Every message goes through here into the outbox (Notification).

`enqueue` is the one door: it renders, decides omission (no consent, no
address), and inserts with the unique dedupe_key so an occurrence can never
be queued twice. Dispatch, the Notify buttons and date-based triggers live
in sibling modules and are re-exported here as the public services.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from learners.models import Guardian, Learner

from .models import Channel, Event, Notification, NotificationRule
from .templating import TemplateCache
from .triggers import date_trigger
from .variables import person_values


class OmitReason:
    NO_CONSENT = "no_consent"
    NO_CONTACT = "no_contact"
    INACTIVE = "inactive"
    GUARDIAN_DISABLED = "guardian_disabled"


@dataclass
class Recipient:
    """Whoever receives one message: a learner, a guardian or a user (site admin)."""

    learner: Learner | None = None
    guardian: Guardian | None = None
    user: object | None = None

    @property
    def key(self):
        if self.guardian is not None:
            return f"g{self.guardian.pk}"
        if self.learner is not None:
            return f"l{self.learner.pk}"
        return f"u{self.user.pk}"

    @property
    def name(self):
        if self.guardian is not None:
            return self.guardian.name
        if self.learner is not None:
            return self.learner.full_name
        return self.user.get_full_name() or self.user.get_username()

    @property
    def subject_learner(self):
        """The learner whose consent, language and time zone govern the message."""
        if self.guardian is not None:
            return self.guardian.learner
        if self.learner is not None:
            return self.learner
        return getattr(self.user, "learner", None) if self.user is not None else None

    @property
    def language(self):
        learner = self.subject_learner
        return learner.language if learner is not None else "en"

    @property
    def timezone(self):
        learner = self.subject_learner
        return learner.timezone if learner is not None else "UTC"

    def address(self, channel):
        holder = self.guardian or self.learner or self.user
        if channel == Channel.EMAIL:
            return (getattr(holder, "email", "") or "").strip()
        if channel == Channel.SMS:
            return (getattr(holder, "phone", "") or "").strip()
        return self.key  # the inbox belongs to the recipient itself

    def omit_reason(self, channel):
        if self.guardian is not None and not self.guardian.is_enabled:
            return OmitReason.GUARDIAN_DISABLED
        learner = self.guardian.learner if self.guardian is not None else self.learner
        if learner is not None:
            if not learner.is_active:
                return OmitReason.INACTIVE
            if learner.consent_given_at is None:
                return OmitReason.NO_CONSENT
        if not self.address(channel):
            return OmitReason.NO_CONTACT
        return ""


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
    recipient = message.recipient
    reason = recipient.omit_reason(message.channel)
    context = {
        "recipient_name": recipient.name,
        # Event.values builds a list on every access: too slow for 100,000 messages (seed 000).
        "event_label": _EVENT_LABELS.get(message.event, message.event),
        **message.context,
    }
    if message.subject is not None or message.body is not None:
        from django.utils.html import escape, linebreaks

        subject, body = message.subject or "", message.body or ""
        rendered_html, sms_body = linebreaks(escape(body)), subject
    else:
        rendered = templates.render(message.event, recipient.language, context, tz=recipient.timezone)
        subject, body, rendered_html, sms_body = (
            rendered.subject,
            rendered.body,
            rendered.html_body,
            rendered.sms_body,
        )
    if message.channel == Channel.SMS:
        body, rendered_html = sms_body, ""
    if reason:
        status = Notification.Status.OMITTED
    elif message.requires_confirmation:
        status = Notification.Status.AWAITING_CONFIRMATION
    else:
        status = Notification.Status.QUEUED
    return dict(
        event=message.event,
        channel=message.channel,
        recipient_learner=recipient.learner if recipient.guardian is None else recipient.guardian.learner,
        recipient_guardian=recipient.guardian,
        recipient_user=recipient.user,
        to=recipient.address(message.channel) if message.channel != Channel.INBOX else "",
        language=recipient.language,
        subject=subject,
        body=body,
        html_body=rendered_html if message.channel == Channel.EMAIL else "",
        attachments=message.attachments if message.channel == Channel.EMAIL else [],
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
    if not return_rows and connection.vendor == "postgresql":
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
            transaction.on_commit(_dispatch_soon)
    return created if return_rows else {row.dedupe_key: row.pk for row in created}


# Columns written by the COPY path; every other column takes its model default.
_FK_COLUMNS = {"recipient_learner", "recipient_guardian", "recipient_user", "rule", "created_by"}
_JSON_COLUMNS = {"attachments", "context"}


def _copy_plan():
    """(column list, [(field name, how to write it, JSON encoder, field)]) for the COPY path."""
    plan = []
    for f in Notification._meta.concrete_fields:
        if f.primary_key:
            continue
        kind = "fk" if f.name in _FK_COLUMNS else "json" if f.name in _JSON_COLUMNS else ""
        plan.append((f.name, kind, f.encoder if kind == "json" else None, f))
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in Notification._meta.concrete_fields if not f.primary_key
    )
    return columns, plan


def _enqueue_copy(messages, *, templates, now) -> dict[str, int]:
    """PostgreSQL: stream the rows with COPY into a session temp table, then move them into the
    outbox with ON CONFLICT (dedupe_key) DO NOTHING, so the unique constraint stays the arbiter
    between concurrent callers; RETURNING gives the ids of exactly the rows we inserted."""
    columns, plan = _copy_plan()
    rows, queued = {}, set()
    dumps = json.dumps
    for message in messages:
        values = _notification_fields(message, templates=templates, now=now)
        key = values["dedupe_key"]
        if key in rows:
            continue  # the first message of a key wins, as in the bulk_create path
        row = []
        for name, kind, encoder, f in plan:
            if name not in values:
                values[name] = f.get_default()
            if kind == "fk":
                value = values[name]
                row.append(value if value is None or isinstance(value, int) else value.pk)
            elif kind == "json":
                value = values[name]
                row.append("[]" if value == [] else "{}" if value == {} else dumps(value, cls=encoder))
            else:
                row.append(values[name])
        rows[key] = row
        if values["status"] == Notification.Status.QUEUED:
            queued.add(key)
    if not rows:
        return {}
    table = Notification._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropped at commit, so it always has the outbox's current columns; the rows themselves never
        # outlive the statement that moves them (a second enqueue in the same transaction reuses it).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS _enqueue_rows ON COMMIT DROP "
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY _enqueue_rows ({columns}) FROM STDIN") as copy:
            for row in rows.values():
                copy.write_row(row)
        cursor.execute(
            f"WITH moved AS (DELETE FROM _enqueue_rows RETURNING *) "
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved "
            f"ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
        )
        created = {key: pk for pk, key in cursor.fetchall()}
        if not queued.isdisjoint(created):
            transaction.on_commit(_dispatch_soon)
    return created


def _dispatch_soon():
    from .tasks import schedule_dispatch

    schedule_dispatch()


def recipients_for_rule(rule: NotificationRule, learner: Learner) -> list[Recipient]:
    """Who hears about an event concerning `learner` under `rule` (seed 001 learner/manager,
    seed 004 guardians, site administrators for exceptions)."""
    recipients = []
    if rule.notify_learner:
        recipients.append(Recipient(learner=learner))
        if rule.notify_guardians:
            recipients.extend(Recipient(guardian=g) for g in learner.guardians.all() if g.is_enabled)
    if rule.notify_manager and learner.manager_id:
        recipients.append(Recipient(learner=learner.manager))
    if rule.notify_site_admins:
        admins = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
        recipients.extend(Recipient(user=user) for user in admins)
    return recipients


def messages_for_rules(
    *,
    event,
    learner,
    occurrence,
    context=None,
    refs=None,
    program=None,
    actor=None,
    attachments=None,
    not_before=None,
) -> list[OutgoingMessage]:
    """Expand every enabled rule of `event` into one message per recipient and channel."""
    rules = NotificationRule.objects.filter(event=event, is_enabled=True)
    if date_trigger(event) is not None:
        # "N days after the event" is a date occurrence, created by the trigger scan when its day comes.
        rules = rules.filter(timing=NotificationRule.Timing.ON_EVENT)
    if program is not None:
        rules = rules.filter(program__isnull=True) | rules.filter(program=program)
    messages = []
    for rule in rules:
        for recipient in recipients_for_rule(rule, learner):
            for channel in rule.channels:
                messages.append(
                    OutgoingMessage(
                        event=event,
                        channel=channel,
                        recipient=recipient,
                        occurrence=f"{occurrence}:r{rule.pk}",
                        context={"learner": person_values(learner), **(context or {})},
                        refs=refs or {},
                        requires_confirmation=rule.requires_confirmation,
                        rule=rule,
                        actor=actor,
                        attachments=attachments or [],
                        not_before=not_before,
                    )
                )
    return messages


def notify_event(*, event, learner, occurrence, **kwargs) -> list[Notification]:
    """Queue what the rules of `event` say for this occurrence; nothing if no rule is enabled."""
    return enqueue(messages_for_rules(event=event, learner=learner, occurrence=occurrence, **kwargs))


def confirm(notifications, *, actor) -> int:
    """Release messages awaiting confirmation (seed 004); returns how many were released."""
    now = timezone.now()
    pks = [n.pk if isinstance(n, Notification) else n for n in notifications]
    with transaction.atomic():
        released = Notification.objects.filter(pk__in=pks, status=Notification.Status.AWAITING_CONFIRMATION).update(
            status=Notification.Status.QUEUED, confirmed_by=actor, confirmed_at=now, next_attempt_at=now
        )
        if released:
            transaction.on_commit(_dispatch_soon)
    return released


def dispatch_outbox(*, limit=None) -> int:
    from .outbox import dispatch_outbox as _dispatch

    return _dispatch(limit=limit)


def retry_now(notifications, *, actor=None) -> int:
    from .outbox import retry_now as _retry

    return _retry(notifications, actor=actor)


def cancel(notifications, *, actor=None, reason="cancelled_by_admin") -> int:
    from .outbox import cancel as _cancel

    return _cancel(notifications, actor=actor, reason=reason)


def notify_learners(learners, *, actor, scope):
    from .notify import notify_learners as _notify

    return _notify(learners, actor=actor, scope=scope)


def scan_triggers() -> int:
    from .triggers import scan_triggers as _scan

    return _scan()
