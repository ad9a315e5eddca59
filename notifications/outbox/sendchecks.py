"""Send-time checks: is a claimed message still worth sending?

A reminder queued yesterday may be pointless today: the learner answered the
invitation, the session was cancelled, the program completed. Each feature
registers a check for its events::

    @register_send_check("invitation.reminder")
    def invitation_still_pending(notifications):
        ...
        return {notification.pk: "invitation_accepted", ...}

A check receives every claimed row of its event in one batch and must answer
with a fixed number of queries (set-based); rows it names end `cancelled`
with the reason in `Notification.reason`. Checks live in the feature's own
`<app>/sendchecks.py`, imported when the project starts (NotificationsConfig.ready
discovers them), or are registered explicitly in an AppConfig.ready().
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from ..inbound.marks import undeliverable_among
from ..models import Channel
from ..optout import UNSUBSCRIBED, applies_to, family_of, unsubscribed_among
from ..recipients import Reason, Recipient

SendCheck = Callable[[list], dict[int, str]]

logger = logging.getLogger(__name__)

_CHECKS: dict[str, list[SendCheck]] = defaultdict(list)


def register_send_check(event_code: str):
    """Decorator: run `check(notifications) -> {pk: reason}` before sending rows of `event_code`.

    Stack it to register one function for several events.
    """

    def decorator(func):
        if func not in _CHECKS[event_code]:
            _CHECKS[event_code].append(func)
        return func

    return decorator


def checks_for(event_code: str) -> list[SendCheck]:
    return list(_CHECKS.get(event_code, ()))


def recipient_reasons(notifications) -> dict[int, str]:
    """Consent and active state of each recipient as it is now (seed 004: nothing is sent
    without consent), decided by the same Recipient.ineligibility as enqueue. Reads the related
    rows loaded with the claimed batch, so it costs no query per message."""
    reasons = {}
    for row in notifications:
        reason = Recipient.of_notification(row).ineligibility()
        if reason:
            reasons[row.pk] = reason
    # An address that bounced for good since the row was queued: one query for the batch.
    emails = [row for row in notifications if row.channel == Channel.EMAIL and row.pk not in reasons and row.to]
    blocked = undeliverable_among(row.to for row in emails)
    reasons.update((row.pk, Reason.UNDELIVERABLE) for row in emails if row.to.lower() in blocked)
    # Left the optional family since the row was queued: one query, none without optional events.
    optional = [
        (row, (Recipient.key_of_notification(row), family_of(row.event)))
        for row in notifications
        if row.pk not in reasons and family_of(row.event) and applies_to(row.channel)
    ]
    if optional:
        left = unsubscribed_among(pair for _row, pair in optional)
        reasons.update((row.pk, UNSUBSCRIBED) for row, pair in optional if pair in left)
    return reasons


def cancellation_reasons(notifications) -> tuple[dict[int, str], dict[int, str]]:
    """Why each no-longer-relevant row must not be sent: recipient checks first, then one
    call per event of the batch to its registered checks.

    Returns (reasons, errors): a check that raises does not decide anything, so its rows
    are reported in `errors` (to be retried later) rather than sent or cancelled blindly.
    """
    reasons = recipient_reasons(notifications)
    errors = {}
    by_event = defaultdict(list)
    for row in notifications:
        if row.pk not in reasons:
            by_event[row.event].append(row)
    for event, rows in by_event.items():
        for check in checks_for(event):
            remaining = [row for row in rows if row.pk not in reasons and row.pk not in errors]
            if not remaining:
                break
            try:
                found = check(remaining) or {}
            except Exception as exc:
                logger.exception("Send-time check %s failed for %s", getattr(check, "__name__", check), event)
                message = f"Send-time check failed: {type(exc).__name__}: {exc}"
                errors.update((row.pk, message) for row in remaining)
                continue
            for pk, reason in found.items():
                reasons.setdefault(pk, reason or "not_relevant")
    return reasons, errors
