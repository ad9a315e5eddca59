"""The trigger scan's bookkeeping, its monitoring, and the rule screen (seed 001 date triggers, seed 004 rules)."""

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from learners.models import Learner
from notifications import triggers
from notifications.models import NotificationRule, TriggerScan
from notifications.rules import describe_rule
from notifications.services import scan_triggers
from programs import services
from programs.models import Program

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Timing = NotificationRule.Timing


def rule(event="program.due", timing=Timing.BEFORE, days=3, **kwargs):
    defaults = dict(
        channels=["email"],
        notify_learner=True,
        notify_manager=True,
        notify_guardians=False,
        requires_confirmation=True,
        active_since=datetime(2025, 1, 1, tzinfo=UTC),
    )
    defaults.update(kwargs)
    return NotificationRule.objects.create(event=event, timing=timing, offset_days=days, **defaults)


def test_rules_read_in_words():
    """seed 001 timings and seed 004 channels/confirmation, as the rule screen shows them."""
    assert describe_rule(rule()) == (
        "3 days before the program due date, to the learner and their manager, by email, after confirmation"
    )
    assert describe_rule(
        rule(
            "program.completed",
            Timing.AFTER,
            1,
            channels=["email", "sms"],
            notify_manager=False,
            requires_confirmation=False,
        )
    ) == ("1 day after the completion, to the learner, by email and SMS, without confirmation")
    assert describe_rule(rule("program.completed", Timing.ON_EVENT, 0, notify_guardians=True)).startswith(
        "as soon as it happens, to the learner, their guardians and their manager"
    )
    assert describe_rule(rule("certification.window_open", Timing.ON_EVENT, 0, channels=[])).startswith(
        "on the opening of the recertification window, to the learner and their manager, on no channel (silent)"
    )
    assert "site administrators" in describe_rule(
        rule(
            "program.exception", Timing.ON_EVENT, 0, notify_learner=False, notify_manager=False, notify_site_admins=True
        )
    )


def test_a_scan_records_its_window_and_the_next_one_starts_where_it_stopped(time_machine):
    """seed 001 catch-up: the next scan covers the dates since the last successful one, whatever the gap."""
    time_machine.move_to(T0, tick=False)
    scan_triggers()
    time_machine.move_to(T0 + timedelta(hours=30), tick=False)
    scan_triggers()
    first, second = TriggerScan.objects.order_by("window_end")
    assert (first.status, second.status) == ("done", "done")
    assert second.window_start == first.window_end - triggers.SCAN_OVERLAP
    assert second.window_end == T0 + timedelta(hours=30)


def test_a_failed_scan_does_not_move_the_window(time_machine, monkeypatch):
    """seed 001 exactly once after downtime: a scan that crashed is redone from the last success."""
    time_machine.move_to(T0, tick=False)
    scan_triggers()

    def broken(*, since, now):
        raise RuntimeError("database went away")

    monkeypatch.setattr(triggers, "_SCANNERS", [*triggers._SCANNERS, broken])
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    scan_triggers()
    failed = TriggerScan.objects.get(status="failed")
    assert "database went away" in failed.error
    monkeypatch.setattr(triggers, "_SCANNERS", [s for s in triggers._SCANNERS if s is not broken])
    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    scan_triggers()
    latest = TriggerScan.objects.filter(status="done").latest("window_end")
    assert latest.window_start == T0 - triggers.SCAN_OVERLAP


