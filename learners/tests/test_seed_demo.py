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


def test_seeding_messages_nobody_but_through_the_demos_own_messages_and_its_one_notify_run():
    """Creating learners, invitations and sessions queues nothing (seed 004: everything goes through the outbox);
    the only messages are the demo's examples of each state and what its Notify run sent."""
    from notifications.models import Notification, NotifyOutcome

    seed()
    notify_run_messages = set(NotifyOutcome.objects.exclude(notification=None).values_list("notification", flat=True))
    others = Notification.objects.exclude(pk__in=notify_run_messages).exclude(dedupe_key__contains=":demo-")
    assert list(others.values_list("dedupe_key", flat=True)) == []
    assert not Notification.objects.filter(dedupe_key__contains=":demo-", status__in=["queued", "sent"]).exists()


def test_messages_show_every_state_an_administrator_meets():
    """seed 004 / seed 000: awaiting confirmation, failed with the server's error, cancelled with a reason,
    omitted with a reason, and a Notify run whose omitted learners are listed with why."""
    from notifications.models import Notification, NotifyOutcome

    seed()
    messages = Notification.objects.all()
    assert messages.filter(status="awaiting_confirmation").exists()
    assert messages.filter(status="failed").exclude(last_error="").exists()
    assert messages.filter(status="cancelled").exclude(reason="").exists()
    assert set(messages.filter(status="omitted").values_list("reason", flat=True)) >= {"no_consent", "no_contact"}
    assert NotifyOutcome.objects.filter(action="omitted").exclude(reason="").exists()
    assert NotifyOutcome.objects.exclude(action="omitted").exists()
