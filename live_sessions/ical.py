"""Calendar invitations for live sessions (seed 003: "A calendar event email was sent"), built with icalendar.

One UID per session and learner, so a reschedule (higher SEQUENCE) or a
cancellation (METHOD:CANCEL) updates the event already in the learner's
calendar instead of adding a second one. The UID ends with a keyed hash of
the session and the learner: a calendar reply naming a UID is
only believed when that part is right, so nobody can answer for another
learner by guessing her UID. The organiser is INBOUND_ADDRESS when set: the
mailbox where replies are read (notifications.inbound), named after the organisation
(ORGANISATION_NAME). Times are written in the session's own zone (TZID, with its VTIMEZONE), as the
session is held at a wall-clock time there; X-WR-TIMEZONE names it too for clients that read it.
"""

import re
from datetime import UTC
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from icalendar import Calendar, Event, vCalAddress, vText

from lms_notify import zones

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def event_uid(session_id, learner_id) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "lms-notify.local"
    return f"live-session-{session_id}-learner-{learner_id}-{_uid_token(session_id, learner_id)}@{host}"


def _uid_token(session_id, learner_id) -> str:
    # Derived, not stored: the same UID comes back for every update and cancellation of this learner's event.
    return salted_hmac("live_sessions.ical.event_uid", f"{int(session_id)}:{int(learner_id)}").hexdigest()[:24]


_UID = re.compile(r"live-session-(\d{1,18})-learner-(\d{1,18})-([0-9a-f]{24})@", re.ASCII)


def parse_event_uid(uid) -> tuple[int, int] | None:
    """(session id, learner id) of a UID this project made, else None (unknown, guessed or altered)."""
    match = _UID.match(str(uid or "").strip())
    if match is None:
        return None
    session_id, learner_id = int(match.group(1)), int(match.group(2))
    if not constant_time_compare(match.group(3), _uid_token(session_id, learner_id)):
        return None
    return session_id, learner_id


def organizer_address():
    """(name, address) of the calendar's organiser: the organisation, at the mailbox where replies are read."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    inbound = parseaddr(getattr(settings, "INBOUND_ADDRESS", "") or "")[1]
    return settings.ORGANISATION_NAME, inbound or address or "noreply@lms-notify.local"


# Stands for the learner's own lines (UID, ATTENDEE) in a session's calendar built once for many learners.
_LEARNER_MARK = "UID:__LEARNER__\r\n"


class SessionCalendar:
    """One session's calendar, built once; each learner's copy only adds their UID and ATTENDEE lines.

    Publishing a session of 2,000 learners would otherwise build and serialise 2,000 whole calendars.
    """

    def __init__(self, session, *, method=REQUEST, sequence=None, now=None):
        self.session_id = session.pk
        self.method = method
        now = now or timezone.now()
        calendar = Calendar()
        calendar.add("prodid", "-//LMS Notify//Live sessions//EN")
        calendar.add("version", "2.0")
        calendar.add("method", method)
        calendar.add("x-wr-timezone", session.timezone)
        event = Event()
        event.add("uid", "__LEARNER__")
        event.add("sequence", session.calendar_sequence if sequence is None else sequence)
        event.add("dtstamp", now.astimezone(UTC))
        zone = zones.zone_named(session.timezone)
        event.add("dtstart", session.starts_at.astimezone(zone))
        event.add("dtend", session.ends_at.astimezone(zone))
        event.add("summary", session.title)
        if session.location:
            event.add("location", session.location)
        event.add("description", f"{session.title} ({session.timezone})")
        event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
        organizer_name, organizer_email = organizer_address()
        organizer = vCalAddress(f"mailto:{organizer_email}")
        organizer.params["cn"] = vText(organizer_name)
        event.add("organizer", organizer)
        calendar.add_component(event)
        calendar.add_missing_timezones()  # the VTIMEZONE the TZID names, for clients without a zone database
        self.template = calendar.to_ical().decode("utf-8")
        assert _LEARNER_MARK in self.template

    def for_learner(self, learner) -> str:
        event = Event()
        event.add("uid", event_uid(self.session_id, learner.pk))
        attendee = vCalAddress(f"mailto:{learner.email}")
        attendee.params["cn"] = vText(learner.full_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=0)
        lines = event.to_ical().decode("utf-8").removeprefix("BEGIN:VEVENT\r\n").removesuffix("END:VEVENT\r\n")
        return self.template.replace(_LEARNER_MARK, lines, 1)

    def attachment_for(self, learner) -> dict:
        return attachment(self.for_learner(learner), method=self.method)


def build_calendar(*, session, learner, method=REQUEST, sequence=None, now=None) -> str:
    """The iCalendar text of one learner's invitation (REQUEST) or its cancellation (CANCEL)."""
    return SessionCalendar(session, method=method, sequence=sequence, now=now).for_learner(learner)


def attachment(ics_text, *, method=REQUEST) -> dict:
    """The outbox attachment; the email channel writes `method=` on the MIME part from the iCalendar METHOD."""
    return {
        "filename": "invite.ics" if method == REQUEST else "cancel.ics",
        "content": ics_text,
        "mimetype": f"text/calendar; method={method}",
    }
