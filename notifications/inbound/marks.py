"""Addresses mail cannot reach: read by the outbox door and the send-time check, written by the
bounce and complaint handlers, cleared by an administrator or by a new address.

Reads are set-based: one query for a whole batch of addresses, whatever its size.
"""

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from lms_notify.bulk import is_postgresql

from .models import UndeliverableAddress

# The reason code of messages omitted or cancelled because of a mark (notifications.recipients.Reason).
UNDELIVERABLE = "undeliverable"


def normalise(address) -> str:
    return (address or "").strip().lower()


def undeliverable_among(addresses: Iterable[str]) -> set[str]:
    """The addresses of `addresses` (lower-cased) that are marked undeliverable."""
    wanted = {normalise(address) for address in addresses if address}
    if not wanted:
        return set()
    if is_postgresql():
        # One array parameter: a Notify run passes 100,000 addresses, beyond PostgreSQL's 65,535 parameters.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT address FROM {UndeliverableAddress._meta.db_table} WHERE address = ANY(%s)", [list(wanted)]
            )
            return {row[0] for row in cursor.fetchall()}
    found, ordered = set(), sorted(wanted)
    for start in range(0, len(ordered), 500):
        found.update(
            UndeliverableAddress.objects.filter(address__in=ordered[start : start + 500]).values_list(
                "address", flat=True
            )
        )
    return found


def mark(
    address, *, cause, learner_id=None, notification_id=None, status_code="", diagnostic="", inbound_id=None
) -> UndeliverableAddress:
    """Mark `address` undeliverable (a second report updates the first: the latest words win)."""
    values = {
        "learner_id": learner_id,
        "cause": cause,
        "status_code": status_code[:16],
        "diagnostic": diagnostic[:2000],
        "notification_id": notification_id,
        "inbound_id": inbound_id,
        "marked_at": timezone.now(),
    }
    # One INSERT ... ON CONFLICT DO UPDATE: no lock-then-write round trips, safe between concurrent receivers.
    (row,) = UndeliverableAddress.objects.bulk_create(
        [UndeliverableAddress(address=normalise(address), **values)],
        update_conflicts=True,
        unique_fields=["address"],
        update_fields=list(values),
    )
    return row


def clear(marks) -> int:
    """Lift marks (an administrator's button, or the learner's address changed); returns how many."""
    deleted, _ = UndeliverableAddress.objects.filter(pk__in=[getattr(m, "pk", m) for m in marks]).delete()
    return deleted


def clear_for_learner(learner_id, *, keep_address="") -> int:
    """The learner's address changed: marks of her other addresses no longer say anything about her."""
    deleted, _ = (
        UndeliverableAddress.objects.filter(learner_id=learner_id).exclude(address=normalise(keep_address)).delete()
    )
    return deleted
