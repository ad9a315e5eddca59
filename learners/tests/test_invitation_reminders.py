"""Seed 002 §I: an unanswered invitation is reminded 7 and 45 days after it was sent, each exactly once;
an answer stops the reminders (and cancels one already queued); imported learners hear nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from learners.models import Invitation, Learner
from learners.scanners import scan_invitation_reminders
from learners.services import invite, respond_to_invitation
from notifications.models import Notification, NotificationRule
from notifications.services import dispatch_outbox, scan_triggers

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_learner(n=0, **fields):
    return Learner.objects.create(
        email=f"learner{n}@example.com",
        first_name=f"Ada{n}",
        last_name="Lovelace",
        consent_given_at=SENT - timedelta(days=1),
        **fields,
    )


def reminders():
    return list(Notification.objects.filter(event="invitation.reminder").order_by("pk"))


def scan_on(day):
    with time_machine.travel(SENT + timedelta(days=day), tick=False):
        return scan_invitation_reminders()


@pytest.fixture
def invitation():
    with time_machine.travel(SENT, tick=False):
        return invite(make_learner())


def test_seed_002_reminders_come_7_and_45_days_after_the_invitation_each_exactly_once(invitation):
    assert scan_on(6) == 0
    assert scan_on(7) == 1
    assert scan_on(8) == 0 and scan_on(30) == 0  # the D+7 reminder is not repeated
    assert scan_on(44) == 0
    assert scan_on(45) == 1
    assert scan_on(46) == 0 and scan_on(60) == 0
    first = reminders()[0]
    assert first.to == "learner0@example.com" and settings.SITE_URL + "/a/" in first.body


def test_seed_002_the_reminders_carry_the_dedupe_key_of_their_stage(invitation):
    scan_on(7)
    scan_on(45)
    assert [r.dedupe_key for r in reminders()] == [
        f"invitation.reminder:l{invitation.learner_id}:email:inv{invitation.pk}:d7",
        f"invitation.reminder:l{invitation.learner_id}:email:inv{invitation.pk}:d45",
    ]


def test_seed_002_the_scan_of_every_trigger_runs_the_invitation_reminders_and_twice_creates_nothing(invitation):
    with time_machine.travel(SENT + timedelta(days=7), tick=False):
        scan_triggers()
        scan_triggers()
    assert len(reminders()) == 1


@pytest.mark.parametrize("accept", [True, False])
def test_seed_002_an_answer_stops_the_reminders(invitation, accept):
    with time_machine.travel(SENT + timedelta(days=3), tick=False):
        respond_to_invitation(invitation, accept=accept)
    assert scan_on(7) == 0 and scan_on(45) == 0
    assert reminders() == []


def test_seed_002_a_reminder_queued_before_the_answer_is_cancelled_at_send_time(invitation, mailoutbox):
    with time_machine.travel(SENT + timedelta(days=7), tick=False):
        scan_invitation_reminders()
        Notification.objects.filter(event="invitation.reminder").update(status="awaiting_confirmation")
        respond_to_invitation(invitation, accept=True)
        Notification.objects.filter(event="invitation.reminder").update(status="queued")
        mailoutbox.clear()
        dispatch_outbox()
    (reminder,) = reminders()
    assert (reminder.status, reminder.reason) == ("cancelled", "invitation_accepted")
    sent = Notification.objects.filter(status="sent").values_list("event", flat=True)
    assert list(sent) == ["invitation.sent"] and len(mailoutbox) == 1  # the invitation itself, not the reminder


def test_seed_002_a_late_scan_sends_the_latest_reminder_only(invitation):
    """The worker was down from day 6 to day 50: the D+7 reminder is not sent late, the D+45 one is."""
    assert scan_on(50) == 1
    assert [r.dedupe_key.rsplit(":", 1)[1] for r in reminders()] == ["d45"]
    assert scan_on(51) == 0


@pytest.mark.parametrize("source", [Invitation.Source.BULK_IMPORT, Invitation.Source.INTEGRATION])
def test_seed_002_learners_from_an_import_or_the_hr_integration_get_no_email_and_no_reminder(source):
    with time_machine.travel(SENT, tick=False):
        invite(make_learner(), source=source)
    for day in (7, 45):
        assert scan_on(day) == 0
    assert not Notification.objects.exists()


def test_seed_002_an_administrator_can_switch_the_reminders_off_or_move_them_to_sms(invitation):
    rule = NotificationRule.objects.create(event="invitation.reminder", channels=["sms"], is_enabled=False)
    assert scan_on(7) == 0
    rule.is_enabled, rule.requires_confirmation = True, False
    rule.save()
    Learner.objects.filter(pk=invitation.learner_id).update(phone="+33612345678")
    assert scan_on(45) == 1
    (reminder,) = reminders()
    assert (reminder.channel, reminder.to) == ("sms", "+33612345678")


def count_queries(scan):
    with CaptureQueriesContext(connection) as queries:
        created = scan()
    return created, len(queries)


def test_seed_002_the_reminder_scan_costs_a_fixed_number_of_queries():
    with time_machine.travel(SENT, tick=False):
        for n in range(3):
            invite(make_learner(n))
    few = count_queries(lambda: scan_on(7))
    with time_machine.travel(SENT + timedelta(days=8), tick=False):
        for n in range(3, 33):
            invite(make_learner(n))
    many = count_queries(lambda: scan_on(15))
    assert (few[0], many[0]) == (3, 30) and few[1] == many[1] <= 8


def test_seed_002_accepting_leads_to_a_page_with_the_next_step(client, invitation):
    from programs.models import Program
    from programs.services import assign

    assign(invitation.learner, Program.objects.create(title="Fire safety"))
    email = Notification.objects.get(event="invitation.sent")
    link = next(word for word in email.body.split() if word.startswith(settings.SITE_URL + "/a/"))
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        response = client.post(link[len(settings.SITE_URL) :], {"decision": "accept"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Fire safety" in page and 'href="/inbox/"' in page
    assert "You can close this page" not in page


def test_an_answered_invitation_link_mints_no_inbox_link_however_often_it_is_opened(client, invitation):
    """issue 16 (Medium): every GET of an accepted invitation link showed "Open my messages" with a fresh 7-day
    inbox token. The link page gives what its own token grants, and the page is never cached."""
    from django.test import Client

    Notification.objects.create(
        event="inbox.new_message",
        channel="inbox",
        recipient_learner=invitation.learner,
        subject="Private to the learner",
        body="-",
        status=Notification.Status.SENT,
        sent_at=SENT,
        dedupe_key="test:private",
    )
    email = Notification.objects.get(event="invitation.sent")
    link = next(word for word in email.body.split() if word.startswith(settings.SITE_URL + "/a/"))[
        len(settings.SITE_URL) :
    ]
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        client.post(link, {"decision": "accept"})
        # Whoever holds the answered link (a forwarded email, a shared computer) opens it again and again.
        holder = Client()
        pages = [holder.get(link) for _ in range(3)]
        assert all("/inbox/open/" not in page.content.decode() for page in pages)
        assert all("no-store" in page["Cache-Control"] for page in pages)
        assert "Private to the learner" not in holder.get("/inbox/").content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "Prochaine étape : commencez les formations"), ("pl", "Następny krok: rozpocznij")],
)
def test_seed_002_the_next_step_page_speaks_the_learners_language(client, language, words):
    with time_machine.travel(SENT, tick=False):
        invitation = invite(make_learner(language=language))
    email = Notification.objects.get(event="invitation.sent", context__invitation=invitation.pk)
    link = next(word for word in email.body.split() if word.startswith(settings.SITE_URL + "/a/"))
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        response = client.post(link[len(settings.SITE_URL) :], {"decision": "accept"})
    assert words in response.content.decode()
