"""Delivery status notifications (RFC 3464) and spam complaints (RFC 5965) that come back to the mailbox.

The standard library reads the `message/delivery-status` part (per recipient: address, action, status code
and the server's words); GNU Mailman's flufl.bounce recognises the older plain-text shapes (Exim's
"Mail delivery failed", qmail, ...) that carry no such part. A permanent failure (5.x.x) for an address
the project sent to marks it undeliverable; a temporary one (4.x.x) marks nothing unless it repeats
INBOUND_SOFT_BOUNCE_LIMIT times within INBOUND_SOFT_BOUNCE_WINDOW_DAYS.
"""

import email
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from flufl.bounce import all_failures

from learners.models import Guardian, Learner

from ..models import Channel, Notification
from . import marks
from .models import SoftBounce, UndeliverableAddress
from .types import Kind, Result, Verdict

# flufl.bounce logs each detector it tries at INFO: thousands of lines per mailbox poll.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_OUR_MESSAGE_ID = re.compile(r"<notification\.(\d{1,18})\.([0-9a-f]{12})@")


@dataclass
class Failure:
    address: str
    permanent: bool
    status_code: str = ""
    diagnostic: str = ""


def _value(fields, name) -> str:
    value = fields.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _address_of(field_value) -> str:
    # "rfc822; ada@example.org" (address type, then the address)
    _kind, _, address = field_value.partition(";")
    return marks.normalise((address or _kind).strip().strip("<>"))


def _dsn_failures(message) -> list[Failure]:
    failures = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            # Some servers send the part base64-encoded: read it as header blocks ourselves.
            text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
            blocks = [email.message_from_string(block) for block in re.split(r"\r?\n\r?\n", text) if block.strip()]
        for fields in blocks[1:] if len(blocks) > 1 else blocks:
            recipient = _value(fields, "Final-Recipient") or _value(fields, "Original-Recipient")
            action = _value(fields, "Action").lower()
            status = _value(fields, "Status")
            if not recipient or action not in ("failed", "delayed"):
                continue
            code = _STATUS.search(status)
            status_code = code.group(0) if code else ""
            failures.append(
                Failure(
                    address=_address_of(recipient),
                    permanent=action == "failed" and (not status_code or status_code.startswith("5")),
                    status_code=status_code,
                    diagnostic=_value(fields, "Diagnostic-Code").removeprefix("smtp;").strip() or status,
                )
            )
    return failures


def _text_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True) or b""
            return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _words_near(text, address) -> tuple[str, str]:
    """(status code, the server's line) that a plain-text bounce writes after the failed address."""
    at = text.lower().find(address)
    window = text[at : at + 800] if at >= 0 else text[:2000]
    code = _STATUS.search(window)
    lines = [line.strip() for line in window.splitlines()[1:] if line.strip()]
    diagnostic = next((line for line in lines if _STATUS.search(line) or re.search(r"\b[45]\d\d\b", line)), "")
    return (code.group(0) if code else ""), diagnostic[:500]


