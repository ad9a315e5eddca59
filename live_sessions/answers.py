"""What a learner hears about her own request: waiting for approval, the approver's decision, her
place on the waiting list. Drafts for the door (`notifications.services.send_all`), one per change of status:
the StatusChange that caused it names the occurrence, so a learner who asks again hears again.

Nothing here promises a place that is not hers: a request waiting for approval carries no calendar
invitation; an approval carries it; a refusal cancels the one she was sent earlier, if any.
"""

from django.conf import settings

from notifications.models import Event, Notification
from notifications.services import draft

from . import ical
from .messages import learner_context, session_context
from .models import SessionLearner

Status = SessionLearner.Status

# Messages that put the session in the learner's calendar.
_CALENDAR_EVENTS = (
    Event.SESSION_INVITATION,
    Event.SESSION_RESCHEDULED,
    Event.PARTICIPATION_CONFIRMED,
    Event.SESSION_APPROVAL_GRANTED,
)


def _draft(event, session, session_learner, change_pk, *, expect, context=None, attachments=None):
    learner = session_learner.learner
    return draft(
        event,
        about=learner,
        occurrence=f"sl{session_learner.pk}:change{change_pk}",
        context={"learner": learner_context(learner), "session": session_context(session), **(context or {})},
        refs={"session_learner": session_learner.pk, "expect": list(expect)},
        session=session,
        attachments=attachments,
    )


def approval_pending(session, session_learner, change_pk):
    return _draft(Event.SESSION_APPROVAL_PENDING, session, session_learner, change_pk, expect=[Status.NEEDS_APPROVAL])


def approval_granted(session, session_learner, change_pk):
    calendar = ical.SessionCalendar(session)
    return _draft(
        Event.SESSION_APPROVAL_GRANTED,
        session,
        session_learner,
        change_pk,
        expect=[Status.REGISTERED],
        context={"calendar_attached": True},
        attachments=[calendar.attachment_for(session_learner.learner)],
    )


def calendar_was_sent(session_learner) -> bool:
    """Whether a message carrying the session's calendar invitation went (or is going) to this learner."""
    return (
        Notification.objects.filter(context__session_learner=session_learner.pk, event__in=_CALENDAR_EVENTS)
        .exclude(status__in=[Notification.Status.OMITTED, Notification.Status.CANCELLED])
        .exclude(attachments=[])
        .exists()
    )


def approval_refused(session, session_learner, change_pk):
    cancel = calendar_was_sent(session_learner)
    attachments = []
    if cancel:
        calendar = ical.SessionCalendar(session, method=ical.CANCEL)
        attachments = [calendar.attachment_for(session_learner.learner)]
    return _draft(
        Event.SESSION_APPROVAL_REFUSED,
        session,
        session_learner,
        change_pk,
        expect=[Status.APPROVAL_DECLINED],
        context={"calendar_cancelled": cancel},
        attachments=attachments,
    )


def waiting_list_joined(session, session_learner, change_pk, *, position, approved=False):
    return _draft(
        Event.SESSION_WAITING_LIST_JOINED,
        session,
        session_learner,
        change_pk,
        expect=[Status.WAITING_LIST],
        context={"position": position, "approved": approved, "offer_hours": settings.WAITING_LIST_OFFER_HOURS},
    )


def offer_expired(session, session_learner, change_pk):
    """The place offered to her from the waiting list was not taken in time and passed to the next learner."""
    return _draft(
        Event.SESSION_OFFER_EXPIRED,
        session,
        session_learner,
        change_pk,
        expect=[Status.DECLINED],
        context={"offer_hours": settings.WAITING_LIST_OFFER_HOURS},
    )
