"""Shared builders for live-session tests (seed 003)."""

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from learners.models import Learner
from live_sessions.models import LiveSession

_numbers = itertools.count(1)

STARTS = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)


def make_learner(**kwargs):
    n = next(_numbers)
    fields = {
        "email": f"learner{n}@example.com",
        "first_name": f"Ada{n}",
        "last_name": f"Lovelace{n}",
        "consent_given_at": timezone.now(),
        "timezone": "Europe/Paris",
    }
    fields.update(kwargs)
    return Learner.objects.create(**fields)


def make_session(**kwargs):
    fields = {
        "title": "First aid workshop",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=3),
        "timezone": "Europe/Paris",
        "location": "Room 2",
        "capacity": 10,
    }
    fields.update(kwargs)
    return LiveSession.objects.create(**fields)


def received_the_calendar_file(*session_learners):
    """Record, as the outbox would, that each learner was sent the session's calendar file: new dates are
    only sent to them (seed 002 §IV)."""
    from notifications.models import Notification

    for sl in session_learners:
        Notification.objects.create(
            event="session.invitation",
            channel="email",
            recipient_learner=sl.learner,
            to=sl.learner.email,
            attachments=[{"filename": "invite.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}],
            context={"session": sl.session_id, "session_learner": sl.pk},
            status=Notification.Status.SENT,
            dedupe_key=f"test:calendar:sl{sl.pk}",
        )
    return session_learners


def make_user(username="admin", **kwargs):
    kwargs.setdefault("email", f"{username}@example.com")
    return get_user_model().objects.create_user(username=username, password="x", **kwargs)


@pytest.fixture
def during_the_session(time_machine):
    """The clock at STARTS + 5 minutes: a session made with make_session() is on, its attendance open and its
    answers still taken (issue 16: windows.require_attendance_open / require_answerable)."""
    time_machine.move_to(STARTS + timedelta(minutes=5), tick=False)


@pytest.fixture
def admin_user(db):
    return make_user("boss", is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    mail.outbox = []


def session_form_data(session, **changes):
    """What the session's change form posts, unchanged but for `changes` (dates as the session's clock reads
    them: the form shows and takes them in the session's zone, issue 18)."""
    try:
        zone = ZoneInfo(session.timezone)
        starts_at, ends_at = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    except OverflowError:  # a date at the end of the calendar: typed as stored
        starts_at, ends_at = session.starts_at, session.ends_at
    data = {
        "title": session.title,
        "status": session.status,
        "starts_at_0": starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": starts_at.strftime("%H:%M:%S"),
        "ends_at_0": ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": ends_at.strftime("%H:%M:%S"),
        "timezone": session.timezone,
        "location": session.location,
        "capacity": session.capacity,
    }
    for name in ("waiting_list_enabled", "requires_approval", "calendar_integration"):
        if getattr(session, name):
            data[name] = "on"  # an unticked box is simply not posted
    data.update(changes)
    return data


def shown_inputs(page) -> dict[str, str]:
    """The value of every input of a page, by name: what the administrator sees pre-filled and posts back."""
    return dict(re.findall(r'<input[^>]* name="([^"]+)"[^>]* value="([^"]*)"', page.content.decode()))
