import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .event_codes import Event, EventCode, EventField, event_choices  # noqa: F401 - re-exported


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    INBOX = "inbox", _("System message")


class NotificationQuerySet(models.QuerySet):
    def waiting(self):
        """Not sent yet and still meant to be: queued, or awaiting an administrator's confirmation."""
        return self.filter(status__in=[Notification.Status.QUEUED, Notification.Status.AWAITING_CONFIRMATION])


class Notification(models.Model):
    """The outbox: one message to one recipient on one channel.

    `dedupe_key` names the event, recipient, channel and occurrence, so the
    same occurrence can never be queued twice, whoever tries.
    """

    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        OMITTED = "omitted", _("Omitted")
        CANCELLED = "cancelled", _("Cancelled")

    event = EventField()
    channel = models.CharField(max_length=5, choices=Channel.choices)
    # Indexed by notification_learner_event, which starts with it: a second index would only slow inserts.
    recipient_learner = models.ForeignKey(
        "learners.Learner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    # This and the other references most rows leave empty are indexed only where set (Meta.indexes): a full
    # index would take an entry for each of the 100,000 rows of a Notify run (seed 000), all of them NULL.
    recipient_guardian = models.ForeignKey(
        "learners.Guardian",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    to = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=2, default="en")
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    # [{"filename", "content", "mimetype"}]: e.g. a calendar invitation.
    attachments = models.JSONField(default=list, blank=True)
    # References the send-time check needs, e.g. {"invitation": 12}.
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=21, choices=Status.choices, default=Status.QUEUED)
    # Why a message was omitted or cancelled, as a short code (no_consent, no_contact, ...).
    reason = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=255, unique=True)
    rule = models.ForeignKey(
        "NotificationRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Not sent before this moment (and after a failure, not before the backoff).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds the row until then; a worker that died lets go at expiry.
    claimed_until = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When a worker last claimed the row: "failures in the last hour" for monitoring.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text=_("Inbox messages: when the recipient read it."))
    # What the mail provider or the receiving server reported after sending; blank: nothing reported.
    delivery = models.CharField(
        max_length=10,
        blank=True,
        choices=[("delivered", _("Delivered")), ("bounced", _("Bounced")), ("complained", _("Spam complaint"))],
    )
    delivery_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        # "Messages": the Notify page is the one called Notifications.
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        # Confirming releases messages to recipients; it is given apart from changing them (Notifier group).
        permissions = [("confirm_notification", "Can confirm messages awaiting confirmation")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="notification_due_queue"),
            models.Index(fields=["recipient_learner", "event", "created_at"], name="notification_learner_event"),
            models.Index(fields=["status", "created_at"], name="notification_status_created"),
            *(
                models.Index(fields=[field], condition=Q(**{f"{field}__isnull": False}), name=f"notification_{name}")
                for field, name in (
                    ("recipient_guardian", "guardian"),
                    ("recipient_user", "user"),
                    ("rule", "rule"),
                    ("created_by", "created_by"),
                    ("confirmed_by", "confirmed_by"),
                )
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_learner__isnull=False)
                | Q(recipient_guardian__isnull=False)
                | Q(recipient_user__isnull=False),
                name="notification_has_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.get_event_display()} → {self.to or self.recipient_display} ({self.get_channel_display()})"

    @property
    def recipient_display(self):
        if self.recipient_guardian_id:
            return str(self.recipient_guardian.name)
        if self.recipient_learner_id:
            return self.recipient_learner.full_name
        if self.recipient_user_id:
            return self.recipient_user.get_username()
        return ""

    @property
    def message_id(self):
        """Stable per outbox row: a resend after a crash carries the same Message-ID."""
        return f"<notification.{self.pk}.{self.dedupe_key_hash}@{settings.MESSAGE_ID_DOMAIN}>"

    @property
    def dedupe_key_hash(self):
        return hashlib.sha1(self.dedupe_key.encode()).hexdigest()[:12]


