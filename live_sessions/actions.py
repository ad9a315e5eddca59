"""Answers by emailed link about live sessions (seed 003), discovered by notifications.links.

Each page is shown in the reader's language and time zone (`locale`); GET only
shows the question, POST calls one service. Purposes:
- session_invitation: the learner accepts or declines the invitation -> registered / declined;
- session_approval: the approver approves or declines -> registered / approval declined;
- session_attendance: from an attendance reminder, the learner confirms or cancels their place;
- session_place: a learner of the waiting list takes a freed place, or leaves the list.
"""

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from lms_notify import zones
from notifications.services import ActionHandler, register_action

from . import flow, messages, selectors, services
from .flow import LiveSessionError
from .models import LiveSession, ParticipationRequest, SessionLearner
from .windows import require_answerable

Status = SessionLearner.Status

# Words of the shared answer page (templates/notifications/action_done.html), translated in this app's
# catalogue because notifications has none yet.
gettext_noop("You can close this page.")


def _when(session) -> str:
    # The session's own time and zone, and the reader's time beside it when her clock reads otherwise.
    return zones.when(session.starts_at, session.ends_at, session.timezone)


def _closed(session) -> str | None:
    """Why `session` takes no more answers (over, cancelled, …), in the reader's language; None while it does."""
    try:
        require_answerable(session)
    except LiveSessionError as refusal:
        return " ".join(refusal.messages)
    return None


def learner_outcome(sl) -> str:
    """Where the learner stands in the session, in a full sentence of her language (never
    "confirmed" before a place is hers)."""
    words = _words(sl)
    if sl.status == Status.REGISTERED:
        return gettext("You are registered for “%(title)s” on %(date)s. See you there!") % words
    if sl.status == Status.NEEDS_APPROVAL:
        return (
            gettext(
                "Your request to attend “%(title)s” on %(date)s is waiting for approval. You are not registered "
                "yet: we will email you the decision, and the calendar invitation if it is approved."
            )
            % words
        )
    if sl.status == Status.WAITING_LIST:
        return gettext(
            "“%(title)s” on %(date)s is full: you are on its waiting list, in position %(position)d. We will email "
            "you when a place frees up for you."
        ) % {**words, "position": services.waiting_position(sl) or 1}
    if sl.status in (Status.DECLINED, Status.CANCELLED):
        return gettext("Your answer is recorded: you will not attend “%(title)s”.") % words
    if sl.status == Status.APPROVAL_DECLINED:
        return gettext("Your request to attend “%(title)s” on %(date)s was declined by the approver.") % words
    return gettext("You are %(status)s for “%(title)s”.") % words


def _words(sl) -> dict:
    return {
        "name": sl.learner.first_name,
        "learner": sl.learner.full_name,
        "title": sl.session.title,
        "date": _when(sl.session),
        "status": flow.status_label(sl.status),
    }


class _LearnerAnswer(ActionHandler):
    """A page for the learner named in the session learner."""

    model = SessionLearner

    def load(self, pk):
        return SessionLearner.objects.select_related("learner", "session").get(pk=pk)

    def belongs_to(self, obj, recipient_key):
        return recipient_key == f"l{obj.learner_id}"

    def locale(self, obj, recipient_key):
        return obj.learner.language, obj.learner.timezone

    def _outcome(self, obj) -> str:
        return learner_outcome(obj)


class SessionInvitationAction(_LearnerAnswer):
    @property
    def title(self):
        return gettext("Invitation to a session")

    def question(self, obj):
        return gettext("%(name)s, you are invited to the session “%(title)s” on %(date)s. Will you attend?") % _words(
            obj
        )

    def decisions(self, obj):
        return [("accept", gettext("Accept")), ("decline", gettext("Decline"))]

    def current_answer(self, obj):
        if obj.status == Status.INVITED:
            return _closed(obj.session)
        return gettext("You already answered: you are %(status)s for “%(title)s”.") % _words(obj)

    def perform(self, obj, decision, *, recipient_key):
        services.respond(obj, accept=decision == "accept")
        return self._outcome(obj)


