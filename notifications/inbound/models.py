"""What came back by email: each inbound message with what it did, and the addresses that bounce.

Imported by notifications.models, so they belong to the notifications app and its migrations.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundMessage(models.Model):
    """One email that reached the organiser's mailbox (or a provider's webhook), kept INBOUND_RETENTION_DAYS."""

    class Kind(models.TextChoices):
        CALENDAR_REPLY = "calendar_reply", _("Calendar reply")
        BOUNCE = "bounce", _("Bounce")
        COMPLAINT = "complaint", _("Spam complaint")
        AUTO_REPLY = "auto_reply", _("Auto-reply")
        UNHANDLED = "unhandled", _("Unhandled")

    class Result(models.TextChoices):
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored")
        REFUSED = "refused", _("Refused")
        # A proposal (iTIP COUNTER) the administrator reads and answers by hand.
        FOR_REVIEW = "for_review", _("For an administrator")

    # sha256 of the Message-ID (of the whole message when it has none): the same message twice is one row.
    digest = models.CharField(max_length=64, unique=True)
    message_id = models.CharField(max_length=998, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=20, default="direct", help_text=_("imap, webhook or direct"))
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=14, choices=Kind.choices, default=Kind.UNHANDLED)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.IGNORED)
    outcome = models.TextField(blank=True)
    learner = models.ForeignKey(
        "learners.Learner", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    notification = models.ForeignKey(
        "notifications.Notification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A calendar reply: the session learner it answers ("session_learner:12"), its SEQUENCE and DTSTAMP,
    # so that an older reply never overwrites a newer answer (RFC 5546 §2.1.5).
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    sequence = models.IntegerField(null=True, blank=True)
    stamped_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")
        indexes = [models.Index(fields=["kind", "received_at"], name="inbound_kind_received")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject or self.message_id or self.digest[:12]}"


class UndeliverableAddress(models.Model):
    """An address mail cannot reach (a permanent bounce, a spam complaint, or repeated soft bounces).

    Messages to it are omitted with reason `undeliverable` until an administrator clears it or the learner's
    address changes (the mark names an address, not a person)."""

    class Cause(models.TextChoices):
        BOUNCE = "bounce", _("Permanent failure")
        SOFT_BOUNCES = "soft_bounces", _("Repeated temporary failures")
        COMPLAINT = "complaint", _("Spam complaint")

    address = models.CharField(max_length=254, unique=True, help_text=_("Lower case."))
    learner = models.ForeignKey(
        "learners.Learner", null=True, blank=True, on_delete=models.CASCADE, related_name="undeliverable_marks"
    )
    cause = models.CharField(max_length=12, choices=Cause.choices, default=Cause.BOUNCE)
    status_code = models.CharField(max_length=16, blank=True, help_text=_("e.g. 5.1.1"))
    diagnostic = models.TextField(blank=True, help_text=_("The receiving server's words."))
    notification = models.ForeignKey(
        "notifications.Notification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inbound = models.ForeignKey(InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-marked_at"]
        verbose_name = _("undeliverable address")
        verbose_name_plural = _("undeliverable addresses")

    def __str__(self):
        return f"{self.address} ({self.get_cause_display()})"


class SoftBounce(models.Model):
    """A temporary failure (4.x.x): marks nothing alone; INBOUND_SOFT_BOUNCE_LIMIT of them within
    INBOUND_SOFT_BOUNCE_WINDOW_DAYS count as a permanent failure."""

    address = models.CharField(max_length=254)
    status_code = models.CharField(max_length=16, blank=True)
    diagnostic = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["address", "at"], name="soft_bounce_address_at")]

    def __str__(self):
        return f"{self.address} {self.status_code} ({self.at:%Y-%m-%d})"
