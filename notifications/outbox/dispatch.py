"""The dispatcher: sends what the outbox holds, exactly once, from any number of workers.

How exactly-once holds:

1. Claim: a short transaction picks due rows with SELECT ... FOR UPDATE SKIP
   LOCKED, stamps them `claimed_until = now + OUTBOX_CLAIM_SECONDS` (the lease,
   60 s by default) and commits. Another worker skips rows locked by the claim
   and, once it commits, no longer matches them (the lease is in the future).
   The worker renews its lease as the batch progresses (`lease.ClaimedBatch.keep`).
2. Send: outside any transaction, each row is sent and marked `sent` right
   away; the mark survives a dropped database connection (retried on a fresh
   one). Only a dead process leaves a delivered row unmarked: its batch is
   claimed again when the short lease expires, the in-flight message is then
   sent a second time with the same Message-ID (recipients' mail systems can
   recognise it), every other row exactly once.
3. Any error that ends a batch hands back the rows it had not tried, at once
   (in a `finally`, on a fresh connection), so the next worker sends them
   without waiting for the lease. A worker that loses its database connection
   carries on with a fresh one, a few times per call.
4. A worker never sends a row whose lease it could not renew: it hands the
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
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..links import as_it_leaves, inbox_link
from ..models import Channel, Event, Notification, NotificationRule
from ..recipients import Recipient
from .channels import EmailChannel, PermanentSendError, SmsChannel
from .enqueue import OutgoingMessage, enqueue
from .lease import (
    CONNECTION_ERRORS,
    ClaimedBatch,
    drop_connection,
    give_back,
    lease_length,
    on_fresh_connection,
)
from .sendchecks import cancellation_reasons
from .wakeup import request_dispatch

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
Status = Notification.Status


# Batches a call may lose to a dropped database connection before it gives up.
MAX_LOST_CONNECTIONS = 3


def dispatch_outbox(*, limit=None) -> int:
    """Send queued messages that are due; returns how many were sent.

    `limit` caps how many rows this call claims (sent, cancelled or failed
    alike); None means until nothing due is left. Safe to run from several
    workers at once.
    """
    batch_size = max(1, int(settings.OUTBOX_BATCH_SIZE))
    handled = sent = lost_connections = 0
    while limit is None or handled < limit:
        size = batch_size if limit is None else min(batch_size, limit - handled)
        batch = None
        try:
            batch = claim_batch(size=size)
            if not batch.rows:
                break
            handled += len(batch.rows)
            send_batch(batch)
        except CONNECTION_ERRORS as exc:
            # The batch gave back what it had not tried; carry on with a fresh connection
            # rather than leave the rest to the next schedule.
            lost_connections += 1
            if connection.in_atomic_block or lost_connections > MAX_LOST_CONNECTIONS:
                raise
            logger.warning("Outbox batch ended by a lost database connection (%s); continuing", exc)
            drop_connection()
        finally:
            sent += batch.sent if batch is not None else 0
    return sent


def due_queryset(now):
    return Notification.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def claim_batch(*, size) -> ClaimedBatch:
    now = timezone.now()
    lease_until = now + lease_length()
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
    try:
        rows = list(
            Notification.objects.filter(pk__in=pks, claimed_until=lease_until)
            .select_related("recipient_learner", "recipient_guardian__learner", "recipient_user")
            .order_by("next_attempt_at", "pk")
        )
    except BaseException:
        give_back([Notification(pk=pk) for pk in pks], lease_until=lease_until)
        raise
    return ClaimedBatch(rows=rows, lease_until=lease_until)


def send_batch(batch: ClaimedBatch) -> int:
    # Claimed and not yet settled (sent, failed, cancelled): handed back if the batch ends early.
    untried = {row.pk: row for row in batch.rows}
    reasons, check_errors = {}, {}
    channels = {Channel.EMAIL: EmailChannel(), Channel.SMS: SmsChannel()}
    try:
        reasons, check_errors = cancellation_reasons(batch.rows)
        if reasons:
            cancel_rows(reasons)
            for pk in reasons:
                untried.pop(pk, None)
        for row in batch.rows:
            if row.pk in check_errors:
                record_failure(row, RuntimeError(check_errors[row.pk]))
                untried.pop(row.pk)
        ready = [row for row in batch.rows if row.pk not in reasons and row.pk not in check_errors]
        inbox = [row for row in ready if row.channel == Channel.INBOX]
        batch.sent += deliver_inbox(inbox)
        for row in inbox:
            untried.pop(row.pk)
        outgoing = [row for row in ready if row.channel != Channel.INBOX]
        renew_at = batch.renew_at
        for index, row in enumerate(outgoing):
            if timezone.now() >= renew_at:
                pending = outgoing[index:]
                if not on_fresh_connection(lambda pending=pending: batch.keep(pending), what="renewing the lease"):
                    break
                renew_at = batch.renew_at
            if row.pk in batch.lost:
                untried.pop(row.pk)
                continue
            # From here the server may have the message: the row is never handed back for an
            # immediate resend, only marked. If even a fresh connection cannot mark it (or the
            # worker is stopped mid-send), it stays claimed and goes again, same Message-ID,
            # when the lease ends: the one allowed duplicate.
            untried.pop(row.pk)
            channel = channels.get(row.channel)
            try:
                if channel is None:
                    raise PermanentSendError(f"Unknown channel {row.channel!r}.")
                # Her own signed link goes in as the message leaves: the stored row never holds it.
                channel.send(as_it_leaves(row))
            except Exception as exc:
                logger.warning("Sending notification %s failed: %s", row.pk, exc)
                on_fresh_connection(lambda row=row, exc=exc: record_failure(row, exc), what="recording a failure")
                continue
            on_fresh_connection(lambda row=row: mark_sent(row), what="recording a sent message")
            batch.sent += 1
    finally:
        for channel in channels.values():
            channel.close()
        give_back(list(untried.values()), lease_until=batch.lease_until)
    logger.info(
        "Outbox batch: %s claimed, %s sent, %s cancelled, %s check errors",
        len(batch.rows),
        batch.sent,
        len(reasons),
        len(check_errors),
    )
    return batch.sent


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


# --- Inbox -----------------------------------------------------------------


def inbox_url(notification) -> str:
    """Where the recipient reads an inbox message: a link that signs them in (seed 004: valid 7 days)."""
    return inbox_link(notification)


def deliver_inbox(rows) -> int:
    """An inbox message is delivered by marking its row sent: the row is what the recipient reads.

    Each recipient with an email address and consent also gets an `inbox.new_message`
    email with a link to read it (seed 004), unless the same occurrence of the event goes (or
    went) to them by email already: one thing, one email. Delivery and that email
    are one transaction, so neither exists without the other.
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
            emailed = _emailed_already(delivered)
            for row in delivered:
                if row.pk in emailed:
                    continue
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


