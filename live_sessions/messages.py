"""The drafts of live-session messages (seed 003), with plain-value template contexts.

Each function returns drafts (`notifications.services.draft`) for the one door (`send_all`), which applies
the event's rules or its declared default: channels, recipients (guardians, the session's trainers),
confirmation, and each reader's language and time zone. Only the learner's copy carries her calendar file
and her action links (the door drops them from the others' copies).

Templates only ever see strings, numbers and dates (dicts of them), never a
model instance. Each message names, in its dedupe key occurrence, the session
learner and what tells repeats apart (the status change that caused it, the
calendar sequence, or the administrator's send id), and carries in `refs` the
statuses the send-time check (`live_sessions.sendchecks`) expects.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from notifications.models import Event
from notifications.services import OutgoingMessage, Recipient, draft, make_action_url, person_values, session_values

from . import ical
from .emails import EmailType
from .models import SessionLearner

Status = SessionLearner.Status

# Purposes of the action links (handlers in live_sessions/actions.py).
INVITATION_PURPOSE = "session_invitation"
APPROVAL_PURPOSE = "session_approval"
ATTENDANCE_PURPOSE = "session_attendance"
PLACE_PURPOSE = "session_place"
PARTICIPATION_PURPOSE = "participation_choice"
SURVEY_PURPOSE = "session_survey"


session_context = session_values


def learner_context(learner) -> dict:
    return {**person_values(learner), "email": learner.email}


def link_lifetime(session, *, now=None) -> timedelta:
    """Answer links stay valid at least until the session is over."""
    now = now or timezone.now()
    return max(timedelta(days=settings.ACTION_LINK_DAYS), session.ends_at - now + timedelta(days=1))


def _link(purpose, session_learner, recipient, lifetime):
    return make_action_url(purpose=purpose, obj=session_learner.pk, recipient=recipient, expires_in=lifetime)


def _refs(session_learner, expect):
    return {"session": session_learner.session_id, "session_learner": session_learner.pk, "expect": list(expect)}


def invitation_messages(session, invited, *, actor=None) -> list[OutgoingMessage]:
    """Calendar invitations (METHOD:REQUEST) with accept/decline links.

    `invited` is [(session_learner, status_change_pk)]: the change that made the learner invited names the
    occurrence, so a learner invited again later (e.g. from the waiting list) gets a new message.
    """
    now = timezone.now()
    lifetime = link_lifetime(session, now=now)
    base = session_context(session)
    calendar = ical.SessionCalendar(session, now=now)
    messages = []
    for session_learner, change_pk in invited:
        learner = session_learner.learner
        recipient = Recipient(learner=learner)
        url = _link(INVITATION_PURPOSE, session_learner, recipient, lifetime)
        from_waiting_list = session_learner.waiting_since is not None
        messages.append(
            draft(
                Event.SESSION_INVITATION,
                about=learner,
                occurrence=f"sl{session_learner.pk}:change{change_pk}",
                context={
                    "learner": learner_context(learner),
                    "session": base,
                    "action_url": url,
                    "accept_url": url,
                    "decline_url": url,
                    "from_waiting_list": from_waiting_list,
                },
                refs=_refs(session_learner, [Status.INVITED]),
                actor=actor,
                attachments=[calendar.attachment_for(learner)],
            )
        )
    return messages


def calendar_update_messages(
    session, session_learners, *, method, actor=None, admin_message="", cancellation_reason=""
) -> list[OutgoingMessage]:
    """The same invitation again with a higher SEQUENCE: a new date (REQUEST) or the session cancelled (CANCEL,
    with the administrator's reason)."""
    now = timezone.now()
    event = Event.SESSION_CANCELLED if method == ical.CANCEL else Event.SESSION_RESCHEDULED
    lifetime = link_lifetime(session, now=now)
    base = session_context(session)
    calendar = ical.SessionCalendar(session, method=method, now=now)
    messages = []
    for session_learner in session_learners:
        learner = session_learner.learner
        recipient = Recipient(learner=learner)
        context = {"learner": learner_context(learner), "session": base}
        if method == ical.REQUEST:
            context["admin_message"] = admin_message
            expect = [Status.INVITED, Status.REGISTERED]
            if session_learner.status == Status.INVITED:
                url = _link(INVITATION_PURPOSE, session_learner, recipient, lifetime)
                context.update(action_url=url, accept_url=url, decline_url=url)
        else:
            context["cancellation_reason"] = cancellation_reason
            expect = [Status.CANCELLED]
        messages.append(
            draft(
                event,
                about=learner,
                occurrence=f"sl{session_learner.pk}:seq{session.calendar_sequence}",
                context=context,
                refs=_refs(session_learner, expect),
                actor=actor,
                attachments=[calendar.attachment_for(learner)],
            )
        )
    return messages


def approval_request_message(session, session_learner, change_pk) -> OutgoingMessage | None:
    """The approver's email with approve/decline links (seed 003 "Needs approval")."""
    approver = session.approver
    if approver is None:
        return None
    recipient = Recipient(user=approver)
    url = _link(APPROVAL_PURPOSE, session_learner, recipient, link_lifetime(session))
    learner = session_learner.learner
    return draft(
        Event.SESSION_APPROVAL_REQUEST,
        about=learner,
        to=recipient,
        occurrence=f"sl{session_learner.pk}:change{change_pk}",
        context={
            "approver_name": approver.get_full_name() or approver.get_username(),
            "learner": learner_context(learner),
            "session": session_context(session),
            "action_url": url,
            "approve_url": url,
            "decline_url": url,
        },
        refs=_refs(session_learner, [Status.NEEDS_APPROVAL]),
    )


def manual_email_context(session, session_learner, email_type, *, lifetime) -> dict:
    """What the templates of an administrator's email (seed 003 "Email Types") may use for one learner."""
    learner = session_learner.learner
    context = {"learner": learner_context(learner), "session": session_context(session)}
    recipient = f"l{learner.pk}"
    if email_type in (EmailType.ATTENDANCE_REMINDER, "convocation"):
        url = _link(ATTENDANCE_PURPOSE, session_learner, recipient, lifetime)
        context.update(action_url=url, confirm_url=url, decline_url=url)
    elif email_type == EmailType.WAITING_LEARNERS_INVITATION:
        url = _link(PLACE_PURPOSE, session_learner, recipient, lifetime)
        context.update(action_url=url, take_place_url=url)
    elif email_type == EmailType.REGISTRATION_FORM:
        context["action_url"] = session.registration_form_url
    elif email_type in (EmailType.FEEDBACK_FORM, EmailType.FEEDBACK_FORM_REMINDER):
        # Seed 002 §V: the survey goes through our page, which opens the form and records the answer.
        url = _link(SURVEY_PURPOSE, session_learner, recipient, lifetime)
        context.update(action_url=url, survey_url=url)
    return context


def participation_request_message(request, sessions, *, actor=None, event=None, occurrence=None) -> OutgoingMessage:
    """The date choice (seed 002 §III-B): one link to a page offering each session's date.

    Its words depend on where it comes from: after an approved training request, or after a confirmed
    session; `event` and `occurrence` name a reminder of it instead.
    """
    learner = request.learner
    recipient = Recipient(learner=learner)
    latest = max(sessions, key=lambda s: s.ends_at)
    url = make_action_url(
        purpose=PARTICIPATION_PURPOSE, obj=request.pk, recipient=recipient, expires_in=link_lifetime(latest)
    )
    after_approval = request.training_request_id is not None
    if event is None:
        event = Event.PARTICIPATION_REQUEST_AFTER_APPROVAL if after_approval else Event.PARTICIPATION_REQUEST
    course = request.training_request.course.title if after_approval else (sessions[0].title if sessions else "")
    return draft(
        event,
        about=learner,
        occurrence=occurrence or f"pr{request.pk}",
        context={
            "learner": learner_context(learner),
            "sessions": [session_context(s) for s in sorted(sessions, key=lambda s: s.starts_at)],
            "course": course,
            "after_training_request": after_approval,
            "action_url": url,
        },
        refs={"participation_request": request.pk},
        actor=actor,
    )


def participation_confirmed_message(session, session_learner, *, actor=None) -> OutgoingMessage:
    """The learner chose this date: the confirmation with the session's calendar invitation (seed 002 §III-B)."""
    learner = session_learner.learner
    calendar = ical.SessionCalendar(session)
    attach = settings.DATE_CHOICE_CALENDAR_INVITATION
    return draft(
        Event.PARTICIPATION_CONFIRMED,
        about=learner,
        occurrence=f"sl{session_learner.pk}:chosen",
        context={"learner": learner_context(learner), "session": session_context(session), "calendar_attached": attach},
        refs=_refs(session_learner, [Status.REGISTERED, Status.NEEDS_APPROVAL]),
        actor=actor,
        attachments=[calendar.attachment_for(learner)] if attach else [],
    )


def reply_recorded_message(session, session_learner, *, sequence) -> OutgoingMessage:
    """Her answer from a calendar client is recorded; she learns what it did (the link's page says it
    to whoever clicks; a calendar client shows nothing)."""
    learner = session_learner.learner
    return draft(
        Event.SESSION_REPLY_RECORDED,
        about=learner,
        occurrence=f"sl{session_learner.pk}:reply:{sequence}:{session_learner.status}",
        context={
            "learner": learner_context(learner),
            "session": session_context(session),
            "answer": session_learner.status,
        },
        refs=_refs(session_learner, [session_learner.status]),
    )
