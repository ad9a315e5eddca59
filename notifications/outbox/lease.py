"""What a dispatch worker holds, for how long, and how it survives a dropped database connection.

A worker claims a batch for a short lease (OUTBOX_CLAIM_SECONDS, 60 s by
default) and renews it while it works through the batch, so a crashed
worker's rows are free again within about a minute while a live worker,
however slow its SMTP server, keeps them. Renewing is a compare-and-set on
the lease the worker stamped: a row another worker has taken meanwhile no
longer carries it and is dropped from the batch, never sent twice.

A database connection may drop at any time (restart, failover,
`pg_terminate_backend`). The few writes that must not be lost — recording
that the SMTP server accepted a message, handing unsent rows back — close the
broken connection and retry on a fresh one with a short backoff.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F
from django.utils import timezone

from ..models import Notification

logger = logging.getLogger(__name__)

Status = Notification.Status

# What a lost connection raises; anything else is a real error, not retried.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
# Seconds to wait before each retry on a fresh connection (about 4 s in all): long enough for a
# terminated backend or a restarting pooler, short enough for the lease.
RECONNECT_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0)
# Handing rows back runs after whatever ended the batch, often on a connection already gone.
RELEASE_DELAYS = (0, 0.2, 0.5, 1.0, 2.0)


def lease_length() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)


def drop_connection():
    """Close this thread's database connection so the next query opens a fresh one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is gone either way
        pass


def on_fresh_connection(operation, *, what: str, delays=None):
    """Run `operation()`; if the connection was lost, retry on a fresh one a few times.

    Inside a transaction there is nothing to retry (the transaction is gone with its
    connection), so the error goes up unchanged.
    """
    for delay in (*(RECONNECT_DELAYS if delays is None else delays), None):
        try:
            return operation()
        except CONNECTION_ERRORS as exc:
            if delay is None or connection.in_atomic_block:
                raise
            logger.warning("Database connection lost while %s (%s); retrying on a fresh one", what, exc)
            drop_connection()
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class ClaimedBatch:
    rows: list[Notification]
    lease_until: datetime
    sent: int = 0
    # Rows taken back from this worker (its lease was not renewed): never sent by it.
    lost: set[int] = field(default_factory=set)

    @property
    def margin(self) -> timedelta:
        # Stop sending well before the lease ends: past it, another worker may take the rows.
        return min(timedelta(seconds=30), lease_length() / 10)

    @property
    def safe_until(self):
        return self.lease_until - self.margin

    @property
    def renew_at(self):
        return self.lease_until - lease_length() / 2

    def keep(self, pending) -> bool:
        """Renew the lease on the rows still to send (half of it is gone); False when it cannot be kept."""
        now = timezone.now()
        pks = [row.pk for row in pending if row.pk not in self.lost]
        lease_until = now + lease_length()
        held = renew(pks, old_lease=self.lease_until, new_lease=lease_until)
        if len(held) < len(pks):
            self.lost.update(set(pks) - held)
            logger.warning("Outbox lease: %s rows were taken back before this worker renewed it", len(pks) - len(held))
        self.lease_until = lease_until
        return timezone.now() < self.safe_until


def renew(pks, *, old_lease, new_lease) -> set[int]:
    """Extend the lease on the rows that still carry ours; the pks renewed (RETURNING: exactly those)."""
    if connection.vendor != "postgresql":
        # SQLite (development): one writer at a time, no RETURNING needed.
        rows = Notification.objects.filter(pk__in=pks, status=Status.QUEUED, claimed_until=old_lease)
        held = set(rows.values_list("pk", flat=True))
        rows.filter(pk__in=held).update(claimed_until=new_lease)
        return held
    meta = Notification._meta
    quote = connection.ops.quote_name
    claimed, status = (quote(meta.get_field(name).column) for name in ("claimed_until", "status"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {claimed} = %s "
            f"WHERE {quote(meta.pk.column)} = ANY(%s) AND {status} = %s AND {claimed} = %s "
            f"RETURNING {quote(meta.pk.column)}",
            [new_lease, list(pks), Status.QUEUED.value, old_lease],
        )
        return {pk for (pk,) in cursor.fetchall()}


def release_rows(rows, *, lease_until):
    """Hand unsent rows back to the queue at once (they were claimed, not tried)."""
    return Notification.objects.filter(pk__in=[row.pk for row in rows], claimed_until=lease_until).update(
        claimed_until=None, attempts=F("attempts") - 1
    )


def give_back(rows, *, lease_until):
    """After an error ends a batch: release what it did not try, on a fresh connection if need be.

    Never raises: the error that ended the batch is the one worth reporting; rows that
    could not be released are free again when their lease ends anyway.
    """
    if not rows:
        return 0
    try:
        released = on_fresh_connection(
            lambda: release_rows(rows, lease_until=lease_until), what="releasing rows", delays=RELEASE_DELAYS
        )
    except Exception:
        logger.exception("Could not release %s claimed rows; they are free again when the lease ends", len(rows))
        return 0
    logger.info("Outbox batch ended early: %s unsent rows released", released)
    return released
