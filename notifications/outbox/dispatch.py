"""The dispatcher: sends what the outbox holds, exactly once, from any number of workers.

How exactly-once holds (foundation issue):

1. Claim: a short transaction picks due rows with SELECT ... FOR UPDATE SKIP
   LOCKED, stamps them `claimed_until = now + OUTBOX_CLAIM_SECONDS` (the lease)
   and commits. Another worker skips rows locked by the claim and, once it
   commits, no longer matches them (the lease is in the future).
2. Send: outside any transaction, each row is sent and marked `sent` right
   away, so a worker that dies leaves at most the one in-flight message
   unmarked. Its batch is claimed again when the lease expires; the in-flight
   message is then sent a second time with the same Message-ID (recipients'
   mail systems can recognise it), every other row exactly once.
3. A worker never sends a row whose lease is about to expire: it hands the
   rest of its batch back instead, so a slow worker cannot overlap another.

Before sending, each batch goes through the send-time checks
(notifications.outbox.sendchecks): rows that are no longer relevant, or whose
recipient withdrew consent, end `cancelled` with the reason.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Case, Count, F, Min, Q, Value, When
from django.utils import timezone

from ..links import inbox_link
from ..models import Channel, Event, Notification, NotificationRule
from ..recipients import Recipient
from .channels import EmailChannel, PermanentSendError, SmsChannel
from .enqueue import OutgoingMessage, enqueue
from .sendchecks import cancellation_reasons
from .wakeup import request_dispatch

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
Status = Notification.Status


@dataclass
class ClaimedBatch:
    rows: list[Notification]
    lease_until: datetime

    @property
    def safe_until(self):
        # Stop sending well before the lease ends: past it, another worker may take the rows.
        margin = min(timedelta(seconds=30), timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS) / 10)
        return self.lease_until - margin


def dispatch_outbox(*, limit=None) -> int:
    """Send queued messages that are due; returns how many were sent.

    `limit` caps how many rows this call claims (sent, cancelled or failed
    alike); None means until nothing due is left. Safe to run from several
    workers at once.
    """
    batch_size = max(1, int(settings.OUTBOX_BATCH_SIZE))
    handled = sent = 0
    while limit is None or handled < limit:
        size = batch_size if limit is None else min(batch_size, limit - handled)
        batch = claim_batch(size=size)
        if not batch.rows:
            break
        handled += len(batch.rows)
        sent += send_batch(batch)
    return sent


def due_queryset(now):
    return Notification.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def claim_batch(*, size) -> ClaimedBatch:
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    with transaction.atomic():
        pks = list(
            due_queryset(now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:size]
        )
        if not pks:
            return ClaimedBatch(rows=[], lease_until=lease_until)
        Notification.objects.filter(pk__in=pks).update(
            claimed_until=lease_until, attempts=F("attempts") + 1, last_attempt_at=now
        )
    # Read after the claim commits: the recipients' consent and state are as of now,
    # which is what the send-time checks need.
    rows = list(
        Notification.objects.filter(pk__in=pks, claimed_until=lease_until)
        .select_related("recipient_learner", "recipient_guardian__learner", "recipient_user")
        .order_by("next_attempt_at", "pk")
    )
    return ClaimedBatch(rows=rows, lease_until=lease_until)


def send_batch(batch: ClaimedBatch) -> int:
    reasons, check_errors = cancellation_reasons(batch.rows)
    if reasons:
        cancel_rows(reasons)
    for row in batch.rows:
        if row.pk in check_errors:
            record_failure(row, RuntimeError(check_errors[row.pk]))
    ready = [row for row in batch.rows if row.pk not in reasons and row.pk not in check_errors]
    sent = deliver_inbox([row for row in ready if row.channel == Channel.INBOX])
    outgoing = [row for row in ready if row.channel != Channel.INBOX]
    channels = {Channel.EMAIL: EmailChannel(), Channel.SMS: SmsChannel()}
    try:
        for index, row in enumerate(outgoing):
            if timezone.now() >= batch.safe_until:
                release_rows(outgoing[index:], lease_until=batch.lease_until)
                break
            channel = channels.get(row.channel)
            try:
                if channel is None:
                    raise PermanentSendError(f"Unknown channel {row.channel!r}.")
                channel.send(row)
            except Exception as exc:
                logger.warning("Sending notification %s failed: %s", row.pk, exc)
                record_failure(row, exc)
                continue
            # No try/except here: if marking fails the row stays claimed and is resent,
            # same Message-ID, after the lease; that is the one allowed duplicate.
            mark_sent(row)
            sent += 1
    finally:
        for channel in channels.values():
            channel.close()
    logger.info(
        "Outbox batch: %s claimed, %s sent, %s cancelled, %s check errors",
        len(batch.rows),
        sent,
        len(reasons),
        len(check_errors),
    )
    return sent


def _mark_sent_sql():
    meta = Notification._meta
    column = {name: meta.get_field(name).column for name in ("status", "sent_at", "claimed_until", "last_error")}
    return (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {column['status']} = %s, {column['sent_at']} = %s, "
        f"{column['claimed_until']} = NULL, {column['last_error']} = '' "
        f"WHERE {meta.pk.column} = %s AND {column['status']} = %s"
    )


def mark_sent(row):
    """Record one message as sent, in its own committed statement, right after it left.

    Plain SQL because this runs once per message: building the same UPDATE through
    the ORM costs three times the CPU of executing it, and dispatch is CPU-bound.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_mark_sent_sql(), [Status.SENT.value, now, row.pk, Status.QUEUED.value])
    row.status, row.sent_at, row.claimed_until, row.last_error = Status.SENT, now, None, ""


