"""The learner status flow of a live session (seed 003 "Learner Statuses Flow"), declared once.

`FLOW` is the seed's table as data: (from status, to status, trigger). A
`from_status` of None is the seed's "-": the learner was not in the session
yet. Services, the admin and the tests all read this table; an automatic
change that is not in it is refused with `TransitionNotAllowed`. A manual
change ("Update status", seed 003 "Update Learner Status") may set any status
and is recorded with the trigger "manual".

Rows marked `seed=False` are the project's adaptations of the automation
(the seed: "You can also adapt the automation flow"): re-registering after a
decline or cancellation, a full session at the moment of accepting, attendance
corrections, and the effect of cancelling the whole session.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import SessionLearner

Status = SessionLearner.Status


class Trigger(models.TextChoices):
    ADDED_BY_ADMIN = "added_by_admin", _("Added by an administrator")
    SESSION_PUBLISHED = "session_published", _("Session published (draft to ready)")
    ADDED_WITH_CALENDAR = "added_with_calendar", _("Added to a session with calendar integration")
    INVITATION_ACCEPTED = "invitation_accepted", _("Accepted the calendar invitation")
    INVITATION_DECLINED = "invitation_declined", _("Declined the calendar invitation")
    REGISTRATION = "registration", _("Registered from the learner interface")
    ATTENDANCE = "attendance", _("Attendance form")
    LEARNER_CANCELLED = "learner_cancelled", _("Cancelled by the learner")
    PLACE_FREED = "place_freed", _("A place became free (waiting list)")
    OFFER_EXPIRED = "offer_expired", _("The offered place was not taken in time")
    GO_SHOW = "go_show", _("Added by the trainer without registration")
    APPROVED = "approved", _("Approved by the approver")
    APPROVAL_DECLINED = "approval_declined", _("Declined by the approver")
    SESSION_CANCELLED = "session_cancelled", _("Session cancelled")
    COPIED = "copied", _("Copied from another session")
    MANUAL = "manual", _("Updated by hand")


# Triggers an administrator uses on purpose: any status may be set (seed 003 "Update Learner Status").
MANUAL_TRIGGERS = frozenset({Trigger.MANUAL, Trigger.COPIED})


@dataclass(frozen=True)
class Transition:
    from_status: str | None
    to_status: str
    trigger: str
    seed: bool = True


_SEED_ROWS = [
    Transition(None, Status.NOT_INVITED, Trigger.ADDED_BY_ADMIN),
    Transition(Status.NOT_INVITED, Status.INVITED, Trigger.SESSION_PUBLISHED),
    Transition(None, Status.INVITED, Trigger.ADDED_WITH_CALENDAR),
    Transition(Status.INVITED, Status.REGISTERED, Trigger.INVITATION_ACCEPTED),
    Transition(Status.INVITED, Status.DECLINED, Trigger.INVITATION_DECLINED),
    Transition(None, Status.REGISTERED, Trigger.REGISTRATION),
    Transition(Status.REGISTERED, Status.ATTENDED, Trigger.ATTENDANCE),
    Transition(Status.REGISTERED, Status.ABSENT, Trigger.ATTENDANCE),
    Transition(Status.REGISTERED, Status.CANCELLED, Trigger.LEARNER_CANCELLED),
    Transition(None, Status.WAITING_LIST, Trigger.REGISTRATION),
    Transition(Status.WAITING_LIST, Status.INVITED, Trigger.PLACE_FREED),
    Transition(None, Status.GO_SHOW, Trigger.GO_SHOW),
    Transition(None, Status.NEEDS_APPROVAL, Trigger.REGISTRATION),
    Transition(Status.NEEDS_APPROVAL, Status.REGISTERED, Trigger.APPROVED),
    Transition(Status.NEEDS_APPROVAL, Status.APPROVAL_DECLINED, Trigger.APPROVAL_DECLINED),
]

# A learner listed but not invited, or who declined or cancelled, may still register themselves.
_REREGISTRATION_ROWS = [
    Transition(source, target, Trigger.REGISTRATION, seed=False)
    for source in (Status.NOT_INVITED, Status.DECLINED, Status.CANCELLED)
    for target in (Status.REGISTERED, Status.WAITING_LIST, Status.NEEDS_APPROVAL)
]

_ADAPTED_ROWS = [
    # Accepting or being approved when the session is already full: the waiting list, first come first served.
    Transition(Status.INVITED, Status.WAITING_LIST, Trigger.INVITATION_ACCEPTED, seed=False),
    Transition(Status.NEEDS_APPROVAL, Status.WAITING_LIST, Trigger.APPROVED, seed=False),
    # Leaving the waiting list or withdrawing a request is a cancellation by the learner.
    Transition(Status.WAITING_LIST, Status.CANCELLED, Trigger.LEARNER_CANCELLED, seed=False),
    Transition(Status.NEEDS_APPROVAL, Status.CANCELLED, Trigger.LEARNER_CANCELLED, seed=False),
    # A place offered from the waiting list and not taken in time passes to the next learner.
    Transition(Status.INVITED, Status.DECLINED, Trigger.OFFER_EXPIRED, seed=False),
    # The trainer corrects the attendance form.
    Transition(Status.ATTENDED, Status.ABSENT, Trigger.ATTENDANCE, seed=False),
    Transition(Status.ABSENT, Status.ATTENDED, Trigger.ATTENDANCE, seed=False),
    # Someone listed in the session but not registered turns up: a go show.
    *[
        Transition(source, Status.GO_SHOW, Trigger.GO_SHOW, seed=False)
        for source in (
            Status.NOT_INVITED,
            Status.INVITED,
            Status.DECLINED,
            Status.WAITING_LIST,
            Status.NEEDS_APPROVAL,
            Status.APPROVAL_DECLINED,
            Status.CANCELLED,
        )
    ],
]

# Cancelling the session: everyone still expected or waiting ends "cancelled".
SESSION_CANCELLED_FROM = (
    Status.NOT_INVITED,
    Status.INVITED,
    Status.NEEDS_APPROVAL,
    Status.WAITING_LIST,
    Status.REGISTERED,
)
_SESSION_CANCELLED_ROWS = [
    Transition(source, Status.CANCELLED, Trigger.SESSION_CANCELLED, seed=False) for source in SESSION_CANCELLED_FROM
]

FLOW: tuple[Transition, ...] = tuple(_SEED_ROWS + _REREGISTRATION_ROWS + _ADAPTED_ROWS + _SESSION_CANCELLED_ROWS)
SEED_FLOW: tuple[Transition, ...] = tuple(row for row in FLOW if row.seed)

_ALLOWED = {(row.from_status, row.to_status, row.trigger) for row in FLOW}

# Statuses that take a place in the session (seed 003 "Fill Rate").
FILLING_STATUSES = (Status.REGISTERED, Status.GO_SHOW, Status.ATTENDED)


class LiveSessionError(ValidationError):
    """A refusal in words: nothing was changed. A ValidationError so forms and link pages show it."""


class TransitionNotAllowed(LiveSessionError):
    pass


def status_label(status) -> str:
    if status is None or status == "":
        return gettext("not in the session")
    return str(Status(status).label).lower()


def is_allowed(from_status, to_status, trigger) -> bool:
    if trigger in MANUAL_TRIGGERS:
        return True
    return ((from_status or None), to_status, trigger) in _ALLOWED


def check(from_status, to_status, trigger) -> None:
    """Raise TransitionNotAllowed, in words, unless the flow table allows this change."""
    if not is_allowed(from_status, to_status, trigger):
        raise TransitionNotAllowed(
            gettext("A learner who is %(current)s cannot become %(target)s this way (%(trigger)s).")
            % {
                "current": status_label(from_status),
                "target": status_label(to_status),
                "trigger": str(Trigger(trigger).label).lower(),
            }
        )


def allowed_targets(from_status, trigger) -> list[str]:
    """The statuses the table allows from `from_status` by `trigger` (for forms and documentation)."""
    return [row.to_status for row in FLOW if row.from_status == (from_status or None) and row.trigger == trigger]
