"""The events of programs, certifications, training requests and e-learning (seeds 001, 002), declared once.

Their words are template files, programs/templates/messages/<event>/<language>/ (en, fr and pl); an
administrator's MessageTemplate of one language replaces that language's words only. Each file speaks to
the learner when `reader` is "learner", and about the learner to the manager, guardian or staff member who
reads a copy (seed 001 "a user or their manager", seed 004 guardians).

Program and certification events speak only through the rules an administrator writes (seed 001): their
default rule is silent. The others go out by email to the learner when no rule exists.
"""

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.services import ABOUT_A_LEARNER, ADDRESSEE_MANAGER, SILENT, declare

_PROGRAM = ("learner", "program", "due_at", "expires_at", "completed_at")
# What the date triggers (programs.scanners) pass besides the names every program event offers.
_DATE_VALUES = {
    "timing": "before",
    "days": 3,
    "window_opens_at": lambda now: now + timedelta(days=15),
    "dashboard_url": lambda now: f"{settings.SITE_URL}/",
}
_DATE_DESCRIPTIONS = {
    "timing": _("When the rule fires: before, on_event or after the date."),
    "days": _("How many days before or after the date the rule fires."),
    "window_opens_at": _("When the recertification window opens."),
    "dashboard_url": _("Link to the learner's training dashboard."),
}


def _program_event(code, label, *, family="training", extra=(), date_based=False, dated_values=True):
    declare(
        code,
        label,
        family=family,
        variables=(*_PROGRAM, *extra, *(_DATE_VALUES if dated_values else ())),
        samples=_DATE_VALUES if dated_values else {},
        descriptions=_DATE_DESCRIPTIONS if dated_values else {},
        date_based=date_based,
        default=SILENT,
    )


_program_event(
    "program.assigned", _("Learner assigned in program or certification"), extra=("group",), dated_values=False
)
_program_event("program.completed", _("Program or certification completed"), date_based=True)
_program_event("program.course_set_completed", _("Course set completed"), extra=("course_set",), date_based=True)
_program_event("program.course_set_due", _("Course set due date"), extra=("course_set",), date_based=True)
_program_event("program.due", _("Program or certification due date"), date_based=True)
_program_event("program.exception", _("New exception reported"), family="", extra=("kind",), dated_values=False)
_program_event(
    "program.unassigned", _("Learner unassigned from program or certification"), family="", dated_values=False
)
_program_event("certification.expiry", _("Certification expiry date"), date_based=True)
_program_event("certification.recertification_failed", _("Failure to recertify"), date_based=True)
_program_event("certification.window_open", _("Recertification window open date"), date_based=True)

# Seed 002: training requests (an answer to the person who asked) and e-learning reminders.
declare(
    "training_request.submitted",
    _("Training request recorded"),
    family="training_request",
    variables=("learner", "course", "requested_by_manager", "manager"),
)
declare(
    "training_request.submitted_by_manager",
    _("Training request recorded: made by the manager (to the learner)"),
    family="training_request",
    variables=("learner", "course", "manager"),
)
declare(
    "training_request.manager_confirmation",
    _("Training request recorded: confirmation to the manager who made it"),
    family="training_request",
    readers=frozenset(),
    addressee=ADDRESSEE_MANAGER,
    variables=("learner", "course", "manager"),
)
declare(
    "training_request.refused",
    _("Training request refused"),
    family="training_request",
    readers=ABOUT_A_LEARNER,
    variables=("learner", "course"),
)
declare(
    "elearning.reminder",
    _("E-learning end reminder"),
    family="training",
    variables=("learner", "course", "ends_on", "days_left"),
    samples={"days_left": 7},
    descriptions={"days_left": _("Days left before the end of the course.")},
)
