"""Send-time checks for live-session messages (seed 003): a message whose reason has gone is cancelled.

Each message carries in its refs the session learner and the statuses it was
written for ("expect"): an invitation expects `invited`, an attendance
reminder `registered`, a cancellation notice `cancelled`... If by sending time
the learner's status is another one, they were removed from the session, or
the session was cancelled (for anything but the cancellation notice itself),
the message is not sent. One query for the whole batch.
"""

from notifications.models import Event
from notifications.services import register_send_check

from .models import LiveSession, ParticipationRequest, SessionLearner

SESSION_EVENTS = [
    Event.SESSION_INVITATION,
    Event.SESSION_RESCHEDULED,
    Event.SESSION_CANCELLED,
    Event.SESSION_REGISTRATION_FORM,
    Event.SESSION_ATTENDANCE_REMINDER,
    Event.SESSION_FOLLOW_UP,
    Event.SESSION_FEEDBACK_FORM,
    Event.SESSION_FEEDBACK_FORM_REMINDER,
    Event.SESSION_CUSTOM,
    Event.SESSION_WAITING_LEARNERS_INVITATION,
    Event.SESSION_APPROVAL_REQUEST,
    Event.PARTICIPATION_CONFIRMED,
    Event.SESSION_APPROVAL_PENDING,
    Event.SESSION_APPROVAL_GRANTED,
    Event.SESSION_APPROVAL_REFUSED,
    Event.SESSION_WAITING_LIST_JOINED,
    Event.SESSION_OFFER_EXPIRED,
]


def session_message_still_relevant(notifications) -> dict[int, str]:
    wanted = {}
    for row in notifications:
        refs = row.context or {}
        if refs.get("session_learner") is not None:
            wanted[row.pk] = (int(refs["session_learner"]), refs.get("expect") or [])
    if not wanted:
        return {}
    current = {
        pk: (status, session_status, answered)
        for pk, status, session_status, answered in SessionLearner.objects.filter(
            pk__in={pk for pk, _ in wanted.values()}
        ).values_list("pk", "status", "session__status", "feedback_answered_at")
    }
    by_pk = {row.pk: row for row in notifications}
    reasons = {}
    for pk, (session_learner_pk, expect) in wanted.items():
        if session_learner_pk not in current:
            reasons[pk] = "removed_from_session"
            continue
        status, session_status, answered = current[session_learner_pk]
        event = by_pk[pk].event
        if session_status == LiveSession.Status.CANCELLED and event != Event.SESSION_CANCELLED:
            reasons[pk] = "session_cancelled"
        elif expect and status not in expect:
            reasons[pk] = f"learner_now_{status}"[:64]
        elif event == Event.SESSION_FEEDBACK_FORM_REMINDER and answered is not None:
            reasons[pk] = "feedback_answered"
    return reasons


for _event in SESSION_EVENTS:
    register_send_check(_event)(session_message_still_relevant)


@register_send_check(Event.PARTICIPATION_REQUEST)
@register_send_check(Event.PARTICIPATION_REQUEST_AFTER_APPROVAL)
@register_send_check(Event.PARTICIPATION_REMINDER)
def participation_still_pending(notifications) -> dict[int, str]:
    """A date choice already answered (or withdrawn) needs no email (seed 002 §III-B)."""
    wanted = {
        row.pk: int(row.context["participation_request"])
        for row in notifications
        if (row.context or {}).get("participation_request") is not None
    }
    if not wanted:
        return {}
    statuses = dict(ParticipationRequest.objects.filter(pk__in=set(wanted.values())).values_list("pk", "status"))
    reasons = {}
    for pk, request_pk in wanted.items():
        status = statuses.get(request_pk)
        if status is None:
            reasons[pk] = "request_deleted"
        elif status != ParticipationRequest.Status.PENDING:
            reasons[pk] = f"request_{status}"
    return reasons
