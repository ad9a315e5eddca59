"""How one outbox row leaves the building, per channel.

Email goes through Django's email backend (EMAIL_URL picks SMTP, console,
file...). SMS goes through the class named by settings.SMS_BACKEND. The inbox
needs no transport: delivering an inbox message is marking its row sent.

Plugging in a real SMS provider
-------------------------------
Write a class with one method and name it in the environment::

    class TwilioSmsBackend:
        def __init__(self):
            self.client = twilio.rest.Client(settings.TWILIO_SID, settings.TWILIO_TOKEN)

        def send(self, to, text, *, message_id):
            # Raise on failure: the dispatcher retries with backoff, or gives up
            # at once on PermanentSendError (invalid number...).
            self.client.messages.create(to=to, from_=settings.SMS_FROM, body=text)

    SMS_BACKEND=myproject.sms.TwilioSmsBackend

`message_id` is stable for an outbox row; pass it to the provider as an
idempotency key or client reference when it supports one, so a resend after a
crash can be recognised. One instance serves a whole batch, so open sessions
in __init__ and, if needed, release them in an optional close() method.
"""

import base64
import json
import re
import secrets
import sys
from email import encoders
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone
from django.utils.module_loading import import_string

from .. import optout
from ..recipients import Recipient


class PermanentSendError(Exception):
    """A failure that retrying cannot fix (invalid address, rejected content): the row fails at once."""


# --- Email -----------------------------------------------------------------

_ICAL_METHOD = re.compile(r"^METHOD:\s*([A-Za-z-]+)\s*$", re.MULTILINE)
_DECLARED_METHOD = re.compile(r";\s*method=\"?([A-Za-z-]+)", re.IGNORECASE)


def _attachment_part(attachment):
    """A MIME part for one {"filename", "content", "mimetype"} entry.

    Calendar invitations need `method=` on the Content-Type (matching the
    iCalendar METHOD) or mail clients show them as plain files instead of an
    invitation to accept.
    """
    filename = attachment.get("filename") or "attachment"
    content = attachment.get("content") or ""
    declared = attachment.get("mimetype") or "application/octet-stream"
    mimetype = declared.split(";")[0].strip().lower()
    maintype, _, subtype = mimetype.partition("/")
    if attachment.get("encoding") == "base64":
        content = base64.b64decode(content)
    if maintype == "text":
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        part = MIMEText(text, subtype or "plain", "utf-8")
        if mimetype == "text/calendar":
            match = _ICAL_METHOD.search(text) or _DECLARED_METHOD.search(declared)
            if match:
                # Written out plainly (no quotes), the form Outlook and Gmail recognise.
                part.replace_header("Content-Type", f"text/calendar; method={match.group(1).upper()}; charset=utf-8")
    else:
        part = MIMEBase(maintype or "application", subtype or "octet-stream")
        part.set_payload(content.encode("utf-8") if isinstance(content, str) else content)
        encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


class OutboxEmail(EmailMultiAlternatives):
    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        # Without a boundary the stdlib generator picks one and compiles a fresh regex per
        # message to check it is absent from the text (measurable at hundreds per second);
        # 128 random bits cannot collide with the content.
        for part in msg.walk():
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(f"===============lms{secrets.token_hex(16)}==")
        return msg


def build_email(notification, *, connection=None) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": notification.message_id,
        "Auto-Submitted": "auto-generated",
        "X-LMS-Notify-Event": notification.event,
    }
    # Bounces go to the mailbox that reads them. Django's SMTP backend uses from_email as the
    # envelope sender (the Return-Path receiving servers write and bounce to); the From header stays ours.
    envelope_sender = getattr(settings, "INBOUND_ADDRESS", "") or settings.DEFAULT_FROM_EMAIL
    if envelope_sender != settings.DEFAULT_FROM_EMAIL:
        headers["From"] = settings.DEFAULT_FROM_EMAIL
    # RFC 8058 one-click unsubscribe on optional events only (never a convocation or a session change).
    headers.update(optout.headers_for(notification.event, Recipient.key_of_notification(notification)))
    # The row's id travels as provider metadata, so that a delivery or bounce webhook names it.
    provider = getattr(settings, "MAIL_PROVIDER", "")
    if provider == "postmark":
        headers["X-PM-Metadata-lms_notification"] = str(notification.pk)
    elif provider == "mailgun":
        headers["X-Mailgun-Variables"] = f'{{"lms_notification": "{notification.pk}"}}'
    message = OutboxEmail(
        subject=notification.subject,
        body=notification.body,
        from_email=envelope_sender,
        to=[notification.to],
        connection=connection,
        headers=headers,
    )
    message.metadata = {"lms_notification": str(notification.pk)}  # read by anymail's sending backends
    if notification.html_body:
        message.attach_alternative(notification.html_body, "text/html")
    for attachment in notification.attachments or []:
        message.attach(_attachment_part(attachment))
    return message


class EmailChannel:
    """Sends a batch of emails over ONE backend connection (one SMTP session per batch)."""

    def __init__(self):
        self.connection = None
        self.open_error = None

    def send(self, notification):
        if self.open_error is not None:
            # The server could not be reached for this batch: fail the rest fast (they are
            # retried with backoff) instead of waiting for one timeout per message.
            raise self.open_error
        if self.connection is None:
            # Never wait forever on a silent server: the claim lease is finite.
            connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30)
            try:
                connection.open()
            except Exception as exc:
                self.open_error = exc
                raise
            self.connection = connection
        try:
            delivered = self.connection.send_messages([build_email(notification, connection=self.connection)])
        except Exception:
            # The session may be broken (server disconnect, timeout): the next
            # message of the batch gets a fresh one.
            self.close()
            raise
        if not delivered:
            raise RuntimeError("The email backend accepted no message.")

    def close(self):
        if self.connection is not None:
            connection, self.connection = self.connection, None
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a dead session must not mask the real error
                pass


# --- SMS -------------------------------------------------------------------


class ConsoleSmsBackend:
    """Development default: prints each SMS to standard output."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, to, text, *, message_id):
        self.stream.write(f"SMS to {to} [{message_id}]\n{text}\n{'-' * 40}\n")
        self.stream.flush()


class FileSmsBackend:
    """Appends each SMS as one JSON line to a file under settings.SMS_FILE_PATH (one file per day)."""

    def __init__(self, path=None):
        self.directory = Path(path or settings.SMS_FILE_PATH)

    def send(self, to, text, *, message_id):
        self.directory.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        line = json.dumps({"at": now.isoformat(), "to": to, "message_id": message_id, "text": text})
        with open(self.directory / f"sms-{now:%Y-%m-%d}.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class LocMemSmsBackend:
    """Tests: keeps every SMS in the class-level `outbox` list (like Django's locmem email backend)."""

    outbox: list[dict] = []

    def send(self, to, text, *, message_id):
        LocMemSmsBackend.outbox.append({"to": to, "text": text, "message_id": message_id})


def get_sms_backend():
    return import_string(settings.SMS_BACKEND)()


class SmsChannel:
    def __init__(self):
        self.backend = None

    def send(self, notification):
        if self.backend is None:
            self.backend = get_sms_backend()
        text = notification.body or notification.subject
        self.backend.send(notification.to, text, message_id=notification.message_id)

    def close(self):
        close = getattr(self.backend, "close", None)
        self.backend = None
        if close is not None:
            close()