def backoff(attempts) -> timedelta:
    """Wait before the next try: base * 2**(attempts-1), capped at MAX_BACKOFF."""
    exponent = min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=settings.OUTBOX_RETRY_BASE_SECONDS * 2**exponent), MAX_BACKOFF)


def record_failure(row, exc):
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    fields = {"claimed_until": None, "last_error": error}
    if isinstance(exc, PermanentSendError) or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields["status"] = Status.FAILED
    else:
        fields["next_attempt_at"] = now + backoff(row.attempts)
    Notification.objects.filter(pk=row.pk, status=Status.QUEUED).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


def cancel_rows(reasons: dict[int, str]):
    """End rows that are no longer relevant, each with its reason, in one statement."""
    Notification.objects.filter(pk__in=list(reasons), status=Status.QUEUED).update(
        status=Status.CANCELLED,
        claimed_until=None,
        # Not a send attempt: the admin shows how often sending was really tried.
        attempts=F("attempts") - 1,
        reason=Case(
            *[When(pk=pk, then=Value(reason[:64])) for pk, reason in reasons.items()],
            default=Value(""),
            output_field=models.CharField(),
        ),
    )


def release_rows(rows, *, lease_until):
    """Hand unsent rows back to the queue (they were claimed, not tried)."""
    Notification.objects.filter(pk__in=[row.pk for row in rows], claimed_until=lease_until).update(
        claimed_until=None, attempts=F("attempts") - 1
    )


# --- Inbox -----------------------------------------------------------------


def inbox_url(notification) -> str:
    """Where the recipient reads an inbox message: a link that signs them in (seed 004: valid 7 days)."""
    return inbox_link(notification)


def deliver_inbox(rows) -> int:
    """An inbox message is delivered by marking its row sent: the row is what the recipient reads.

    Each recipient with an email address and consent also gets an `inbox.new_message`
    email with a link to read it (seed 004). Delivery and that email are one transaction,
    so neither exists without the other.
    """
    if not rows:
        return 0
    now = timezone.now()
    with transaction.atomic():
        pks = list(
            Notification.objects.select_for_update()
            .filter(pk__in=[row.pk for row in rows], status=Status.QUEUED)
            .values_list("pk", flat=True)
        )
        if not pks:
            return 0
        Notification.objects.filter(pk__in=pks).update(
            status=Status.SENT, sent_at=now, claimed_until=None, last_error=""
        )
        delivered = [row for row in rows if row.pk in set(pks)]
        alert = inbox_alert_policy()
        if alert is not None:
            messages = []
            for row in delivered:
                recipient = Recipient.of_notification(row)
                if recipient.ineligibility(Channel.EMAIL):
                    continue
                url = inbox_url(row)
                messages.append(
                    OutgoingMessage(
                        event=Event.INBOX_NEW_MESSAGE,
                        channel=Channel.EMAIL,
                        recipient=recipient,
                        occurrence=str(row.pk),
                        context={"inbox_url": url, "action_url": url, "message_subject": row.subject},
                        refs={"inbox_message": row.pk},
                        requires_confirmation=alert.requires_confirmation,
                        rule=alert.rule,
                    )
                )
            enqueue(messages)
    for row in delivered:
        row.status, row.sent_at, row.claimed_until = Status.SENT, now, None
    return len(delivered)