class SessionAttendanceAction(_LearnerAnswer):
    @property
    def title(self):
        return gettext("Attendance reminder")

    def question(self, obj):
        return gettext("%(name)s, will you attend “%(title)s” on %(date)s?") % _words(obj)

    def decisions(self, obj):
        return [("accept", gettext("Yes, I will attend")), ("decline", gettext("No, cancel my place"))]

    def current_answer(self, obj):
        if obj.status != Status.REGISTERED:
            return gettext("You are %(status)s for “%(title)s”.") % _words(obj)
        if obj.attendance_confirmed_at is not None:
            return gettext("You already confirmed that you will attend “%(title)s” on %(date)s.") % _words(obj)
        return None

    def perform(self, obj, decision, *, recipient_key):
        if decision == "accept":
            services.confirm_attendance(obj)
            return gettext("Thank you: your attendance to “%(title)s” on %(date)s is confirmed.") % _words(obj)
        services.cancel(obj)
        return gettext("Your place is cancelled. Thank you for letting us know.")


class SessionPlaceAction(_LearnerAnswer):
    @property
    def title(self):
        return gettext("A place in a session")

    def question(self, obj):
        if obj.status == Status.INVITED:
            return gettext("%(name)s, a place is free for you in “%(title)s” on %(date)s. Do you take it?") % _words(
                obj
            )
        return gettext(
            "%(name)s, you are on the waiting list of “%(title)s” on %(date)s. Take a free place now?"
        ) % _words(obj)

    def decisions(self, obj):
        return [("accept", gettext("Take the place")), ("decline", gettext("Leave the waiting list"))]

    def current_answer(self, obj):
        if obj.status in (Status.WAITING_LIST, Status.INVITED):
            return _closed(obj.session)
        return gettext("You are %(status)s for “%(title)s”.") % _words(obj)

    def perform(self, obj, decision, *, recipient_key):
        if decision == "accept":
            try:
                services.take_freed_place(obj)
            except LiveSessionError as exc:
                # No place free right now: not an error of the link, the learner keeps their rank.
                return " ".join(exc.messages)
            return self._outcome(obj)
        if obj.status == Status.INVITED:
            services.respond(obj, accept=False)
        else:
            services.cancel(obj)
        return gettext("You have left the waiting list of “%(title)s”.") % _words(obj)


class SessionApprovalAction(ActionHandler):
    model = SessionLearner

    @property
    def title(self):
        return gettext("Request to attend a session")

    def load(self, pk):
        return SessionLearner.objects.select_related("learner", "session", "session__approver").get(pk=pk)

    def belongs_to(self, obj, recipient_key):
        return obj.session.approver_id is not None and recipient_key == f"u{obj.session.approver_id}"

    def locale(self, obj, recipient_key):
        profile = getattr(obj.session.approver, "learner", None)
        if profile is None:
            return None, None
        return profile.language, profile.timezone

    def question(self, obj):
        return gettext("%(learner)s asks to attend “%(title)s” on %(date)s. Do you approve?") % _words(obj)

    def decisions(self, obj):
        return [("approve", gettext("Approve")), ("decline", gettext("Decline"))]

    def current_answer(self, obj):
        if obj.status == Status.NEEDS_APPROVAL:
            return _closed(obj.session)
        return gettext("This request was already decided.") + " " + self._decided(obj)

    def _decided(self, obj) -> str:
        """What the decision made of the learner, in a full sentence (not "X is approval declined")."""
        words = _words(obj)
        if obj.status == Status.REGISTERED:
            return gettext("%(learner)s is registered for “%(title)s” on %(date)s and has been told.") % words
        if obj.status == Status.WAITING_LIST:
            return (
                gettext(
                    "The session “%(title)s” is full: %(learner)s is on its waiting list and will be offered the "
                    "next free place in turn. %(learner)s has been told."
                )
                % words
            )
        if obj.status == Status.APPROVAL_DECLINED:
            return gettext("%(learner)s will not attend “%(title)s” on %(date)s and has been told.") % words
        if obj.status == Status.CANCELLED:
            return gettext("%(learner)s has withdrawn the request to attend “%(title)s”.") % words
        return gettext("%(learner)s is now %(status)s for “%(title)s”.") % words

    def perform(self, obj, decision, *, recipient_key):
        services.decide_approval(obj, approve=decision == "approve", actor=obj.session.approver)
        if decision == "approve":
            return gettext("You approved the request.") + " " + self._decided(obj)
        return gettext("You declined the request.") + " " + self._decided(obj)


