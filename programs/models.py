from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Course(models.Model):
    class Kind(models.TextChoices):
        ELEARNING = "elearning", _("E-learning")
        CLASSROOM = "classroom", _("Classroom")

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ELEARNING)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]

    def __str__(self):
        return self.title


class Program(models.Model):
    class Kind(models.TextChoices):
        PROGRAM = "program", _("Program")
        CERTIFICATION = "certification", _("Certification")

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=13, choices=Kind.choices, default=Kind.PROGRAM)
    validity_days = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Certifications: how long a completion stays valid.")
    )
    recertification_window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Certifications: the window opens this many days before expiry."),
    )

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def is_certification(self):
        return self.kind == self.Kind.CERTIFICATION


class CourseSet(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="course_sets")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    courses = models.ManyToManyField(Course, blank=True, related_name="course_sets")
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("course set")
        verbose_name_plural = _("course sets")
        ordering = ["program", "position"]

    def __str__(self):
        return f"{self.program}: {self.title}"


# Open: neither completed nor unassigned (seed 001: at most one open assignment per program).
OPEN_ASSIGNMENT = Q(completed_at__isnull=True, unassigned_at__isnull=True)


class AssignmentQuerySet(models.QuerySet):
    def open(self):
        """Neither completed nor unassigned: on the learner's dashboard, at most one per program."""
        return self.filter(OPEN_ASSIGNMENT)


class Assignment(models.Model):
    """A program or certification on a learner's dashboard.

    A learner has at most one open assignment (neither completed nor
    unassigned) per program; a certification renewal is a new assignment.
    """

    learner = models.ForeignKey("learners.Learner", on_delete=models.CASCADE, related_name="assignments")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="assignments")
    group = models.ForeignKey(
        "learners.LearnerGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    unassigned_at = models.DateTimeField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "program"],
                condition=OPEN_ASSIGNMENT,
                name="assignment_one_open_per_program",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "program"], name="assignment_learner_program"),
            models.Index(fields=["expires_at"], name="assignment_expires"),
            models.Index(fields=["due_at"], name="assignment_due"),
            # "N days after completion" reads completions of a few days (date triggers).
            models.Index(fields=["completed_at"], name="assignment_completed"),
        ]

    def __str__(self):
        return f"{self.program} for {self.learner.full_name}"

    @property
    def is_open(self):
        return self.completed_at is None and self.unassigned_at is None


class CourseSetCompletion(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="course_set_completions")
    course_set = models.ForeignKey(CourseSet, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("course set completion")
        verbose_name_plural = _("course set completions")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "course_set"], name="course_set_completion_unique"),
        ]
        indexes = [models.Index(fields=["completed_at"], name="course_set_completion_at")]

    def __str__(self):
        return f"{self.course_set} completed"


class AssignmentException(models.Model):
    class Kind(models.TextChoices):
        DUPLICATE_COURSE = "duplicate_course", _("Duplicate course in another assignment")
        DUE_DATE_UNREACHABLE = "due_date_unreachable", _("Due date cannot be met")
        ALREADY_CERTIFIED = "already_certified", _("Already certified")
        OTHER = "other", _("Other")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.OTHER)
    reported_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assignment exception")
        verbose_name_plural = _("assignment exceptions")
        ordering = ["-reported_at"]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.assignment}"


class TrainingRequest(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    learner = models.ForeignKey("learners.Learner", on_delete=models.CASCADE, related_name="training_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="training_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("training request")
        verbose_name_plural = _("training requests")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.course} requested for {self.learner.full_name} ({self.get_status_display()})"


class ELearningEnrollment(models.Model):
    learner = models.ForeignKey("learners.Learner", on_delete=models.CASCADE, related_name="elearning_enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    starts_on = models.DateField()
    ends_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-learning enrolment")
        verbose_name_plural = _("e-learning enrolments")
        ordering = ["-starts_on"]
        indexes = [models.Index(fields=["ends_on"], name="enrollment_ends_on")]

    def __str__(self):
        return f"{self.course} for {self.learner.full_name} ({self.starts_on} → {self.ends_on})"