@dataclass
class InboxAlertPolicy:
    requires_confirmation: bool
    rule: NotificationRule | None


def inbox_alert_policy() -> InboxAlertPolicy | None:
    """Whether delivered inbox messages are announced by email.

    Without any `inbox.new_message` rule they always are, at once (seed 004); an
    administrator can add a rule to require confirmation, or disable it to stop them.
    """
    rules = list(NotificationRule.objects.filter(event=Event.INBOX_NEW_MESSAGE).order_by("pk"))
    if not rules:
        return InboxAlertPolicy(requires_confirmation=False, rule=None)
    for rule in rules:
        if rule.is_enabled and Channel.EMAIL in (rule.channels or []):
            return InboxAlertPolicy(requires_confirmation=rule.requires_confirmation, rule=rule)
    return None


# --- Monitoring ------------------------------------------------------------


@dataclass
class OutboxHealth:
    queued: int
    queued_due: int
    retrying: int
    awaiting_confirmation: int
    oldest_due_at: datetime | None
    failures_last_hour: int
    now: datetime

    @property
    def oldest_due_age(self) -> timedelta:
        return self.now - self.oldest_due_at if self.oldest_due_at else timedelta(0)


def outbox_health(*, now=None) -> OutboxHealth:
    """The backlog in one query (for `manage.py outbox_status` and monitoring)."""
    now = now or timezone.now()
    queued = Q(status=Status.QUEUED)
    due = queued & Q(next_attempt_at__lte=now)
    stats = Notification.objects.filter(
        status__in=[Status.QUEUED, Status.AWAITING_CONFIRMATION, Status.FAILED]
    ).aggregate(
        queued=Count("pk", filter=queued),
        queued_due=Count("pk", filter=due),
        retrying=Count("pk", filter=queued & Q(attempts__gt=0) & ~Q(last_error="")),
        awaiting_confirmation=Count("pk", filter=Q(status=Status.AWAITING_CONFIRMATION)),
        oldest_due_at=Min("next_attempt_at", filter=due),
        failures_last_hour=Count("pk", filter=Q(status=Status.FAILED, last_attempt_at__gte=now - timedelta(hours=1))),
    )
    return OutboxHealth(now=now, **stats)


# --- Administrator actions -------------------------------------------------


def _not_in_flight(now):
    # A row a worker holds right now may be on the wire: touching it could send it twice.
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def retry_now(notifications, *, actor=None) -> int:
    """Failed or queued messages go (back) to the front of the queue with a fresh attempt count."""
    now = timezone.now()
    pks = [n.pk if isinstance(n, Notification) else n for n in notifications]
    with transaction.atomic():
        count = (
            Notification.objects.filter(pk__in=pks, status__in=[Status.FAILED, Status.QUEUED])
            .filter(_not_in_flight(now))
            .update(status=Status.QUEUED, next_attempt_at=now, attempts=0, claimed_until=None)
        )
        if count:
            transaction.on_commit(request_dispatch, robust=True)
    return count


def cancel(notifications, *, actor=None, reason="cancelled_by_admin") -> int:
    """Messages not yet sent (queued or awaiting confirmation) will never be sent."""
    now = timezone.now()
    pks = [n.pk if isinstance(n, Notification) else n for n in notifications]
    return (
        Notification.objects.filter(pk__in=pks, status__in=[Status.QUEUED, Status.AWAITING_CONFIRMATION])
        .filter(_not_in_flight(now))
        .update(status=Status.CANCELLED, reason=reason[:64], claimed_until=None)
    )


def cancel_waiting_for_learners(learners, *, reason="consent_withdrawn") -> int:
    """What still waits for these learners (queued or awaiting confirmation, to them or to their guardians)
    will never be sent: one statement whatever the number of learners. A row a worker holds right now is
    left to the send-time checks, which read the learner's consent as it is when it is sent."""
    now = timezone.now()
    return (
        Notification.objects.filter(
            Q(recipient_learner__in=learners) | Q(recipient_guardian__learner__in=learners),
            status__in=[Status.QUEUED, Status.AWAITING_CONFIRMATION],
        )
        .filter(_not_in_flight(now))
        .update(status=Status.CANCELLED, reason=reason[:64], claimed_until=None)
    )
