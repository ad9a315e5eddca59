"""`manage.py seed_demo`: demo data that shows every feature, safe to run again (contract, seeds 001-004)."""

from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from learners.models import Invitation, Learner
from live_sessions.models import LiveSession, SessionLearner
from programs.models import Assignment, Program
from programs.selectors import AssignmentState, with_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # seed_demo sets real passwords; the production hasher would make these tests slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


DEMO_APPS = ["auth", "learners", "programs", "live_sessions", "notifications"]


def counts():
    return {
        model._meta.label: model.objects.count() for app in DEMO_APPS for model in apps.get_app_config(app).get_models()
    }


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_running_twice_creates_no_duplicates():
    """Contract: seed_demo is idempotent."""
    seed()
    first = counts()
    seed()
    assert counts() == first
    assert first["learners.Learner"] >= 45


def test_it_prints_the_admin_login_and_the_login_works(client):
    output = seed()
    assert f"{settings.SITE_URL}/admin/" in output
    assert "admin / admin" in output
    assert client.login(username="admin", password="admin")
    assert client.get("/admin/").status_code == 200


def test_assignments_exist_in_every_state_and_the_certification_has_open_windows():
    """seed 001: open, overdue, completed and unassigned assignments; certification window open."""
    seed()
    states = set(with_state().values_list("state", flat=True))
    assert states == {value for value, _label in AssignmentState.choices}
    certification = Program.objects.get(kind=Program.Kind.CERTIFICATION)
    assert (certification.validity_days, certification.recertification_window_days) == (365, 60)
    now = timezone.now()
    window_open = Assignment.objects.filter(
        program=certification, expires_at__gt=now, expires_at__lte=now + timezone.timedelta(days=60)
    )
    recent = Assignment.objects.filter(program=certification, expires_at__gt=now + timezone.timedelta(days=60))
    assert window_open.exists() and recent.exists()


def test_learners_sessions_and_invitations_are_varied():
    """seeds 002-004: languages, consent, managers, sources, session and learner statuses."""
    seed()
    assert set(Learner.objects.values_list("language", flat=True)) == {"en", "fr", "pl"}
    assert Learner.objects.filter(consent_given_at__isnull=True).exists()
    assert Learner.objects.filter(phone="").exists() and Learner.objects.exclude(phone="").exists()
    assert Learner.objects.filter(reports__isnull=False, manager__isnull=False).exists()  # managers have managers
    assert set(Invitation.objects.values_list("status", flat=True)) == set(Invitation.Status.values)
    assert Invitation.objects.filter(source=Invitation.Source.BULK_IMPORT).exists()
    assert {"draft", "ready", "completed", "cancelled"} <= set(LiveSession.objects.values_list("status", flat=True))
    assert len(set(SessionLearner.objects.values_list("status", flat=True))) >= 9
    assert not SessionLearner.objects.filter(status_changes__isnull=True).exists()


def test_seeding_queues_no_messages():
    """Loading a demo must not write to the outbox (everything goes through the outbox: seed 004)."""
    seed()
    assert apps.get_model("notifications", "Notification").objects.count() == 0