# An email of the same occurrence in one of these states reaches (or reached, or will reach) the reader.
_EMAIL_GOES = (Status.AWAITING_CONFIRMATION, Status.QUEUED, Status.SENT, Status.FAILED)


def _emailed_already(rows) -> set[int]:
    """The pks of inbox rows whose reader gets the same occurrence by email: their twin row, whose dedupe
    key differs only by its channel, is in the outbox and not omitted or cancelled. One query."""
    twins = {}
    for row in rows:
        parts = row.dedupe_key.split(":", 3)
        if len(parts) == 4 and parts[2] == Channel.INBOX:
            parts[2] = Channel.EMAIL
            twins[":".join(parts)] = row.pk
    if not twins:
        return set()
    found = Notification.objects.filter(dedupe_key__in=list(twins), status__in=_EMAIL_GOES)
    return {twins[key] for key in found.values_list("dedupe_key", flat=True)}


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
    # Rows a worker holds now, those it has held longer than expected, those a dead worker left.
    claimed: int
    claimed_too_long: int
    lease_expired: int
    oldest_queued_at: datetime | None
    now: datetime

    @property
    def oldest_due_age(self) -> timedelta:
        return self.now - self.oldest_due_at if self.oldest_due_at else timedelta(0)

    @property
    def oldest_queued_age(self) -> timedelta:
        return self.now - self.oldest_queued_at if self.oldest_queued_at else timedelta(0)


def outbox_health(*, now=None, claimed_for=timedelta(minutes=5)) -> OutboxHealth:
    """The backlog in one query (for `manage.py outbox_status` and monitoring).

    `claimed_for`: how long a worker may hold a row (its claim renewed) before it counts as
    claimed too long; a healthy batch takes seconds.
    """
    now = now or timezone.now()
    queued = Q(status=Status.QUEUED)
    held = queued & Q(claimed_until__gt=now)
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
        claimed=Count("pk", filter=held),
        claimed_too_long=Count("pk", filter=held & Q(last_attempt_at__lt=now - claimed_for)),
        lease_expired=Count("pk", filter=queued & Q(claimed_until__lte=now)),
        # A confirmed message was queued when it was confirmed, not when it was written.
        oldest_queued_at=Min(Coalesce("confirmed_at", "created_at"), filter=queued),
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
        Notification.objects.waiting()
        .filter(pk__in=pks)
        .filter(_not_in_flight(now))
        .update(status=Status.CANCELLED, reason=reason[:64], claimed_until=None)
    )


def cancel_waiting_for_learners(learners, *, reason="consent_withdrawn") -> int:
    """What still waits for these learners (queued or awaiting confirmation, to them or to their guardians)
    will never be sent: one statement whatever the number of learners. A row a worker holds right now is
    left to the send-time checks, which read the learner's consent as it is when it is sent."""
    now = timezone.now()
    return (
        Notification.objects.waiting()
        .filter(Q(recipient_learner__in=learners) | Q(recipient_guardian__learner__in=learners))
        .filter(_not_in_flight(now))
        .update(status=Status.CANCELLED, reason=reason[:64], claimed_until=None)
    )
