"""Calendar invitations for live sessions (seed 003: "A calendar event email was sent"), built with icalendar.

One UID per session and learner, so a reschedule (higher SEQUENCE) or a
cancellation (METHOD:CANCEL) updates the event already in the learner's
calendar instead of adding a second one. Times are written in UTC; the
session's time zone is named in X-WR-TIMEZONE for clients that show it.
"""

from datetime import UTC
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def event_uid(session_id, learner_id) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "lms-notify.local"
    return f"live-session-{session_id}-learner-{learner_id}@{host}"


def organizer_address():
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or "LMS Notify", address or "noreply@lms-notify.local"


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
        event.add("dtstart", session.starts_at.astimezone(UTC))
        event.add("dtend", session.ends_at.astimezone(UTC))
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
