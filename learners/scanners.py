"""Invitation reminders (seed 002 §I): 7 and 45 days after the invitation, while it is unanswered.

Only emailed invitations (manual ones with `sent_at`) are reminded: learners
created by a file import or the HR integration got no invitation email and get
no reminder. Each reminder is queued once (its dedupe key names the stage); the
send-time check cancels it if the learner answered after it was queued.

A stage is due from its day until the next stage's day, so a reminder whose day
passed while the worker was down is not sent late once the next one is due; the
last stage stays due for CATCH_UP_DAYS.
"""

from datetime import timedelta

from django.utils import timezone

from notifications.models import Event
from notifications.services import Origin, register_scanner, send_all

from .models import Invitation
from .services import invitation_message

REMINDER_DAYS = (7, 45)
CATCH_UP_DAYS = 30


def due_stage(sent_at, now) -> int | None:
    """The reminder (days after the invitation) due at `now`, or None."""
    elapsed = now - sent_at
    due = [days for days in REMINDER_DAYS if elapsed >= timedelta(days=days)]
    if not due or elapsed >= timedelta(days=REMINDER_DAYS[-1] + CATCH_UP_DAYS):
        return None
    return due[-1]


@register_scanner
def scan_invitation_reminders() -> int:
    """Queue the invitation reminders due now; a fixed number of queries whatever the number of learners."""
    now = timezone.now()
    pending = Invitation.objects.filter(
        status=Invitation.Status.PENDING,
        source=Invitation.Source.MANUAL,
        sent_at__lte=now - timedelta(days=REMINDER_DAYS[0]),
        sent_at__gt=now - timedelta(days=REMINDER_DAYS[-1] + CATCH_UP_DAYS),
        learner__is_active=True,
    ).select_related("learner")
    messages = []
    for invitation in pending:
        stage = due_stage(invitation.sent_at, now)
        if stage is not None:
            messages.append(
                invitation_message(
                    invitation, event=Event.INVITATION_REMINDER, occurrence=f"inv{invitation.pk}:d{stage}"
                )
            )
    if not messages:
        return 0
    return len(send_all(messages, origin=Origin.SYSTEM, return_rows=False))
