"""Convocations and date choices (seed 002 §III): the convocation an administrator reviews and sends, and
the request asking a learner to choose one date among several sessions."""

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from notifications.models import Event
from notifications.services import Origin, send_all
from programs.services import approve_training_request

from .. import messages
from ..emails import EmailResult, EmailRule
from ..flow import LiveSessionError
from ..models import LiveSession, ParticipationRequest, SessionLearner
from ..windows import require_answerable
from .communication import _preview, _send
from .roster import register
from .status import _lock_session, _open_to_newcomers

Status = SessionLearner.Status
SessionStatus = LiveSession.Status


CONVOCATION = "convocation"
_CONVOCATION_RULE = EmailRule(Event.SESSION_CONVOCATION, (Status.REGISTERED,))


def convoke(session, session_learners, *, actor, subject=None, body=None, include_calendar=True) -> EmailResult:
    """Convene the registered learners of a session (seed 002 §III-A), with the calendar invitation unless
    `include_calendar` is False; subject and body may be edited as for `send_email`. Others are skipped."""
    return _send(
        session,
        session_learners,
        CONVOCATION,
        _CONVOCATION_RULE,
        actor=actor,
        subject=subject,
        body=body,
        send_id=uuid.uuid4().hex,
        calendar=include_calendar,
    )


def preview_convocation(session, session_learners, *, subject=None, body=None, language="en", samples=3):
    """The auto-generated convocation (seed 002 §III-A) an administrator reviews and may edit before `convoke`:
    its editable words, who gets it, who is skipped and why, and a few rendered samples."""
    return _preview(
        session,
        session_learners,
        CONVOCATION,
        _CONVOCATION_RULE,
        subject=subject,
        body=body,
        language=language,
        samples=samples,
    )


def request_participation(learner, sessions, *, actor=None, training_request=None) -> ParticipationRequest:
    """Ask the learner to choose one date among several sessions (seed 002 §III-B): the email links to a page
    offering each date; choosing one registers the learner in that session (its automation applies).

    After an approved training request (`training_request`) the email has its own words. Without an answer
    the learner is reminded 7 and 14 days later (live_sessions.scanners)."""
    sessions = list(sessions)
    if len(sessions) < 1:
        raise LiveSessionError(gettext("Choose at least one session."))
    closed = [s for s in sessions if s.status != SessionStatus.READY]
    if closed:
        raise LiveSessionError(
            gettext("Only sessions open for registration can be offered: “%(title)s” is %(status)s.")
            % {"title": closed[0].title, "status": str(SessionStatus(closed[0].status).label).lower()}
        )
    with transaction.atomic():
        request = ParticipationRequest.objects.create(
            learner=learner, created_by=actor, training_request=training_request
        )
        request.sessions.set(sessions)
        send_all([messages.participation_request_message(request, sessions, actor=actor)], origin=Origin.ADMIN)
    return request


def approve_with_date_choice(training_request, sessions, *, actor) -> ParticipationRequest | None:
    """Approve a training request and offer its next step (seed 002 §II, §III-B): the learner chooses one of
    `sessions`, with the words of a date choice after an approved request. No sessions: approval only."""
    sessions = list(sessions)
    with transaction.atomic():
        approve_training_request(training_request, actor=actor)
        if not sessions:
            return None
        return request_participation(training_request.learner, sessions, actor=actor, training_request=training_request)


def choose_date(participation_request, *, session) -> SessionLearner:
    """The learner's choice from a date-choice request: registration in the chosen session, and the
    confirmation with its calendar invitation. A session requiring approval makes it a request waiting for
    approval; a full session with a waiting list puts her on it. A full session without one is
    refused in words and the request stays open, so the other dates are still offered."""
    with transaction.atomic():
        request = ParticipationRequest.objects.select_for_update().get(pk=participation_request.pk)
        if request.status != ParticipationRequest.Status.PENDING:
            raise LiveSessionError(gettext("You have already answered this request."))
        if not request.sessions.filter(pk=session.pk).exists():
            raise LiveSessionError(gettext("This date was not offered."))
        locked = _lock_session(session)
        require_answerable(locked)
        if not (locked.requires_approval or locked.waiting_list_enabled or _open_to_newcomers(locked)):
            raise LiveSessionError(
                gettext("The session “%(title)s” on this date is full: please choose another date.")
                % {"title": locked.title}
            )
        session_learner = register(locked, request.learner)
        ParticipationRequest.objects.filter(pk=request.pk).update(
            status=ParticipationRequest.Status.CHOSEN, chosen_session=session, responded_at=timezone.now()
        )
        # "Confirmed", with the calendar invitation, only for a place that is hers; `register` told
        # a learner waiting for approval or on the waiting list what she is waiting for.
        if session_learner.status == Status.REGISTERED:
            send_all([messages.participation_confirmed_message(locked, session_learner)], origin=Origin.ANSWER)
    participation_request.refresh_from_db()
    return session_learner


def decline_participation(participation_request) -> None:
    ParticipationRequest.objects.filter(pk=participation_request.pk, status=ParticipationRequest.Status.PENDING).update(
        status=ParticipationRequest.Status.DECLINED, responded_at=timezone.now()
    )
    participation_request.refresh_from_db()
