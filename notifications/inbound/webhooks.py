"""Providers that push: django-anymail's tracking and inbound webhooks.

Tracking events (delivered, bounced, complained) set the message's delivery state; bounces and complaints
mark the address like a bounce read from the mailbox. Inbound events hand the email to `receive`, as the
IMAP poller does. The webhook URLs answer only while ANYMAIL_WEBHOOK_SECRET is set (HTTP basic auth, checked
by anymail): an unprotected webhook would let anyone mark addresses undeliverable.
"""

import hashlib
import json
import logging

from anymail.signals import EventType, inbound, tracking
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from ..models import Channel, Notification
from . import marks
from .bounces import _repeated_soft_bounces
from .models import InboundMessage, SoftBounce, UndeliverableAddress
from .receive import receive

logger = logging.getLogger(__name__)

# The metadata key the outbox gives each email (Postmark: X-PM-Metadata-*, Mailgun: X-Mailgun-Variables, or
# anymail's own `metadata` when sending through an anymail backend), so that an event names its row.
METADATA_KEY = "lms_notification"
# Provider bounce types that are temporary although the event says "bounced" (Postmark).
_SOFT_TYPES = {"SoftBounce", "Transient", "DnsError"}
_STATES = {EventType.DELIVERED: "delivered", EventType.BOUNCED: "bounced", EventType.COMPLAINED: "complained"}


def _notification_for(event) -> Notification | None:
    pk = str((event.metadata or {}).get(METADATA_KEY, "") or "")
    query = Notification.objects.filter(channel=Channel.EMAIL)
    if pk.isdigit():
        row = query.filter(pk=int(pk)).first()
        if row is not None:
            return row
    if event.recipient:
        return query.filter(to__iexact=event.recipient).exclude(sent_at=None).order_by("-pk").first()
    return None


def _digest(event) -> str:
    """One InboundMessage per provider event (its id, else a hash of the payload): retries are recognised."""
    identity = event.event_id or json.dumps(event.esp_event, sort_keys=True, default=str)
    return hashlib.sha256(f"webhook:{event.event_type}:{identity}".encode()).hexdigest()


def _record(digest, event, esp_name, *, kind, result, outcome, row):
    InboundMessage.objects.create(
        digest=digest,
        source="webhook",
        sender=(event.recipient or "")[:254],
        subject=f"{esp_name}: {event.event_type}"[:300],
        kind=kind,
        result=result,
        outcome=outcome,
        learner_id=row.recipient_learner_id,
        notification=row,
    )


@receiver(tracking, dispatch_uid="lms-inbound-tracking")
def on_tracking(sender, event, esp_name, **kwargs):
    state = _STATES.get(event.event_type)
    soft = event.event_type == EventType.DEFERRED or (
        state == "bounced" and isinstance(event.esp_event, dict) and event.esp_event.get("Type") in _SOFT_TYPES
    )
    if state is None and not soft:
        return
    row = _notification_for(event)
    if row is None:
        logger.info("%s %s event for a message we do not know (%s)", esp_name, event.event_type, event.recipient)
        return
    at = event.timestamp or timezone.now()
    if state == "delivered" and not soft:
        Notification.objects.filter(pk=row.pk).update(delivery="delivered", delivery_at=at)
        return
    digest = _digest(event)
    if InboundMessage.objects.filter(digest=digest).exists():
        return  # the provider retried a webhook already handled
    address = marks.normalise(event.recipient or row.to)
    words = " ".join(filter(None, [event.description, event.mta_response]))[:2000]
    kind = InboundMessage.Kind.COMPLAINT if state == "complained" else InboundMessage.Kind.BOUNCE
    with transaction.atomic():
        if soft:
            SoftBounce.objects.create(address=address, diagnostic=words)
            if not _repeated_soft_bounces(address):
                said = f"{address}: {esp_name} reports a temporary failure, nothing marked."
                _record(digest, event, esp_name, kind=kind, result=InboundMessage.Result.IGNORED, outcome=said, row=row)
                return
            cause, state = UndeliverableAddress.Cause.SOFT_BOUNCES, "bounced"
        elif state == "complained":
            cause = UndeliverableAddress.Cause.COMPLAINT
        else:
            cause = UndeliverableAddress.Cause.BOUNCE
        said = f"{address}: {esp_name} reports {state}; marked undeliverable."
        _record(digest, event, esp_name, kind=kind, result=InboundMessage.Result.APPLIED, outcome=said, row=row)
        marks.mark(address, cause=cause, learner_id=row.recipient_learner_id, notification_id=row.pk, diagnostic=words)
        Notification.objects.filter(pk=row.pk).update(delivery=state, delivery_at=at)


@receiver(inbound, dispatch_uid="lms-inbound-email")
def on_inbound(sender, event, esp_name, **kwargs):
    message = event.message
    if message is None:
        return
    receive(message.as_bytes(), source="webhook")
