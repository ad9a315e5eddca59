"""The inbound door (issue 19, CONTRACT.md `receive_email`): one email that reached the organiser's mailbox.

Every message is recorded once (InboundMessage, unique on a hash of its Message-ID), then routed: a bounce
or complaint, a calendar reply, an auto-reply (recorded, ignored), anything else (recorded as unhandled).
Bad input of any shape is recorded, never raised: a mailbox must never stop on one strange message.
"""

import email
import hashlib
import logging
import re
from email import policy
from email.utils import parseaddr

from django.db import IntegrityError, connection, transaction

from lms_notify.bulk import is_postgresql

from . import bounces, calendar
from .models import InboundMessage
from .types import Kind, Result, Verdict

logger = logging.getLogger(__name__)

# Cuts the stored copy of the subject and sender, not what is read: a huge header changes nothing.
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?(reply|response)|out of (the )?office|absence|"
    r"réponse automatique|absent|odpowiedź automatyczna|nieobecn)",
    re.IGNORECASE,
)


def receive_email(message: bytes) -> None:
    """One inbound email (RFC 5322 bytes): routed, recorded, never raised (CONTRACT.md)."""
    receive(message)


def receive(message, *, source="direct") -> InboundMessage | None:
    """The InboundMessage row this call created, or None when the same message was already received."""
    raw = message if isinstance(message, bytes | bytearray) else str(message or "").encode("utf-8", "replace")
    parsed = compat = None
    try:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        compat = email.message_from_bytes(raw)
    except Exception:  # noqa: BLE001 - recorded as unhandled below
        logger.info("Unparseable inbound message", exc_info=True)
    message_id = _header(parsed, "Message-ID")
    # Without a Message-ID the bytes themselves name the message (a mailbox redelivers the same bytes).
    digest = hashlib.sha256(message_id.encode() if message_id else bytes(raw)).hexdigest()
    row = InboundMessage(
        digest=digest,
        message_id=message_id[:998],
        source=source,
        sender=_sender(parsed)[:254],
        subject=_header(parsed, "Subject")[:300],
        size=len(raw),
    )
    with transaction.atomic():
        if not _insert_once(row):
            return None  # the same message twice does nothing more
        try:
            with transaction.atomic():
                verdict = _route(parsed, compat, row)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the mailbox
            logger.exception("Inbound message %s could not be handled", row.pk)
            verdict = Verdict(Kind.UNHANDLED, Result.IGNORED, f"Could not be handled: {type(exc).__name__}: {exc}")
        row.kind, row.result, row.outcome = verdict.kind, verdict.result, verdict.outcome[:5000]
        row.learner_id, row.notification_id = verdict.learner_id, verdict.notification_id
        row.reference, row.sequence, row.stamped_at = verdict.reference, verdict.sequence, verdict.stamped_at
        row.save(
            update_fields=[
                "kind",
                "result",
                "outcome",
                "learner",
                "notification",
                "reference",
                "sequence",
                "stamped_at",
            ]
        )
    return row


def _insert_once(row) -> bool:
    """Insert the row unless its digest is known; a concurrent receiver of the same message waits on the
    unique index and then finds it taken. One statement on PostgreSQL (no savepoint)."""
    if is_postgresql():
        fields = [field for field in InboundMessage._meta.concrete_fields if not field.primary_key]
        values = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
        table, columns = InboundMessage._meta.db_table, ", ".join(f'"{field.column}"' for field in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
                "ON CONFLICT (digest) DO NOTHING RETURNING id",
                values,
            )
            found = cursor.fetchone()
        if found is None:
            return False
        row.pk = found[0]
        row._state.adding = False
        return True
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return False
    return True


def _header(message, name) -> str:
    if message is None:
        return ""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot decode is no header
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _sender(message) -> str:
    return parseaddr(_header(message, "From"))[1].strip().lower()


def is_auto_reply(message) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond")):
        return True
    if _header(message, "Precedence").lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(_AUTO_SUBJECT.match(_header(message, "Subject")))


def _route(message, compat, row) -> Verdict:
    if message is None:
        return Verdict(Kind.UNHANDLED, Result.IGNORED, "Not a readable email: nothing changed.")
    verdict = bounces.handle_report(message, compat, inbound_id=row.pk)
    if verdict is not None:
        return verdict
    verdict = calendar.handle_calendar(message, sender=_sender(message))
    if verdict is not None:
        return verdict
    if is_auto_reply(message):
        return Verdict(Kind.AUTO_REPLY, Result.IGNORED, "Automatic reply: recorded, nothing changed.")
    return Verdict(Kind.UNHANDLED, Result.IGNORED, "Neither a calendar reply nor a delivery report: nothing changed.")
