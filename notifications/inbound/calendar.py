"""Calendar replies (iTIP, RFC 5546) found in an inbound email, and the apps that answer them.

The app that sent the invitation registers a handler (`register_calendar_reply_handler`, from its own
`<app>/inbound.py`, discovered at start-up): it is given each reply and returns a Verdict, or None when
the UID is not one of its own.
"""

import logging
import re
from collections.abc import Callable
from datetime import date, datetime

from django.utils import timezone
from icalendar import Calendar

from .types import CalendarReply, Kind, Result, Verdict

logger = logging.getLogger(__name__)

_HANDLERS: list[Callable[[CalendarReply], Verdict | None]] = []

CALENDAR_TYPES = {"text/calendar", "application/ics", "text/x-vcalendar"}


def register_calendar_reply_handler(func):
    if func not in _HANDLERS:
        _HANDLERS.append(func)
    return func


def calendar_texts(message) -> list[bytes]:
    """The iCalendar bodies of an email: text/calendar parts (Outlook, Apple, Thunderbird) and .ics
    attachments (Google sends both, the same event twice). Transfer encodings are undone by the parser."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if content_type in CALENDAR_TYPES or filename.endswith(".ics"):
            payload = part.get_payload(decode=True)
            # Mail gateways sometimes double the CR of CRLF line ends; iCalendar values must not keep one.
            payload = re.sub(rb"\r+\n", b"\r\n", payload or b"")
            if payload and payload not in found:
                found.append(payload)
    return found


def _datetime(value):
    if value is None:
        return None
    moment = value.dt
    if isinstance(moment, datetime):
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.utc)
    if isinstance(moment, date):
        return timezone.make_aware(datetime(moment.year, moment.month, moment.day), timezone.utc)
    return None


def _address(value) -> str:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower()


def replies_in(message, *, sender) -> list[CalendarReply]:
    """Every REPLY or COUNTER VEVENT of the message's calendars (unparseable ones are skipped)."""
    replies, seen = [], set()
    for text in calendar_texts(message):
        try:
            calendar = Calendar.from_ical(text)
        except Exception:  # noqa: BLE001 - a broken attachment is not a reply
            logger.info("Unreadable iCalendar part in an inbound message")
            continue
        method = str(calendar.get("method", "")).strip().upper()
        if method not in ("REPLY", "COUNTER"):
            continue
        for event in calendar.walk("VEVENT"):
            attendees = event.get("attendee")
            if attendees is None:
                continue
            if not isinstance(attendees, list):
                attendees = [attendees]
            for attendee in attendees:
                try:
                    sequence = int(event.get("sequence", 0))
                except (TypeError, ValueError):
                    sequence = 0
                reply = CalendarReply(
                    method=method,
                    uid=str(event.get("uid", "")).strip(),
                    attendee=_address(attendee),
                    partstat=str(getattr(attendee, "params", {}).get("PARTSTAT", "")).strip().upper(),
                    sequence=sequence,
                    stamped_at=_datetime(event.get("dtstamp")),
                    sender=sender,
                    comment=str(event.get("comment", "") or "")[:500],
                    proposed_start=_datetime(event.get("dtstart")) if method == "COUNTER" else None,
                    proposed_end=_datetime(event.get("dtend")) if method == "COUNTER" else None,
                )
                key = (reply.method, reply.uid, reply.attendee, reply.partstat, reply.sequence)
                if key not in seen:
                    seen.add(key)
                    replies.append(reply)
    return replies


def handle_calendar(message, *, sender) -> Verdict | None:
    """The verdict of the message's calendar replies, or None when it holds no iTIP reply."""
    replies = replies_in(message, sender=sender)
    if not replies:
        return None
    verdicts = []
    for reply in replies:
        verdict = None
        for handler in list(_HANDLERS):
            verdict = handler(reply)
            if verdict is not None:
                break
        verdicts.append(
            verdict
            or Verdict(
                kind=Kind.CALENDAR_REPLY,
                result=Result.IGNORED,
                outcome=f"Unknown invitation (UID {reply.uid[:120]!r}): nothing changed.",
            )
        )
    # One reply per message in practice; with several, the first that did something speaks for the row.
    verdicts.sort(key=lambda v: v.result != Result.APPLIED)
    first = verdicts[0]
    if len(verdicts) > 1:
        first.outcome += " " + " ".join(v.outcome for v in verdicts[1:])
    return first
