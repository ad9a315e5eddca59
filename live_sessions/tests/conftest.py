"""Shared builders for live-session tests (seed 003)."""

import itertools
from datetime import UTC, datetime, timedelta

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


def make_user(username="admin", **kwargs):
    kwargs.setdefault("email", f"{username}@example.com")
    return get_user_model().objects.create_user(username=username, password="x", **kwargs)


@pytest.fixture
def admin_user(db):
    return make_user("boss", is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    mail.outbox = []
