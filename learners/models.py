import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from .phones import PhoneNumberField


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known IANA time zone."), params={"value": value})


def organisation_timezone():
    """A new learner's time zone: the organisation's (settings.ORGANISATION_TIMEZONE)."""
    return settings.ORGANISATION_TIMEZONE


def timezone_choices():
    """Every IANA zone as (name, "Europe/Paris"-style label), for a select instead of free text."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class Language(models.TextChoices):
    EN = "en", "English"
    FR = "fr", "Français"
    PL = "pl", "Polski"


class Learner(models.Model):
    email = models.EmailField()
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    phone = PhoneNumberField()
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    timezone = models.CharField(max_length=64, default=organisation_timezone, validators=[validate_timezone])
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    consent_given_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Without consent nothing is sent to this learner.")
    )
    is_active = models.BooleanField(default=True)
    needs_review = models.BooleanField(
        _("walk-in awaiting review"),
        default=False,
        db_index=True,
        help_text=_("Added by a trainer as a walk-in: inactive until an administrator has reviewed the record."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="learner",
    )
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)

    class Meta:
        verbose_name = _("learner")
        verbose_name_plural = _("learners")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="learner_email_ci_unique"),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def has_consent(self):
        return self.consent_given_at is not None

    def clean(self):
        if self.email:
            self.email = self.email.strip()
            clash = Learner.objects.filter(email__iexact=self.email).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError({"email": _("Another learner already uses this email address.")})
        if self.manager_id and self.manager_id == self.pk:
            raise ValidationError({"manager": _("A learner cannot be their own manager.")})


class Guardian(models.Model):
    """A parent account: receives a copy of the learner's notifications when enabled (seed 004)."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = PhoneNumberField()
    is_enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} (guardian of {self.learner.full_name})"


class LearnerGroup(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    programs = models.ManyToManyField(
        "programs.Program",
        blank=True,
        related_name="groups",
        help_text=_("The training every member of the group must have."),
    )
    members = models.ManyToManyField(Learner, through="GroupMembership", related_name="groups")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("learner group")
        verbose_name_plural = _("learner groups")
        ordering = ["name"]

    def __str__(self):
        return self.name


class GroupMembership(models.Model):
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(LearnerGroup, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(fields=["learner", "group"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.learner.full_name} in {self.group}"


class Invitation(models.Model):
    """An invitation to sign in to the platform (seed 002 §I, seed 000 step 1)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        BULK_IMPORT = "bulk_import", _("Bulk import")
        INTEGRATION = "integration", _("HR integration")

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="invitations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "learner"], name="invitation_status_learner")]

    def __str__(self):
        return f"Invitation of {self.learner.full_name} ({self.get_status_display()})"


class ImportUpload(models.Model):
    """A learner file uploaded for an import, waiting for its preview to be confirmed.

    Kept in the database, never in a folder named by the browser: the confirmation sends back only
    `key`, a random value the server chose, and it works only for the user who uploaded the file.
    Once imported, the content is emptied and the row remembers the import, so a second click is
    answered in words; every row is deleted after IMPORT_UPLOAD_MAX_AGE_MINUTES.
    """

    key = models.CharField(max_length=64, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)
    encoding = models.CharField(max_length=16, blank=True)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # What the whole file's preview found, so its later pages need not check every row again: the totals
    # ({"new": …, "update": …}), the number of data rows and the numbers of the bad ones.
    preview = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"


class ConsentRecord(models.Model):
    """One consent given or withdrawn (seed 004: "consent to the processing of personal data ... marked on
    the platform"): when, how we know, and who recorded it. Written only by learners.services.record_consent,
    which keeps Learner.consent_given_at in step with the latest record."""

    class Source(models.TextChoices):
        PAPER_FORM = "paper_form", _("Paper form")
        ADMIN = "admin", _("Recorded by an administrator")
        IMPORT = "import", _("File import")
        INTEGRATION = "integration", _("HR integration")

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="consent_records")
    given = models.BooleanField(_("given"), help_text=_("Off: the consent was withdrawn."))
    at = models.DateTimeField(_("date"))
    source = models.CharField(_("how"), max_length=12, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded on"), default=dj_timezone.now, editable=False)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent given or withdrawn")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["learner", "-at"], name="consent_learner_at")]

    def __str__(self):
        return f"{self.learner_id}: {'given' if self.given else 'withdrawn'} {self.at:%Y-%m-%d}"
