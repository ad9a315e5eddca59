"""Seed 002 through the live-session admin: the convocation "Notify" (shown, editable, with or without the
calendar invitation), new dates confirmed with an optional extra message (the same calendar invitation updated),
and satisfaction surveys whose answer stops the reminder."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from icalendar import Calendar

from live_sessions import services
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import STARTS, make_learner, make_session

pytestmark = pytest.mark.django_db

LIST = "/admin/live_sessions/sessionlearner/"


def calendars(message):
    return [
        Calendar.from_ical(part.get_payload(decode=True))
        for part in message.message().walk()
        if part.get_content_type() == "text/calendar"
    ]


@pytest.fixture
def registered():
    session = make_session(status=LiveSession.Status.READY, feedback_form_url="https://forms.example.com/f")
    return services.register(session, make_learner())


def test_seed_002_notify_shows_the_generated_convocation_before_anything_is_sent(admin_client, registered):
    page = admin_client.post(LIST, {"action": "notify_convocation", "_selected_action": [registered.pk]})
    assert page.status_code == 200
    form = page.context["form"]
    assert form["subject"].value().startswith("Convocation")  # the auto-generated words, editable
    assert form["include_calendar"].value() is True
    assert "As the first learner will read it" in page.content.decode()
    assert not Notification.objects.filter(event="session.convocation").exists()


@pytest.mark.parametrize("include_calendar", [True, False])
def test_seed_002_the_edited_convocation_goes_with_or_without_the_calendar_invitation(
    admin_client, registered, include_calendar
):
    data = {
        "action": "notify_convocation",
        "_selected_action": [registered.pk],
        "confirm": "1",
        "subject": "See you on {{ session.starts_at|date:'j F' }}",
        "body": "Dear {{ learner.first_name }}, bring your safety shoes.",
    }
    if include_calendar:
        data["include_calendar"] = "on"
    response = admin_client.post(LIST, data)
    assert response.status_code == 302
    dispatch_outbox()
    (message,) = mail.outbox
    assert message.subject == "See you on 4 March"
    # The administrator's words, then the sign-off every email ends with (issue "what people see").
    assert message.body.startswith(f"Dear {registered.learner.first_name}, bring your safety shoes.\n\nKind regards,")
    assert len(calendars(message)) == (1 if include_calendar else 0)


def test_seed_002_new_dates_are_confirmed_with_an_extra_message_and_update_the_same_invitation(admin_client):
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    (invited,) = services.add_learners(session, [make_learner()])
    dispatch_outbox()
    mail.outbox.clear()
    url = "/admin/live_sessions/livesession/"
    page = admin_client.post(url, {"action": "change_dates", "_selected_action": [session.pk]})
    assert page.status_code == 200 and "1 learner already has the calendar invitation" in page.content.decode()
    new_start = STARTS + timedelta(days=7)  # 08:00 UTC = 09:00 in Paris, the session's time zone
    admin_client.post(
        url,
        {
            "action": "change_dates",
            "_selected_action": [session.pk],
            "confirm": "1",
            "starts_at_0": "2030-03-11",
            "starts_at_1": "09:00",
            "ends_at_0": "2030-03-11",
            "ends_at_1": "11:00",
            "message": "The room changes too: meet at the reception.",
        },
    )
    dispatch_outbox()
    (message,) = mail.outbox
    assert "meet at the reception" in message.body
    (calendar,) = calendars(message)
    (event,) = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert str(event["UID"]) == event_uid(session.pk, invited.learner_id)
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == new_start


def test_seed_002_bad_new_dates_change_nothing(admin_client):
    session = make_session(status=LiveSession.Status.READY)
    page = admin_client.post(
        "/admin/live_sessions/livesession/",
        {
            "action": "change_dates",
            "_selected_action": [session.pk],
            "confirm": "1",
            "starts_at_0": "2030-03-11",
            "starts_at_1": "11:00",
            "ends_at_0": "2030-03-11",
            "ends_at_1": "09:00",
        },
    )
    assert page.status_code == 200 and "must end after it starts" in page.content.decode()
    session.refresh_from_db()
    assert session.starts_at == STARTS and session.calendar_sequence == 0


def survey_link(admin_user, session_learner, email_type):
    services.mark_attendance(session_learner, attended=True, actor=admin_user)
    services.send_email(session_learner.session, [session_learner], email_type, actor=admin_user)
    row = Notification.objects.filter(event=f"session.{email_type}").latest("pk")
    return re.search(re.escape(settings.SITE_URL) + r"(/a/[^\s]+/)", row.body).group(1)


def test_seed_002_the_survey_link_opens_the_form_and_records_the_answer_so_no_reminder_follows(
    client, admin_user, registered
):
    path = survey_link(admin_user, registered, "feedback_form")
    page = client.get(path).content.decode()
    assert "https://forms.example.com/f" in page and 'value="answered"' in page
    registered.refresh_from_db()
    assert registered.feedback_answered_at is None  # opening changes nothing
    client.post(path, {"decision": "answered"})
    registered.refresh_from_db()
    assert registered.feedback_answered_at is not None
    result = services.send_email(registered.session, [registered], "feedback_form_reminder", actor=admin_user)
    assert result.sent == []


def test_seed_002_an_answer_recorded_by_an_administrator_cancels_a_queued_survey_reminder(
    admin_client, admin_user, registered
):
    survey_link(admin_user, registered, "feedback_form")
    services.send_email(registered.session, [registered], "feedback_form_reminder", actor=admin_user)
    admin_client.post(LIST, {"action": "mark_survey_answered", "_selected_action": [registered.pk]})
    dispatch_outbox()
    reminder = Notification.objects.get(event="session.feedback_form_reminder")
    assert (reminder.status, reminder.reason) == ("cancelled", "feedback_answered")


def test_seed_002_after_a_confirmed_session_the_administrator_asks_learners_to_choose_a_date(admin_client):
    first = make_session(status=LiveSession.Status.READY, title="Forklift")
    second = make_session(
        status=LiveSession.Status.READY,
        title="Forklift",
        starts_at=STARTS + timedelta(days=7),
        ends_at=STARTS + timedelta(days=7, hours=2),
    )
    (sl,) = services.add_learners(first, [make_learner()])
    page = admin_client.post(LIST, {"action": "ask_to_choose_a_date", "_selected_action": [sl.pk]})
    assert page.status_code == 200 and set(page.context["form"].fields["sessions"].queryset) == {first, second}
    admin_client.post(
        LIST,
        {
            "action": "ask_to_choose_a_date",
            "_selected_action": [sl.pk],
            "confirm": "1",
            "sessions": [first.pk, second.pk],
        },
    )
    row = Notification.objects.get(event="participation.request")
    assert row.recipient_learner_id == sl.learner_id and "Forklift" in row.body


def test_seed_002_a_date_choice_added_in_the_admin_emails_the_learner(admin_client):
    sessions = [make_session(status=LiveSession.Status.READY), make_session(status=LiveSession.Status.DRAFT)]
    learner = make_learner()
    url = "/admin/live_sessions/participationrequest/add/"
    data = {"learner": learner.pk, "status": "pending", "sessions": [s.pk for s in sessions]}
    page = admin_client.post(url, data)
    assert page.status_code == 200 and "Only sessions open for registration" in page.content.decode()
    assert not Notification.objects.exists()
    response = admin_client.post(url, {**data, "sessions": [sessions[0].pk]})
    assert response.status_code == 302
    assert Notification.objects.get(event="participation.request").recipient_learner == learner
