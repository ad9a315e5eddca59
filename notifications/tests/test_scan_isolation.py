"""One bad rule or scanner fails alone (issue 16, "One bad rule stops every date reminder").

The attack: a rule whose offset is 2147483647 days made every `scan_triggers()` fail with OverflowError for as
long as it existed, silencing every date reminder, and its preview answered 500.
"""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from learners.models import Learner
from notifications import triggers
from notifications.models import Notification, NotificationRule, TriggerScan
from notifications.services import scan_triggers
from programs import services
from programs.models import Program

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
Timing = NotificationRule.Timing
HUGE = 2147483647


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def due_rule(days=3, **kwargs):
    return NotificationRule.objects.create(
        event="program.due",
        timing=Timing.BEFORE,
        offset_days=days,
        channels=["email"],
        notify_learner=True,
        notify_guardians=False,
        requires_confirmation=False,
        active_since=datetime(2025, 1, 1, tzinfo=UTC),
        **kwargs,
    )


def a_rule_stored_with_a_huge_offset():
    """Written past the form, as a row from before offsets were bounded would be."""
    bad = due_rule(name="Broken reminder")
    NotificationRule.objects.filter(pk=bad.pk).update(offset_days=HUGE)
    return bad


@pytest.fixture
def due_in_three_days(time_machine):
    """A learner whose program is due on 20 February; "3 days before" fires on the 17th at 8:00 in Paris."""
    time_machine.move_to(paris(2026, 2, 1, 10), tick=False)
    learner = Learner.objects.create(
        email="lena@example.com",
        first_name="Lena",
        last_name="Learner",
        timezone="Europe/Paris",
        consent_given_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    services.assign(learner, Program.objects.create(title="Safety basics"), due_at=paris(2026, 2, 20, 18))
    return learner


def test_a_rule_with_a_huge_offset_does_not_stop_the_other_rules_reminders(time_machine, due_in_three_days):
    bad = a_rule_stored_with_a_huge_offset()
    good = due_rule()
    time_machine.move_to(paris(2026, 2, 17, 8, 5), tick=False)

    assert scan_triggers() == 1

    assert Notification.objects.filter(rule=good, recipient_learner=due_in_three_days).count() == 1
    assert not Notification.objects.filter(rule=bad).exists()
    scan = TriggerScan.objects.get()
    assert scan.status == "failed" and scan.created == 1
    assert f"rule {bad.pk} “Broken reminder”" in scan.error and "beyond the longest offset" in scan.error


def test_outbox_status_says_which_rule_failed_and_why(time_machine, due_in_three_days):
    bad = a_rule_stored_with_a_huge_offset()
    time_machine.move_to(paris(2026, 2, 17, 8, 5), tick=False)
    scan_triggers()
    out = io.StringIO()
    call_command("outbox_status", stdout=out, stderr=io.StringIO())
    assert f"the last scan failed in part: programs.scanners.scan_program_triggers: rule {bad.pk}" in out.getvalue()


def test_a_failing_scanner_does_not_stop_the_others(time_machine, monkeypatch, due_in_three_days):
    due_rule()

    def broken(*, since, now):
        raise RuntimeError("the e-learning platform did not answer")

    monkeypatch.setattr(triggers, "_SCANNERS", [broken, *triggers._SCANNERS])
    time_machine.move_to(paris(2026, 2, 17, 8, 5), tick=False)

    assert scan_triggers() == 1

    assert Notification.objects.filter(event="program.due").count() == 1
    scan = TriggerScan.objects.get()
    assert scan.status == "failed"
    assert "RuntimeError: the e-learning platform did not answer" in scan.error


def test_a_scanner_whose_query_fails_inside_a_transaction_leaves_the_others_a_usable_connection(
    time_machine, monkeypatch, due_in_three_days
):
    """The test itself runs in a transaction, as a caller's would: a failed statement must not abort the rest."""
    from django.db import connection

    due_rule()

    def bad_sql(*, since, now):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(triggers, "_SCANNERS", [bad_sql, *triggers._SCANNERS])
    time_machine.move_to(paris(2026, 2, 17, 8, 5), tick=False)

    assert scan_triggers() == 1
    assert TriggerScan.objects.get().status == "failed"


def test_the_preview_of_a_rule_with_a_huge_offset_says_what_is_wrong(admin_client):
    bad = a_rule_stored_with_a_huge_offset()
    response = admin_client.get(reverse("admin:notifications_notificationrule_preview", args=[bad.pk]))
    assert response.status_code == 200
    assert "beyond the longest offset a rule may use (3650 days)" in response.content.decode()


def test_the_rule_form_refuses_an_offset_beyond_ten_years(admin_client):
    data = {
        "name": "",
        "event": "program.due",
        "channels": ["email"],
        "is_enabled": "on",
        "notify_learner": "on",
        "timing": "before",
        "offset_days": str(HUGE),
    }
    response = admin_client.post(reverse("admin:notifications_notificationrule_add"), data)
    assert response.status_code == 200
    assert "less than or equal to 3650" in response.content.decode()
    assert not NotificationRule.objects.exists()
    data["offset_days"] = "3650"
    assert admin_client.post(reverse("admin:notifications_notificationrule_add"), data).status_code == 302


def test_the_rule_preview_writes_its_dates_like_the_rest_of_the_admin(admin_client, due_in_three_days, settings):
    """Issue 20: the rule preview's dates were ISO/UTC ("2026-02-17 07:00") while the rest read
    "17 Feb 2026, 08:00" in the reader's time zone."""
    settings.TIME_ZONE = "Europe/Paris"
    rule = due_rule()

    content = admin_client.get(reverse("admin:notifications_notificationrule_preview", args=[rule.pk])).content.decode()

    assert "17 Feb 2026, 08:00" in content
    assert "2026-02-17" not in content and "(UTC)" not in content
