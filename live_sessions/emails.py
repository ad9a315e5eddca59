"""The seven email types an administrator sends to session learners (seed 003 "Email Types"), as data.

Each type names its event, the learner statuses it is for (None: anyone) and
what the session needs. The feedback form reminder additionally goes only to
learners who were sent the feedback form and have not answered it (checked in
services with one query for the whole selection).
"""

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications.models import Event

from .models import SessionLearner

Status = SessionLearner.Status


class EmailType(models.TextChoices):
    REGISTRATION_FORM = "registration_form", _("Registration form")
    ATTENDANCE_REMINDER = "attendance_reminder", _("Attendance reminder")
    FOLLOW_UP = "follow_up", _("Follow-up")
    FEEDBACK_FORM = "feedback_form", _("Feedback form")
    FEEDBACK_FORM_REMINDER = "feedback_form_reminder", _("Feedback form reminder")
    CUSTOM = "custom", _("Custom notification")
    WAITING_LEARNERS_INVITATION = "waiting_learners_invitation", _("Waiting learners invitation")


@dataclass(frozen=True)
class EmailRule:
    event: str
    statuses: tuple[str, ...] | None  # None: any learner
    session_field: str = ""  # the session must have this set (a form URL)
    needs_text: bool = False  # the administrator writes the subject and body


RULES: dict[str, EmailRule] = {
    EmailType.REGISTRATION_FORM: EmailRule(
        Event.SESSION_REGISTRATION_FORM, None, session_field="registration_form_url"
    ),
    EmailType.ATTENDANCE_REMINDER: EmailRule(Event.SESSION_ATTENDANCE_REMINDER, (Status.REGISTERED,)),
    EmailType.FOLLOW_UP: EmailRule(Event.SESSION_FOLLOW_UP, (Status.ATTENDED, Status.GO_SHOW)),
    EmailType.FEEDBACK_FORM: EmailRule(
        Event.SESSION_FEEDBACK_FORM, (Status.ATTENDED, Status.GO_SHOW), session_field="feedback_form_url"
    ),
    EmailType.FEEDBACK_FORM_REMINDER: EmailRule(
        Event.SESSION_FEEDBACK_FORM_REMINDER, (Status.ATTENDED, Status.GO_SHOW), session_field="feedback_form_url"
    ),
    EmailType.CUSTOM: EmailRule(Event.SESSION_CUSTOM, None, needs_text=True),
    EmailType.WAITING_LEARNERS_INVITATION: EmailRule(Event.SESSION_WAITING_LEARNERS_INVITATION, (Status.WAITING_LIST,)),
}


@dataclass
class EmailResult:
    """What `send_email` did: `sent` session learners and `skipped` (session learner, reason in words)."""

    email_type: str
    send_id: str = ""
    sent: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


@dataclass
class RenderedEmail:
    session_learner: SessionLearner
    subject: str
    body: str


@dataclass
class EmailPreview:
    """What `send_email` would do, for the administrator to check and edit before sending.

    `subject_template` / `body_template` are the editable source (the built-in words or the administrator's
    edited template, in `language`); pass them back, edited, as `subject` / `body` to `send_email`.
    `samples` shows the first messages rendered for their learners.
    """

    email_type: str
    language: str
    subject_template: str
    body_template: str
    recipients: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    variables: list = field(default_factory=list)
