"""Realistic inbound mail, shaped as the clients and servers in the wild write it.

Used by the tests, `bench_inbound` and the demo. Each builder returns RFC 5322 bytes: calendar replies as
Outlook/Exchange, Google Calendar, Apple Calendar and Thunderbird send them (their headers, MIME structure,
transfer encodings and iCalendar dialects), and bounces as Postfix, Exim and Microsoft 365 write them.
"""

import base64
import hashlib
import quopri
import re
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
CLIENTS = ("outlook", "google", "apple", "thunderbird")
BOUNCERS = ("postfix", "exim", "microsoft365")


def _digest(*parts) -> str:
    # The same arguments give the same Message-ID in every process (hash() of a str changes between runs).
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def _b64(text: str) -> str:
    raw = base64.encodebytes(text.encode("utf-8")).decode("ascii")
    return raw.rstrip("\n")


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_reply(
    client,
    *,
    uid,
    attendee,
    sender=None,
    partstat="ACCEPTED",
    sequence=0,
    organizer="lms@inbound.example.org",
    title="First aid workshop",
    name="Ada Lovelace",
    message_id=None,
    method="REPLY",
    stamped_at=None,
    start=None,
    end=None,
) -> bytes:
    """A reply of `client` (outlook, google, apple, thunderbird) from `sender` (the attendee by default)."""
    stamped_at = stamped_at or datetime(2030, 2, 1, 9, 30, tzinfo=UTC)
    start = start or datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
    end = end or datetime(2030, 3, 4, 11, 0, tzinfo=UTC)
    values = {
        "uid": uid,
        "attendee": attendee,
        "sender": sender or attendee,
        "partstat": partstat,
        "sequence": sequence,
        "organizer": organizer,
        "title": title,
        "name": name,
        "method": method,
        "dtstamp": _stamp(stamped_at),
        "dtstart": _stamp(start),
        "dtend": _stamp(end),
        "word": {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}.get(partstat, "New time"),
        "message_id": message_id
        or f"<{client}.{_digest(uid, attendee, sender, partstat, sequence, stamped_at, method)}@x>",
    }
    ics = (HERE / f"{client}.ics").read_text().format(**values).replace("\n", "\r\n")
    values["ics_b64"] = _b64(ics)
    values["ics_qp"] = _qp(ics)
    text = (HERE / f"{client}.eml").read_text().format(**values)
    return _crlf(text)


def _crlf(text) -> bytes:
    return re.sub(r"(?<!\r)\n", "\r\n", text).encode("utf-8")


def bounce(
    bouncer, *, recipient, original_message_id="<notification.1.000000000000@lms-notify.local>", status="5.1.1"
) -> bytes:
    """A delivery status notification of `bouncer` (postfix, exim, microsoft365) for `recipient`."""
    soft = status.startswith("4")
    values = {
        "recipient": recipient,
        "domain": recipient.partition("@")[2] or "example.org",
        "original_message_id": original_message_id,
        "status": status,
        "action": "delayed" if soft else "failed",
        "smtp": status[0] + ("21" if soft else "50"),
        "words": "Mailbox temporarily unavailable, try again later"
        if soft
        else "User unknown in virtual mailbox table",
        "error_kind": "temporary" if soft else "permanent",
        "message_id": f"<{bouncer}.{_digest(recipient, original_message_id, status)}@mx.example.net>",
    }
    return _crlf((HERE / f"{bouncer}.eml").read_text().format(**values))