class ChannelSetting(models.Model):
    """Seed 004: whether the messages the system sends on its own on a channel wait for an administrator's
    confirmation. A channel without a row requires it (the default); `set_channel_confirmation` writes it."""

    channel = models.CharField(max_length=5, choices=Channel.choices, unique=True)
    requires_confirmation = models.BooleanField(
        default=True,
        help_text=_(
            "Messages the system sends on its own for an event without a rule wait for an administrator's "
            "confirmation. Off: they go out automatically."
        ),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    # The channels an administrator may switch (an inbox message is read in the app: nothing leaves).
    SWITCHABLE = (Channel.EMAIL, Channel.SMS)

    class Meta:
        verbose_name = _("channel confirmation setting")
        verbose_name_plural = _("channel confirmation settings")
        ordering = ["channel"]

    def __str__(self):
        return f"{self.get_channel_display()}: {'confirmation' if self.requires_confirmation else 'automatic'}"


# Ten years either side of a date: any real reminder fits, and every moment it gives stays a valid date.
MAX_OFFSET_DAYS = 3650


class NotificationRule(models.Model):
    """When an event produces messages, to whom and on which channels (seeds 001, 004)."""

    class Timing(models.TextChoices):
        ON_EVENT = "on_event", _("On the event")
        BEFORE = "before", _("Days before")
        AFTER = "after", _("Days after")

    name = models.CharField(max_length=200, blank=True)
    event = EventField()
    is_enabled = models.BooleanField(default=True)
    channels = models.JSONField(default=list, help_text=_("Any of email, sms, inbox; none means the event is silent."))
    notify_learner = models.BooleanField(default=True)
    notify_manager = models.BooleanField(default=False)
    notify_site_admins = models.BooleanField(default=False)
    notify_guardians = models.BooleanField(
        default=True,
        help_text=_("Each guardian who still receives copies and has an email address or phone number gets one."),
    )
    notify_trainers = models.BooleanField(
        default=False, help_text=_("The session's trainers get a copy (live-session events, seed 004).")
    )
    timing = models.CharField(max_length=8, choices=Timing.choices, default=Timing.ON_EVENT)
    offset_days = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_OFFSET_DAYS)])
    requires_confirmation = models.BooleanField(
        default=True, help_text=_("Messages wait for an administrator to confirm them before they are sent.")
    )
    program = models.ForeignKey(
        "programs.Program",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_rules",
        help_text=_("Empty: every program and certification."),
    )
    # Occurrences before this moment never fire: enabling or changing a rule
    # must not flood learners with messages for dates already past.
    active_since = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["event", "pk"]
        indexes = [models.Index(fields=["event", "is_enabled"], name="rule_event_enabled")]

    def __str__(self):
        return self.name or f"{self.get_event_display()} ({self.get_timing_display()})"

    def timing_problem(self) -> str | None:
        """Why this rule cannot fire as stored (a row written before offsets were bounded), else None."""
        if self.offset_days is not None and not 0 <= self.offset_days <= MAX_OFFSET_DAYS:
            return _("%(days)s days is beyond the longest offset a rule may use (%(max)s days): change the rule.") % {
                "days": self.offset_days,
                "max": MAX_OFFSET_DAYS,
            }
        return None


