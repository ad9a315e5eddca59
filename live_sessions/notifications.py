"""The events of live sessions and date choices (seeds 002, 003), declared once (notifications.registry).

Every live-session event may also reach the session's trainers (seed 004); the approval request is addressed
to the session's approver only. What each event's templates read beyond the learner and the session is
declared here: all plain values, dates render in the reader's time zone.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.services import ABOUT_A_LEARNER, ABOUT_A_SESSION, ADDRESSEE_APPROVER, declare


def _sample_url(now):
    return f"{settings.SITE_URL}/a/sample-token/"


_SESSION = ("learner", "session")
_DESCRIPTIONS = {
    "accept_url": _("Link to accept the invitation."),
    "decline_url": _("Link to decline."),
    "from_waiting_list": _("True when the place was freed for a learner of the waiting list."),
    "approver_name": _("Name of the approver reading the request."),
    "approve_url": _("Link to approve the registration."),
    "confirm_url": _("Link to confirm attendance."),
    "take_place_url": _("Link to take the freed place."),
    "admin_message": _("The administrator's extra message sent with the new date (may be empty)."),
    "course": _("Title of the course."),
    "calendar_attached": _("True when the calendar invitation is attached."),
    "survey_url": _("Link to the satisfaction survey: it opens the form and records that the learner answered."),
    "after_training_request": _("True when the dates follow an approved training request."),
    "answer": _("What her calendar answer did: registered, waiting_list or declined."),
    "cancellation_reason": _("Why the session is cancelled, as the administrator wrote it when cancelling."),
}


def _session_event(code, label, *, family="session", base=_SESSION, samples=None, **fields):
    samples = samples or {}
    fields.setdefault("readers", ABOUT_A_SESSION)
    declare(
        code,
        label,
        family=family,
        variables=(*base, *samples),
        samples=samples,
        descriptions={name: _DESCRIPTIONS[name] for name in samples},
        **fields,
    )


_session_event(
    "session.convocation",
    _("Convocation to a session"),
    samples={"confirm_url": _sample_url, "decline_url": _sample_url},
)
_session_event(
    "session.invitation",
    _("Calendar invitation to a session"),
    samples={"accept_url": _sample_url, "decline_url": _sample_url, "from_waiting_list": False},
)
_session_event(
    "session.rescheduled",
    _("Session date changed"),
    samples={"accept_url": _sample_url, "decline_url": _sample_url, "admin_message": ""},
)
_session_event("session.cancelled", _("Session cancelled"), samples={"cancellation_reason": "The trainer is ill."})
_session_event("session.registration_form", _("Registration form"))
_session_event(
    "session.attendance_reminder",
    _("Attendance reminder"),
    samples={"confirm_url": _sample_url, "decline_url": _sample_url},
)
_session_event("session.follow_up", _("Follow-up"))
_session_event("session.feedback_form", _("Feedback form"), samples={"survey_url": _sample_url})
_session_event("session.feedback_form_reminder", _("Feedback form reminder"), samples={"survey_url": _sample_url})
_session_event("session.custom", _("Custom notification"))
_session_event(
    "session.waiting_learners_invitation",
    _("Waiting learners invitation"),
    samples={"take_place_url": _sample_url},
)
_session_event(
    "session.approval_request",
    _("Approval request to the approver"),
    readers=frozenset(),
    addressee=ADDRESSEE_APPROVER,
    samples={"approver_name": "Pierre Martin", "approve_url": _sample_url, "decline_url": _sample_url},
)
_session_event(
    "participation.request",
    _("Choose a date (after a confirmed session)"),
    family="date_choice",
    base=("learner", "sessions"),
    readers=ABOUT_A_LEARNER,
    samples={"course": "First aid", "after_training_request": False},
)
_session_event(
    "participation.request_after_approval",
    _("Choose a date (after an approved training request)"),
    family="date_choice",
    base=("learner", "sessions"),
    readers=ABOUT_A_LEARNER,
    samples={"course": "First aid", "after_training_request": True},
)
_session_event(
    "participation.reminder",
    _("Choose a date: reminder (D+7, D+14)"),
    family="date_choice",
    base=("learner", "sessions"),
    readers=ABOUT_A_LEARNER,
    samples={"course": "First aid", "after_training_request": False},
)
_session_event(
    "session.reply_recorded",
    _("Calendar answer recorded"),
    samples={"answer": "registered"},
)
_session_event(
    "participation.confirmed",
    _("Participation confirmed"),
    samples={"calendar_attached": True},
)

# Approval that tells the truth, and a waiting list the learner can see.
_DESCRIPTIONS.update(
    {
        "position": _("The learner's place in the waiting list (1 is the next to be offered a place)."),
        "approved": _("True when the approver approved the request (the session was full: waiting list)."),
        "calendar_cancelled": _("True when the calendar invitation sent earlier is cancelled by this message."),
        "offer_hours": _("How many hours an offered place is held for the learner."),
    }
)
_session_event("session.approval_pending", _("Request waiting for approval"))
_session_event(
    "session.approval_granted",
    _("Request approved: registered"),
    samples={"calendar_attached": True},
)
_session_event(
    "session.approval_refused",
    _("Request declined by the approver"),
    samples={"calendar_cancelled": False},
)
_session_event(
    "session.waiting_list_joined",
    _("On the waiting list, with the position"),
    samples={"position": 2, "approved": False, "offer_hours": 48},
)

# An offer of the waiting list not taken in time: the learner hears that the place passed on.
_session_event(
    "session.offer_expired",
    _("Offered place passed on (not taken in time)"),
    samples={"offer_hours": 48},
)