def test_outbox_status_reports_the_scanner_and_fails_after_three_silent_intervals(time_machine):
    """Monitoring of the date-trigger scan (seed 001 "scheduling that holds in production")."""
    time_machine.move_to(T0, tick=False)
    scan_triggers()
    time_machine.move_to(T0 + timedelta(minutes=12), tick=False)
    out = io.StringIO()
    call_command("outbox_status", stdout=out)
    assert "trigger scan: last successful run 2026-03-02 09:00:00 UTC, late by 7.0 min (every 5 min)" in out.getvalue()

    time_machine.move_to(T0 + timedelta(minutes=16), tick=False)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("outbox_status", stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2
    assert "the trigger scan has not succeeded for 16.0 min > 3 intervals of 5 min" in err.getvalue()
    call_command("outbox_status", "--max-scan-intervals=4", stdout=io.StringIO())


# --- The rule screen ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    def login(*codenames):
        user = get_user_model().objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client.force_login(user)
        return client

    return login


def test_the_rule_screen_lists_every_event_with_its_rules_or_no_rule_not_sent(admin_client):
    """seed 001: every trigger of the catalogue; an event without a rule says it is not sent."""
    due = rule()
    rule("program.completed", Timing.AFTER, 3, is_enabled=False)
    response = admin_client.get(reverse("admin:notifications_notificationrule_events"))
    assert response.status_code == 200
    html = response.content.decode()
    for code in (
        "program.due",
        "program.course_set_due",
        "certification.expiry",
        "certification.window_open",
        "certification.recertification_failed",
        "program.completed",
        "invitation.sent",
    ):
        assert f'data-event="{code}"' in html
    assert describe_rule(due) in html
    assert html.count("no rule: not sent") >= 8  # every other seed 001 event
    assert "no enabled rule: not sent" in html  # program.completed has only a disabled rule
    changelist = admin_client.get(reverse("admin:notifications_notificationrule_changelist")).content.decode()
    assert describe_rule(due) in changelist


def test_the_preview_lists_the_occurrences_of_the_next_30_days_and_for_whom(admin_client, time_machine):
    """seed 001: what "3 days before the program due date" will send in the next 30 days; nothing is written."""
    time_machine.move_to(T0, tick=False)
    manager = Learner.objects.create(email="m@example.com", first_name="Maria", last_name="Manager")
    soon = Learner.objects.create(
        email="s@example.com", first_name="Sam", last_name="Soon", manager=manager, timezone="Europe/Paris"
    )
    late = Learner.objects.create(email="l@example.com", first_name="Lou", last_name="Later")
    program = Program.objects.create(title="Safety basics")
    services.assign(soon, program, due_at=datetime(2026, 3, 20, 12, tzinfo=PARIS))
    services.assign(late, program, due_at=datetime(2026, 5, 20, 12, tzinfo=UTC))  # beyond 30 days
    due = rule()
    response = admin_client.get(reverse("admin:notifications_notificationrule_preview", args=[due.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 occurrence between now and 30 days from now." in html
    # 8:00 in Paris, read in the administrator's zone (UTC here) in issue 20's one date format (lms_notify.dates).
    assert "17 Mar 2026, 07:00" in html
    assert "Sam Soon" in html and "Maria Manager" in html and "Lou Later" not in html
    from notifications.models import Notification

    assert not Notification.objects.exists()


def test_rule_screens_and_actions_need_their_permissions(staff_client):
    """Every admin view checks a permission; the enable/disable actions need "change"."""
    due = rule()
    client = staff_client("view_notificationrule")
    assert client.get(reverse("admin:notifications_notificationrule_events")).status_code == 200
    assert client.get(reverse("admin:notifications_notificationrule_preview", args=[due.pk])).status_code == 200
    page = client.get(reverse("admin:notifications_notificationrule_changelist")).content.decode()
    assert "enable_rules" not in page
    client.logout()
    get_user_model().objects.create_user("nobody", "n@example.com", "pw", is_staff=True)
    client.login(username="nobody", password="pw")
    assert client.get(reverse("admin:notifications_notificationrule_events")).status_code == 403
    assert client.get(reverse("admin:notifications_notificationrule_preview", args=[due.pk])).status_code == 403


def test_a_rule_timing_the_event_does_not_allow_is_refused(admin_client):
    """seed 001: "Program completed" is on the event or N days after, never before."""
    data = {
        "name": "",
        "event": "program.completed",
        "channels": ["email"],
        "is_enabled": "on",
        "notify_learner": "on",
        "timing": "before",
        "offset_days": "3",
    }
    response = admin_client.post(reverse("admin:notifications_notificationrule_add"), data)
    assert response.status_code == 200
    assert "is not possible for this event" in response.content.decode()
    assert not NotificationRule.objects.exists()


def test_a_scan_while_another_worker_scans_does_nothing(time_machine):
    """seed 001 on a cluster: one scan at a time; the running one covers the window."""
    from django.db import DEFAULT_DB_ALIAS, connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    time_machine.move_to(T0, tick=False)
    other_worker = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other_worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [triggers._ADVISORY_LOCK_KEY])
        assert scan_triggers() == 0
        assert not TriggerScan.objects.exists()
        with other_worker.cursor() as cursor:
            # Explicitly: a closed session frees its locks only once the server has noticed.
            cursor.execute("SELECT pg_advisory_unlock(%s)", [triggers._ADVISORY_LOCK_KEY])
    finally:
        other_worker.close()
    scan_triggers()
    assert TriggerScan.objects.filter(status="done").count() == 1


def test_a_scanner_without_a_window_is_still_run(time_machine, monkeypatch):
    """Features whose scanner finds what is due now on its own (idempotent) register it as it is."""
    calls = []

    def legacy_scanner():
        calls.append("run")
        return 2

    monkeypatch.setattr(triggers, "_SCANNERS", [*triggers._SCANNERS, legacy_scanner])
    time_machine.move_to(T0, tick=False)
    assert scan_triggers() == 2
    assert calls == ["run"]
