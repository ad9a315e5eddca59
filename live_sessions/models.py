from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from learners.models import validate_timezone
from lms_notify import zones

# A real session is held this century; a date far outside it is a typo or an attack, and the time zone
# arithmetic of year 1 or 9999 overflows (a session on 9999-12-31 in Pacific/Kiritimati broke every page).
EARLIEST_SESSION_DATE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_SESSION_DATE = datetime(2100, 1, 1, tzinfo=UTC)
# Seed 003 "Attendance form": attendance opens this long before the start (Totara's default).
ATTENDANCE_OPENS_BEFORE = timedelta(minutes=15)


def session_dates_problem(starts_at, ends_at) -> dict:
    """{field name: message} for each date a session cannot have; empty when both are possible."""
    problems = {}
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and not EARLIEST_SESSION_DATE <= value < LATEST_SESSION_DATE:
            problems[name] = _("A session takes place between the years 2000 and 2099.")
    return problems


class LiveSession(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        READY = "ready", _("Ready")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    title = models.CharField(max_length=200)
    course = models.ForeignKey(
        "programs.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="live_sessions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    location = models.CharField(max_length=300, blank=True)
    capacity = models.PositiveIntegerField(default=20)
    waiting_list_enabled = models.BooleanField(default=False)
    requires_approval = models.BooleanField(default=False)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    calendar_integration = models.BooleanField(
        default=False, help_text=_("Learners added get a calendar invitation straight away.")
    )
    registration_form_url = models.URLField(blank=True)
    feedback_form_url = models.URLField(blank=True)
    trainers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="trained_sessions")
    # iCalendar SEQUENCE: raised on every change sent to calendars so clients update, not duplicate.
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        ordering = ["-starts_at"]

    def __str__(self):
        # As the session's clock reads it, named (the admin's lists, titles and history show this).
        return f"{self.title} ({zones.labelled(self.starts_at, self.timezone)})"

    def is_over(self, now=None) -> bool:
        return (now or dj_timezone.now()) >= self.ends_at

    def attendance_window(self) -> tuple[datetime, datetime]:
        """When trainers may record attendance and go-shows: (opens, closes)."""
        closes = self.ends_at + timedelta(days=settings.ATTENDANCE_WINDOW_DAYS_AFTER)
        return self.starts_at - ATTENDANCE_OPENS_BEFORE, closes

    def clean(self):
        problems = session_dates_problem(self.starts_at, self.ends_at)
        if problems:
            raise ValidationError(problems)


class SessionLearner(models.Model):
    class Status(models.TextChoices):
        NOT_INVITED = "not_invited", _("Not invited")
        INVITED = "invited", _("Invited")
        DECLINED = "declined", _("Declined")
        NEEDS_APPROVAL = "needs_approval", _("Needs approval")
        APPROVAL_DECLINED = "approval_declined", _("Approval declined")
        WAITING_LIST = "waiting_list", _("Waiting list")
        REGISTERED = "registered", _("Registered")
        CANCELLED = "cancelled", _("Cancelled")
        ABSENT = "absent", _("Absent")
        ATTENDED = "attended", _("Attended")
        GO_SHOW = "go_show", _("Go show")

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="session_learners")
    learner = models.ForeignKey("learners.Learner", on_delete=models.CASCADE, related_name="session_learners")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_INVITED)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    status_changed_at = models.DateTimeField(default=dj_timezone.now)
    # First come, first served (seed 003 "Waiting List"): when the learner joined the waiting list. Kept while a
    # freed place is offered to them (invited from the waiting list), cleared once they answer.
    waiting_since = models.DateTimeField(null=True, blank=True, editable=False)
    # Answer to an attendance reminder's "Confirm" link; the status stays registered.
    attendance_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The learner answered the session's feedback form: no feedback reminder any more.
    feedback_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("session learner")
        verbose_name_plural = _("session learners")
        ordering = ["session", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "learner"], name="session_learner_unique"),
        ]
        indexes = [
            models.Index(fields=["session", "status"], name="session_learner_status"),
            models.Index(
                fields=["session", "waiting_since"],
                name="session_learner_waiting",
                condition=models.Q(waiting_since__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.learner.full_name} in {self.session} ({self.get_status_display()})"


class StatusChange(models.Model):
    session_learner = models.ForeignKey(SessionLearner, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=SessionLearner.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=SessionLearner.Status.choices)
    trigger = models.CharField(max_length=50)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status} ({self.trigger})"


class ParticipationRequest(models.Model):
    """The learner is asked to choose one date among several sessions (seed 002 §III-B)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CHOSEN = "chosen", _("Date chosen")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    learner = models.ForeignKey("learners.Learner", on_delete=models.CASCADE, related_name="participation_requests")
    sessions = models.ManyToManyField(LiveSession, related_name="participation_requests")
    training_request = models.ForeignKey(
        "programs.TrainingRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    chosen_session = models.ForeignKey(LiveSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("participation request")
        verbose_name_plural = _("participation requests")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Date choice for {self.learner.full_name} ({self.get_status_display()})"