class ParticipationChoiceAction(ActionHandler):
    """Choosing one date among several sessions (seed 002 §III-B); the decision is the chosen session's id."""

    model = ParticipationRequest
    offer_again_after_refusal = True

    @property
    def title(self):
        return gettext("Choose your date")

    def load(self, pk):
        return ParticipationRequest.objects.select_related("learner", "chosen_session").get(pk=pk)

    def belongs_to(self, obj, recipient_key):
        return recipient_key == f"l{obj.learner_id}"

    def locale(self, obj, recipient_key):
        return obj.learner.language, obj.learner.timezone

    def question(self, obj):
        return gettext("%(name)s, which date suits you?") % {"name": obj.learner.first_name}

    def decisions(self, obj):
        sessions = obj.sessions.filter(status=LiveSession.Status.READY, starts_at__gt=timezone.now())
        sessions = sessions.order_by("starts_at")
        choices = [(str(s.pk), self._label(s)) for s in sessions]
        return [*choices, ("decline", gettext("None of these dates"))]

    def _label(self, session) -> str:
        label = f"{session.title} — {_when(session)}"
        if session.requires_approval:
            return label + " " + gettext("(requires approval)")
        if selectors.open_to_newcomers(session):
            return label
        if session.waiting_list_enabled:
            return label + " " + gettext("(full: join the waiting list)")
        return label + " " + gettext("(full)")

    def current_answer(self, obj):
        if obj.status == ParticipationRequest.Status.CHOSEN and obj.chosen_session is not None:
            there = (
                SessionLearner.objects.select_related("learner", "session")
                .filter(session=obj.chosen_session, learner=obj.learner_id)
                .first()
            )
            chose = gettext("You chose “%(title)s” on %(date)s.") % {
                "title": obj.chosen_session.title,
                "date": _when(obj.chosen_session),
            }
            if there is not None and there.status != Status.REGISTERED:
                return f"{chose} {learner_outcome(there)}"
            return chose
        if obj.status != ParticipationRequest.Status.PENDING:
            return gettext("You have already answered this request.")
        return None

    def perform(self, obj, decision, *, recipient_key):
        if decision == "decline":
            services.decline_participation(obj)
            return gettext("Your answer is recorded: none of these dates suits you.")
        session = obj.sessions.get(pk=int(decision))
        chosen = services.choose_date(obj, session=session)
        if chosen.status != Status.REGISTERED:
            return learner_outcome(SessionLearner.objects.select_related("learner", "session").get(pk=chosen.pk))
        return gettext("Thank you: your date is “%(title)s” on %(date)s.") % {
            "title": session.title,
            "date": _when(session),
        }


class SessionSurveyAction(_LearnerAnswer):
    """The satisfaction survey (seed 002 §V): the page opens the session's feedback form; saying "I have answered"
    records it, and the learner gets no reminder of it any more."""

    @property
    def title(self):
        return gettext("Satisfaction survey")

    def question(self, obj):
        return gettext("What did you think of “%(title)s”? Please answer the survey, then tell us here.") % {
            "title": obj.session.title
        }

    def link(self, obj):
        if not obj.session.feedback_form_url:
            return None
        return {"url": obj.session.feedback_form_url, "label": gettext("Open the survey")}

    def decisions(self, obj):
        return [("answered", gettext("I have answered the survey"))]

    def current_answer(self, obj):
        if obj.feedback_answered_at is None:
            return None
        return gettext("Thank you: your answer to the survey is recorded.")

    def perform(self, obj, decision, *, recipient_key):
        services.record_feedback(obj)
        return gettext("Thank you: your answer to the survey is recorded.")


register_action(messages.INVITATION_PURPOSE, SessionInvitationAction)
register_action(messages.ATTENDANCE_PURPOSE, SessionAttendanceAction)
register_action(messages.PLACE_PURPOSE, SessionPlaceAction)
register_action(messages.APPROVAL_PURPOSE, SessionApprovalAction)
register_action(messages.PARTICIPATION_PURPOSE, ParticipationChoiceAction)
register_action(messages.SURVEY_PURPOSE, SessionSurveyAction)
