"""The inbound door (CONTRACT.md `receive_email`): one email that reached the organiser's mailbox.

Every message is recorded once (InboundMessage, unique on a hash of its Message-ID), then routed: a bounce
or complaint, a calendar reply, an auto-reply (recorded, ignored), anything else (recorded as unhandled).
Bad input of any shape is recorded, never raised: a mailbox must never stop on one strange message.
"""

import email
import hashlib
import logging
import re
from email.header import decode_header, make_header
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
    raw = bytes(message) if isinstance(message, bytes | bytearray) else str(message or "").encode("utf-8", "replace")
    parsed = None
    try:
        # The legacy (compat32) parser: several times faster than policy.default's header objects, and what
        # flufl.bounce reads; headers are decoded where they are read (`_header`).
        parsed = email.message_from_bytes(raw)
    except Exception:  # noqa: BLE001 - recorded as unhandled below
        logger.info("Unparseable inbound message", exc_info=True)
    message_id = _header(parsed, "Message-ID")
    # Without a Message-ID the bytes themselves name the message (a mailbox redelivers the same bytes).
    digest = hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()
    row = InboundMessage(
        digest=digest,
        message_id=message_id[:998],
        source=source,
        sender=_sender(parsed)[:254],
        subject=_header(parsed, "Subject")[:300],
        size=len(raw),
    )
    try:
        if not _needs_handling(parsed):
            # Nothing to change anywhere: one INSERT records it (most of a mailbox's traffic).
            _write(row, _quiet_verdict(parsed))
            return row if _insert_once(row) else None
        with transaction.atomic():
            if not _insert_once(row):
                return None  # the same message twice does nothing more
            _write(row, _route(parsed, raw, row))
            row.save(update_fields=_VERDICT_FIELDS)
        return row
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the mailbox
        logger.exception("Inbound message %s could not be handled", digest[:12])
        # Whatever the handler did is rolled back with its transaction; the message is recorded as it is.
        row.pk, row._state.adding = None, True
        _write(row, Verdict(Kind.UNHANDLED, Result.IGNORED, f"Could not be handled: {type(exc).__name__}: {exc}"))
        return row if _insert_once(row) else None


_VERDICT_FIELDS = ["kind", "result", "outcome", "learner", "notification", "reference", "sequence", "stamped_at"]


def _write(row, verdict: Verdict):
    row.kind, row.result, row.outcome = verdict.kind, verdict.result, verdict.outcome[:5000]
    row.learner_id, row.notification_id = verdict.learner_id, verdict.notification_id
    row.reference, row.sequence, row.stamped_at = verdict.reference, verdict.sequence, verdict.stamped_at


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
        if value is None:
            return ""
        if "=?" in str(value):
            value = str(make_header(decode_header(str(value))))
    except Exception:  # noqa: BLE001 - a header the parser cannot decode is no header
        return ""
    return " ".join(str(value).split())


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


def _needs_handling(message) -> bool:
    """Whether the message may be a delivery report or a calendar reply (decided without the database)."""
    return message is not None and (bounces.may_be_report(message) or bool(calendar.calendar_texts(message)))


def _quiet_verdict(message) -> Verdict:
    if message is None:
        return Verdict(Kind.UNHANDLED, Result.IGNORED, "Not a readable email: nothing changed.")
    if is_auto_reply(message):
        return Verdict(Kind.AUTO_REPLY, Result.IGNORED, "Automatic reply: recorded, nothing changed.")
    return Verdict(Kind.UNHANDLED, Result.IGNORED, "Neither a calendar reply nor a delivery report: nothing changed.")


def _route(message, raw, row) -> Verdict:
    verdict = bounces.handle_report(message, raw, inbound_id=row.pk)
    if verdict is not None:
        return verdict
    verdict = calendar.handle_calendar(message, sender=_sender(message))
    if verdict is not None:
        return verdict
    return _quiet_verdict(message)