class MessageTemplate(models.Model):
    """The words of one event in one language; editable, validated on save."""

    event = EventField()
    language = models.CharField(max_length=2, choices=settings.LANGUAGES, default="en")
    subject = models.CharField(max_length=300)
    body = models.TextField(help_text=_("Plain text, Django template syntax."))
    html_body = models.TextField(blank=True, help_text=_("Optional HTML version; generated from the text if empty."))
    sms_body = models.CharField(max_length=480, blank=True, help_text=_("Short text for SMS; the subject if empty."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["event", "language"]
        constraints = [
            models.UniqueConstraint(fields=["event", "language"], name="template_event_language_unique"),
        ]

    def __str__(self):
        return f"{self.get_event_display()} [{self.language}]"


class NotifyRun(models.Model):
    """One click of a Notify button (seed 000)."""

    class Scope(models.TextChoices):
        ALL_LEARNERS = "all_learners", _("All learners")
        ALL_GROUPS = "all_groups", _("All groups")
        GROUP = "group", _("Group")
        LEARNER = "learner", _("Learner")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope = models.CharField(max_length=12, choices=Scope.choices)
    group = models.ForeignKey(
        "learners.LearnerGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    learner = models.ForeignKey("learners.Learner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    # {"sent": {"invitation": n, ...}, "omitted": {"rate_limited": n, ...}}
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notify run")
        verbose_name_plural = _("notify runs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Notify {self.get_scope_display()} — {self.created_at:%Y-%m-%d %H:%M}"


class NotifyOutcome(models.Model):
    class Action(models.TextChoices):
        INVITATION = "invitation", _("Invitation sent again")
        TRAINING_REMINDER = "training_reminder", _("Training reminder")
        MISSING_TRAINING = "missing_training", _("Missing training assigned")
        RENEWAL = "renewal", _("Renewal assigned")
        OMITTED = "omitted", _("Omitted")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        RATE_LIMITED = "rate_limited", _("Already notified recently (1 per 24 hours, 3 per 14 days)")
        UP_TO_DATE = "up_to_date", _("Training up to date: nothing needed")
        NO_CONSENT = "no_consent", _("No consent to receive messages")
        NO_CONTACT = "no_contact", _("No email address")

    # No database foreign-key check on `run` and `notification`: outcomes are written only by the Notify
    # engine, which holds the run and has just created the message, 100,000 per click (seed 000), and a
    # per-row check costs more than writing the row. Deleting a run or a message still cascades or nulls
    # them (Django's on_delete).
    run = models.ForeignKey(NotifyRun, on_delete=models.CASCADE, related_name="outcomes", db_constraint=False)
    # Nor on `learner`, checked per row at every insert for the same cost: the engine writes a learner's
    # outcome only while it holds the learner's row locked, so the learner exists. What the check also
    # did, refusing to delete a learner who still has outcomes (a deletion racing a Notify run), is kept
    # by a deferred trigger on the learners table (migration 0011), one lookup per deleted learner.
    # Indexed by outcome_learner_created, which starts with it.
    learner = models.ForeignKey(
        "learners.Learner",
        on_delete=models.CASCADE,
        related_name="notify_outcomes",
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(max_length=17, choices=Action.choices)
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True, default="")
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notify outcome")
        verbose_name_plural = _("notify outcomes")
        ordering = ["-created_at", "pk"]
        indexes = [
            models.Index(fields=["learner", "created_at"], name="outcome_learner_created"),
        ]

    def __str__(self):
        return f"{self.learner_id}: {self.action} {self.reason}".strip()


class DispatchRequest(models.Model):
    """At most one row: when `requested_at` is set, a dispatch task is waiting in the task queue.

    Enqueueing asks for a dispatch after its transaction commits; a Notify run over
    100,000 learners does so once per chunk. Only the request that finds no waiting
    task queues one (coalescing), and the task clears the flag as it starts.
    """

    requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"dispatch requested at {self.requested_at}" if self.requested_at else "no dispatch waiting"


class TriggerScan(models.Model):
    """One run of the date-trigger scan: the window of dates it covered and how it ended.

    The next scan starts where the last successful one stopped, which is how a worker
    that was down catches up; `outbox_status` reads the last success to tell how late
    the scanner is.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.RUNNING)
    created = models.PositiveIntegerField(default=0, help_text=_("Outbox rows this scan created."))
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "window_end"], name="triggerscan_status_end")]

    def __str__(self):
        return f"Scan {self.window_start:%Y-%m-%d %H:%M} → {self.window_end:%Y-%m-%d %H:%M} ({self.status})"


class Unsubscription(models.Model):
    """A recipient opted out of an optional event family (RFC 8058 one-click unsubscribe)."""

    recipient_key = models.CharField(max_length=24)
    family = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient_key", "family"], name="unsubscription_unique")]

    def __str__(self):
        return f"{self.recipient_key} unsubscribed from {self.family}"


# Mail that comes back, in its own package: defined there, registered here.
from .inbound.models import InboundMessage, SoftBounce, UndeliverableAddress  # noqa: E402, F401
