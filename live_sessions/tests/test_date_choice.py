"""Seed 002 §III-B: the learner chooses one date among several; reminders 7 and 14 days later without an
answer; choosing registers and confirms with a calendar invitation; a full date is refused, the others stay."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from live_sessions import messages, services
from live_sessions.models import LiveSession, ParticipationRequest, SessionLearner
from live_sessions.scanners import scan_participation_reminders
from notifications.links import make_action_url
from notifications.models import Notification
from notifications.services import dispatch_outbox
from programs.models import Course, TrainingRequest

from .conftest import STARTS, make_learner, make_session

pytestmark = pytest.mark.django_db

ASKED = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
S = SessionLearner.Status


def sessions(n=2, **fields):
    return [
        make_session(
            status=LiveSession.Status.READY,
            starts_at=STARTS + timedelta(days=7 * d),
            ends_at=STARTS + timedelta(days=7 * d, hours=2),
            **fields,
        )
        for d in range(n)
    ]


def ask(learner=None, offered=None, **kwargs):
    with time_machine.travel(ASKED, tick=False):
        return services.request_participation(learner or make_learner(), offered or sessions(), **kwargs)


def path(request):
    url = make_action_url(purpose=messages.PARTICIPATION_PURPOSE, obj=request.pk, recipient=f"l{request.learner_id}")
    return url[len(settings.SITE_URL) :]


def scan_on(day):
    with time_machine.travel(ASKED + timedelta(days=day), tick=False):
        return scan_participation_reminders()


def reminders():
    return [
        r.dedupe_key.rsplit(":", 1)[1]
        for r in Notification.objects.filter(event="participation.reminder").order_by("pk")
    ]


def test_seed_002_each_origin_has_its_own_words():
    after_session = ask()
    learner = make_learner()
    course = Course.objects.create(title="First aid", kind=Course.Kind.CLASSROOM)
    approved = TrainingRequest.objects.create(learner=learner, course=course, status="approved")
    after_request = ask(learner, training_request=approved)
    first = Notification.objects.get(event="participation.request", recipient_learner=after_session.learner)
    second = Notification.objects.get(event="participation.request_after_approval", recipient_learner=learner)
    assert first.subject != second.subject
    assert "approved" in second.body and "First aid" in second.subject
    assert after_request.training_request == approved


def test_seed_002_without_an_answer_reminders_come_7_and_14_days_later_each_once():
    ask()
    assert scan_on(6) == 0
    assert scan_on(7) == 1 and scan_on(8) == 0
    assert scan_on(14) == 1 and scan_on(15) == 0 and scan_on(30) == 0
    assert reminders() == ["d7", "d14"]


def test_seed_002_a_late_scan_sends_only_the_reminder_due_now():
    ask()
    assert scan_on(16) == 1
    assert reminders() == ["d14"]


@pytest.mark.parametrize("answer", ["choose", "decline"])
def test_seed_002_an_answer_ends_the_reminders(answer):
    request = ask()
    with time_machine.travel(ASKED + timedelta(days=2), tick=False):
        if answer == "choose":
            services.choose_date(request, session=request.sessions.first())
        else:
            services.decline_participation(request)
    assert scan_on(7) == 0 and scan_on(14) == 0
    assert reminders() == []


def test_seed_002_a_reminder_queued_before_the_answer_is_cancelled():
    request = ask()
    with time_machine.travel(ASKED + timedelta(days=7), tick=False):
        scan_participation_reminders()
        Notification.objects.filter(event="participation.reminder").update(status="awaiting_confirmation")
        services.decline_participation(request)
        Notification.objects.filter(event="participation.reminder").update(status="queued")
        dispatch_outbox()
    row = Notification.objects.get(event="participation.reminder")
    assert (row.status, row.reason) == ("cancelled", "request_declined")


def test_seed_002_choosing_registers_and_sends_the_confirmation_with_a_calendar_invitation(client):
    request = ask()
    chosen = request.sessions.order_by("starts_at")[1]
    with time_machine.travel(ASKED + timedelta(days=1), tick=False):
        response = client.post(path(request), {"decision": str(chosen.pk)})
        assert response.status_code == 200
        mail.outbox.clear()
        dispatch_outbox()
    assert SessionLearner.objects.get(session=chosen, learner=request.learner).status == S.REGISTERED
    (email,) = mail.outbox
    assert email.subject.startswith("Confirmed: First aid workshop")
    parts = {part.get_content_type(): part for part in email.message().walk()}
    assert "text/calendar" in parts and b"METHOD:REQUEST" in parts["text/calendar"].get_payload(decode=True)


def test_seed_002_a_full_date_is_refused_clearly_and_the_other_dates_stay_offered(client):
    full, other = sessions(capacity=1)
    services.register(full, make_learner())
    request = ask(offered=[full, other])
    with time_machine.travel(ASKED + timedelta(days=1), tick=False):
        response = client.post(path(request), {"decision": str(full.pk)})
    page = response.content.decode()
    assert response.status_code == 409
    assert "is full" in page and "choose another date" in page
    assert f'value="{other.pk}"' in page
    request.refresh_from_db()
    assert request.status == ParticipationRequest.Status.PENDING
    assert not SessionLearner.objects.filter(session=full, learner=request.learner).exists()
    with time_machine.travel(ASKED + timedelta(days=1), tick=False):
        client.post(path(request), {"decision": str(other.pk)})
    assert SessionLearner.objects.get(session=other, learner=request.learner).status == S.REGISTERED


def test_seed_002_the_reminder_scan_costs_a_fixed_number_of_queries():
    offered = sessions()
    counts = []
    for requests, day in ((3, 7), (25, 14)):
        for _ in range(requests):
            ask(offered=offered)
        with CaptureQueriesContext(connection) as queries:
            created = scan_on(day)
        counts.append((created, len(queries)))
    # Day 14: the 3 first requests get their D+14 reminder, the 25 new ones (asked the same day) D+14 too.
    # At most 9 since issue 19: the outbox door reads the batch's undeliverable addresses once.
    assert [c for c, _ in counts] == [3, 28] and counts[0][1] == counts[1][1] <= 9


def test_seed_002_the_calendar_invitation_of_the_confirmation_can_be_switched_off(settings):
    settings.DATE_CHOICE_CALENDAR_INVITATION = False
    request = ask()
    with time_machine.travel(ASKED + timedelta(days=1), tick=False):
        services.choose_date(request, session=request.sessions.first())
        mail.outbox.clear()
        dispatch_outbox()
    (email,) = mail.outbox
    assert email.subject.startswith("Confirmed:") and "calendar invitation" not in email.body
    assert all(part.get_content_type() != "text/calendar" for part in email.message().walk())
