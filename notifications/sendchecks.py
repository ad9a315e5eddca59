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
`<app>/sendchecks.py` (discovered automatically) or any module imported at
start-up.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.utils.module_loading import autodiscover_modules

SendCheck = Callable[[list], dict[int, str]]

logger = logging.getLogger(__name__)

_CHECKS: dict[str, list[SendCheck]] = defaultdict(list)
_discovered = False


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


def _discover():
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("sendchecks")


class RecipientReason:
    NO_CONSENT = "no_consent"
    INACTIVE = "inactive"
    GUARDIAN_DISABLED = "guardian_disabled"


def recipient_reasons(notifications) -> dict[int, str]:
    """Consent and active state of each recipient as it is now (seed 004: nothing is sent
    without consent). Reads the related rows loaded with the claimed batch, so it costs
    no query per message."""
    reasons = {}
    for row in notifications:
        guardian = row.recipient_guardian if row.recipient_guardian_id else None
        learner = row.recipient_learner if row.recipient_learner_id else None
        if guardian is not None:
            learner = guardian.learner
        if guardian is not None and not guardian.is_enabled:
            reasons[row.pk] = RecipientReason.GUARDIAN_DISABLED
        elif learner is not None and not learner.is_active:
            reasons[row.pk] = RecipientReason.INACTIVE
        elif learner is not None and learner.consent_given_at is None:
            reasons[row.pk] = RecipientReason.NO_CONSENT
        elif learner is None and guardian is None and row.recipient_user_id and not row.recipient_user.is_active:
            reasons[row.pk] = RecipientReason.INACTIVE
    return reasons


def cancellation_reasons(notifications) -> tuple[dict[int, str], dict[int, str]]:
    """Why each no-longer-relevant row must not be sent: recipient checks first, then one
    call per event of the batch to its registered checks.

    Returns (reasons, errors): a check that raises does not decide anything, so its rows
    are reported in `errors` (to be retried later) rather than sent or cancelled blindly.
    """
    _discover()
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


# --- Checks owned by the notifications app ----------------------------------


@register_send_check("invitation.reminder")
@register_send_check("notify.invitation")
def invitation_still_pending(notifications) -> dict[int, str]:
    """An invitation reminder is pointless once the learner accepted or declined (seed 002, seed 000)."""
    from learners.models import Invitation

    wanted = {}
    for row in notifications:
        invitation_id = (row.context or {}).get("invitation")
        if invitation_id is not None:
            wanted[row.pk] = int(invitation_id)
    if not wanted:
        return {}
    statuses = dict(Invitation.objects.filter(pk__in=set(wanted.values())).values_list("pk", "status"))
    reasons = {}
    for pk, invitation_id in wanted.items():
        status = statuses.get(invitation_id)
        if status is None:
            reasons[pk] = "invitation_deleted"
        elif status != Invitation.Status.PENDING:
            reasons[pk] = f"invitation_{status}"
    return reasons


@register_send_check("inbox.new_message")
def inbox_message_still_unread(notifications) -> dict[int, str]:
    """No need to email about a system message the recipient has already read (seed 004)."""
    from .models import Notification

    wanted = {row.pk: (row.context or {}).get("inbox_message") for row in notifications}
    ids = {int(pk) for pk in wanted.values() if pk is not None}
    if not ids:
        return {}
    read = set(Notification.objects.filter(pk__in=ids, read_at__isnull=False).values_list("pk", flat=True))
    return {pk: "already_read" for pk, inbox_pk in wanted.items() if inbox_pk is not None and int(inbox_pk) in read}