def _legacy_failures(raw, message) -> list[Failure]:
    # flufl.bounce reads the standard library's legacy (compat32) message objects, as receive parses them.
    temporary, permanent = all_failures(message)
    text = _text_of(message)
    failures = []
    for found, is_permanent in ((permanent, True), (temporary, False)):
        for raw in found:
            address = marks.normalise(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
            if "@" not in address:
                continue
            status_code, diagnostic = _words_near(text, address)
            if status_code.startswith("4"):
                is_permanent = False
            failures.append(Failure(address, is_permanent, status_code, diagnostic))
    return failures


def is_report(message) -> bool:
    if message.get_content_type() == "multipart/report":
        return True
    sender = str(message.get("From", "")).lower()
    subject = str(message.get("Subject", "")).lower()
    return "mailer-daemon" in sender or "postmaster" in sender or "delivery" in subject and "fail" in subject


def failures_in(message, raw) -> list[Failure]:
    return _dsn_failures(message) or _legacy_failures(raw, message)


def may_be_report(message) -> bool:
    """A delivery report or a complaint, by its shape alone (no database)."""
    return is_report(message)


def complaint_in(message) -> str:
    """The complaining address of an ARF report (RFC 5965), else ""."""
    if message.get_content_type() != "multipart/report" or message.get_param("report-type") != "feedback-report":
        return ""
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            inner = (
                part.get_payload()[0]
                if part.is_multipart()
                else email.message_from_bytes(part.get_payload(decode=True) or b"")
            )
            return marks.normalise(email.utils.parseaddr(str(inner.get("To", "")))[1])
    return ""


def original_notification(message) -> Notification | None:
    """The outbox row the report is about, from the Message-ID the project gave it (returned headers)."""
    for part in message.walk():
        if part.get_content_type() not in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            message_id = str(payload[0].get("Message-ID", ""))
        else:
            text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
            message_id = str(email.message_from_string(text).get("Message-ID", ""))
        found = _OUR_MESSAGE_ID.search(message_id)
        if found:
            row = Notification.objects.filter(pk=int(found.group(1))).first()
            if row is not None and row.dedupe_key_hash == found.group(2):
                return row
    return None


def _sent_to(address, notification) -> tuple[int | None, int | None]:
    """(learner id, notification id) when the project sent email to `address`; (None, None) otherwise."""
    if notification is not None and marks.normalise(notification.to) == address:
        return notification.recipient_learner_id, notification.pk
    learner = Learner.objects.filter(email__iexact=address).only("pk").first()
    if learner is not None:
        row = (
            Notification.objects.filter(recipient_learner=learner, channel=Channel.EMAIL, to__iexact=address)
            .exclude(sent_at=None)
            .only("pk")
            .order_by("-pk")
            .first()
        )
        return (learner.pk, row.pk) if row is not None else (None, None)
    guardian = Guardian.objects.filter(email__iexact=address).only("pk", "learner_id").first()
    if guardian is not None:
        row = (
            Notification.objects.filter(Q(recipient_guardian=guardian), channel=Channel.EMAIL)
            .exclude(sent_at=None)
            .only("pk")
            .order_by("-pk")
            .first()
        )
        return (guardian.learner_id, row.pk) if row is not None else (None, None)
    return None, None


def _repeated_soft_bounces(address) -> bool:
    since = timezone.now() - timedelta(days=settings.INBOUND_SOFT_BOUNCE_WINDOW_DAYS)
    return SoftBounce.objects.filter(address=address, at__gte=since).count() >= settings.INBOUND_SOFT_BOUNCE_LIMIT


def handle_report(message, raw, *, inbound_id) -> Verdict | None:
    """The verdict of a bounce or complaint, or None when the message is neither."""
    complainer = complaint_in(message)
    if complainer:
        notification = original_notification(message)
        learner_id, notification_id = _sent_to(complainer, notification)
        if notification_id is None:
            return Verdict(Kind.COMPLAINT, Result.IGNORED, f"Complaint about {complainer}, not an address we sent to.")
        marks.mark(
            complainer,
            cause=UndeliverableAddress.Cause.COMPLAINT,
            learner_id=learner_id,
            notification_id=notification_id,
            diagnostic="The recipient reported the message as spam.",
            inbound_id=inbound_id,
        )
        _delivery(notification_id, "complained")
        return Verdict(
            Kind.COMPLAINT,
            Result.APPLIED,
            f"{complainer} complained: marked undeliverable.",
            learner_id,
            notification_id,
        )
    if not is_report(message):
        return None
    failures = failures_in(message, raw)
    if not failures:
        return None
    notification = original_notification(message)
    said, applied, first = [], False, (None, None)
    for failure in failures:
        learner_id, notification_id = _sent_to(failure.address, notification)
        if notification_id is None:
            said.append(f"{failure.address}: not an address we sent to, nothing marked.")
            continue
        first = first if first[0] or first[1] else (learner_id, notification_id)
        cause = UndeliverableAddress.Cause.BOUNCE
        if not failure.permanent:
            SoftBounce.objects.create(
                address=failure.address, status_code=failure.status_code, diagnostic=failure.diagnostic[:2000]
            )
            if not _repeated_soft_bounces(failure.address):
                said.append(f"{failure.address}: temporary failure {failure.status_code or ''}, nothing marked.")
                continue
            cause = UndeliverableAddress.Cause.SOFT_BOUNCES
        marks.mark(
            failure.address,
            cause=cause,
            learner_id=learner_id,
            notification_id=notification_id,
            status_code=failure.status_code,
            diagnostic=failure.diagnostic,
            inbound_id=inbound_id,
        )
        _delivery(notification_id, "bounced")
        applied = True
        said.append(f"{failure.address}: {failure.status_code or 'permanent failure'}, marked undeliverable.")
    return Verdict(Kind.BOUNCE, Result.APPLIED if applied else Result.IGNORED, " ".join(said), first[0], first[1])


def _delivery(notification_id, state):
    Notification.objects.filter(pk=notification_id).update(delivery=state, delivery_at=timezone.now())
