"""Date-choice reminders (seed 002 §III-B): 7 and 14 days after the request, while the learner has not chosen.

Each reminder is queued once (the dedupe key names the stage); an answer ends them, and the send-time check
(live_sessions.sendchecks) cancels one queued before the answer. A stage is due from its day until the next
one's, so a reminder whose day passed while the worker was down is not sent late once the next is due; the
last stays due for CATCH_UP_DAYS. Only sessions still open for registration are offered again.
"""

from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from notifications.models import Event
from notifications.services import Origin, register_scanner, send_all

from . import messages
from .models import LiveSession, ParticipationRequest

REMINDER_DAYS = (7, 14)
CATCH_UP_DAYS = 7


def due_stage(created_at, now) -> int | None:
    elapsed = now - created_at
    due = [days for days in REMINDER_DAYS if elapsed >= timedelta(days=days)]
    if not due or elapsed >= timedelta(days=REMINDER_DAYS[-1] + CATCH_UP_DAYS):
        return None
    return due[-1]


@register_scanner
def scan_participation_reminders() -> int:
    """Queue the date-choice reminders due now: a fixed number of queries whatever the number of requests."""
    now = timezone.now()
    open_sessions = LiveSession.objects.filter(status=LiveSession.Status.READY, starts_at__gt=now).order_by("starts_at")
    pending = (
        ParticipationRequest.objects.filter(
            status=ParticipationRequest.Status.PENDING,
            created_at__lte=now - timedelta(days=REMINDER_DAYS[0]),
            created_at__gt=now - timedelta(days=REMINDER_DAYS[-1] + CATCH_UP_DAYS),
            learner__is_active=True,
        )
        .select_related("learner", "training_request__course")
        .prefetch_related(Prefetch("sessions", queryset=open_sessions, to_attr="open_sessions"))
    )
    reminders = []
    for request in pending:
        stage = due_stage(request.created_at, now)
        if stage is None or not request.open_sessions:
            continue
        reminders.append(
            messages.participation_request_message(
                request,
                request.open_sessions,
                event=Event.PARTICIPATION_REMINDER,
                occurrence=f"pr{request.pk}:d{stage}",
            )
        )
    if not reminders:
        return 0
    return len(send_all(reminders, origin=Origin.SYSTEM, return_rows=False))


@register_scanner
def scan_expired_waiting_list_offers() -> int:
    """A place offered from the waiting list and not taken within WAITING_LIST_OFFER_HOURS passes to
    the next learner; returns how many were offered a place (one invitation each)."""
    from .services import expire_offers

    return len(expire_offers())
