"""Seed 002 through the live-session admin: the convocation "Notify" (shown, editable, with or without the
calendar invitation), new dates confirmed with an optional extra message (the same calendar invitation updated),
and satisfaction surveys whose answer stops the reminder."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from live_sessions import services
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import STARTS, make_learner, make_session, make_user, session_form_data, shown_inputs

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


SESSIONS = "/admin/live_sessions/livesession/"


def said(response):
    """The admin messages shown on the page a redirect ended on."""
    return [str(m) for m in response.context["messages"]]


def change_dates_page(session):
    return reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])


def new_dates(day="2030-03-11", start="09:00", end="11:00", **extra):
    """The confirmation page's fields, in the session's time zone (Europe/Paris: UTC+1 in March)."""
    return {"starts_at_0": day, "starts_at_1": start, "ends_at_0": day, "ends_at_1": end, **extra}


@pytest.fixture
def informed():
    """A ready session whose learners hold its calendar invitation: one invited, one registered; and one who
    declined, whom new dates do not concern."""
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    invited, registered, declined = services.add_learners(session, [make_learner(), make_learner(), make_learner()])
    dispatch_outbox()  # the three calendar invitations are sent
    services.register(session, registered.learner)
    services.respond(declined, accept=False)
    dispatch_outbox()
    mail.outbox.clear()
    return session, [invited, registered], declined


def test_seed_002_new_dates_on_the_session_form_wait_for_the_administrators_confirmation(
    admin_client, settings, informed
):
    """Seed 002 §IV: new dates typed on the session form are not applied at once; the administrator is taken to
    the confirmation page, pre-filled with them in the session's time zone, saying how many learners hear of it.
    The other fields are saved."""
    settings.TIME_ZONE = "UTC"
    session, _, _ = informed
    outbox_before = Notification.objects.count()
    data = session_form_data(session, starts_at_0="2030-03-11", ends_at_0="2030-03-11", location="Room 5")
    response = admin_client.post(reverse("admin:live_sessions_livesession_change", args=[session.pk]), data)
    assert response.status_code == 302 and response["Location"].startswith(change_dates_page(session))
    page = admin_client.get(response["Location"])
    shown = shown_inputs(page)
    # Issue 18: the form shows and takes 09:00-12:00 as Paris reads them (the session's zone); so does this page.
    assert (shown["starts_at_0"], shown["starts_at_1"], shown["ends_at_1"]) == ("2030-03-11", "09:00:00", "12:00:00")
    text = page.content.decode()
    assert "2 learners already have the calendar invitation: it will be updated (times in Europe/Paris)" in text
    assert 'name="message"' in text
    session.refresh_from_db()
    assert (session.location, session.starts_at, session.calendar_sequence) == ("Room 5", STARTS, 0)
    assert Notification.objects.count() == outbox_before
    assert not Notification.objects.filter(event="session.rescheduled").exists()
    assert LogEntry.objects.latest("pk").get_change_message() == "Changed Location."


def test_seed_002_confirming_new_dates_with_an_extra_message_updates_each_invitation_once(
    admin_client, settings, informed
):
    """Seed 002 §IV: once confirmed, every invited or registered learner gets one message updating the same
    calendar invitation (same UID, higher SEQUENCE) with the administrator's extra message; a second click
    on Confirm tells nobody twice."""
    settings.TIME_ZONE = "UTC"
    session, told, declined = informed
    data = session_form_data(session, starts_at_0="2030-03-11", ends_at_0="2030-03-11")
    page = admin_client.post(reverse("admin:live_sessions_livesession_change", args=[session.pk]), data, follow=True)
    confirm = {**shown_inputs(page), "message": "The room changes too: meet at the reception."}
    response = admin_client.post(page.request["PATH_INFO"], confirm, follow=True)
    assert response.request["PATH_INFO"] == reverse("admin:live_sessions_livesession_change", args=[session.pk])
    assert "New dates saved; 2 learners get the updated calendar invitation." in said(response)
    assert LogEntry.objects.latest("pk").get_change_message() == "Changed Starts at and Ends at."
    again = admin_client.post(page.request["PATH_INFO"], confirm, follow=True)
    assert "These are the session's dates already: nothing was changed or sent." in said(again)
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS + timedelta(days=7), 1)
    rows = Notification.objects.filter(event="session.rescheduled")
    assert sorted(rows.values_list("recipient_learner", flat=True)) == sorted(sl.learner_id for sl in told)
    dispatch_outbox()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(sl.learner.email for sl in told)
    for message, session_learner in zip(
        sorted(mail.outbox, key=lambda m: m.to[0]), sorted(told, key=lambda sl: sl.learner.email), strict=True
    ):
        assert "meet at the reception" in message.body
        (calendar,) = calendars(message)
        (event,) = [c for c in calendar.walk() if c.name == "VEVENT"]
        assert str(event["UID"]) == event_uid(session.pk, session_learner.learner_id)
        assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == STARTS + timedelta(days=7)
    assert declined.learner.email not in {m.to[0] for m in mail.outbox}


def test_seed_002_dates_confirmed_after_someone_else_moved_the_session_are_checked_again(admin_client, informed):
    """Seed 002 §IV: the learners were told of other dates since the page was opened; confirming the page as
    it was changes nothing, and the page, now showing the current dates, can be confirmed again."""
    session, told, _ = informed
    page = admin_client.get(change_dates_page(session))
    services.reschedule(session, starts_at=STARTS + timedelta(days=1), ends_at=STARTS + timedelta(days=1, hours=3))
    stale = admin_client.post(change_dates_page(session), {**shown_inputs(page), **new_dates()})
    assert stale.status_code == 200 and "changed in the meantime" in stale.content.decode()
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS + timedelta(days=1), 1)
    admin_client.post(change_dates_page(session), {**shown_inputs(stale), **new_dates()})
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS + timedelta(days=7), 2)
    assert Notification.objects.filter(event="session.rescheduled").count() == 2 * len(told)


def test_seed_002_the_change_dates_action_opens_the_same_confirmation_page(admin_client, informed):
    """Seed 002 §IV: the list's action leads to the session's confirmation page, with the current dates in the
    session's time zone, and back to the list once confirmed."""
    session, told, _ = informed
    page = admin_client.post(SESSIONS, {"action": "change_dates", "_selected_action": [session.pk]}, follow=True)
    assert page.request["PATH_INFO"] == change_dates_page(session)
    assert "2 learners already have the calendar invitation" in page.content.decode()
    shown = shown_inputs(page)
    assert (shown["starts_at_0"], shown["starts_at_1"], shown["next"]) == ("2030-03-04", "09:00:00", SESSIONS)
    response = admin_client.post(change_dates_page(session), {**shown, **new_dates(), "message": "Same room."})
    assert response["Location"] == SESSIONS
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS + timedelta(days=7), 1)
    assert Notification.objects.filter(event="session.rescheduled").count() == len(told)


def test_seed_002_changing_the_dates_is_refused_without_the_permission_to_change_sessions(client, informed):
    session, _, _ = informed
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_livesession"))
    client.force_login(viewer)
    assert client.get(change_dates_page(session)).status_code == 403
    assert client.post(change_dates_page(session), new_dates(sequence="0")).status_code == 403
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS, 0)
    assert not Notification.objects.filter(event="session.rescheduled").exists()
    editor = make_user("editor", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(codename__in=["view_livesession", "change_livesession"]))
    client.force_login(editor)
    assert client.get(change_dates_page(session)).status_code == 200


def test_seed_002_a_session_nobody_has_heard_of_is_rescheduled_directly_from_the_form(admin_client, settings):
    """Seed 002 §IV: nobody holds the calendar invitation yet (a learner not invited, one who declined), so
    there is nobody to tell and nothing to confirm."""
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    services.add_learners(session, [make_learner()])  # without calendar integration: not invited yet
    change = reverse("admin:live_sessions_livesession_change", args=[session.pk])
    data = session_form_data(session, starts_at_0="2030-03-11", ends_at_0="2030-03-11")
    response = admin_client.post(change, data, follow=True)
    assert response.redirect_chain[0][0] == reverse("admin:live_sessions_livesession_changelist")
    assert "New dates saved: no learner has the calendar invitation yet, so nobody is told." in said(response)
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS + timedelta(days=7), 1)
    assert not Notification.objects.filter(event="session.rescheduled").exists()


def test_seed_002_bad_new_dates_change_nothing(admin_client, informed):
    session, _, _ = informed
    page = admin_client.post(change_dates_page(session), new_dates(start="11:00", end="09:00", sequence="0"))
    assert page.status_code == 200 and "must end after it starts" in page.content.decode()
    session.refresh_from_db()
    assert session.starts_at == STARTS and session.calendar_sequence == 0
    assert not Notification.objects.filter(event="session.rescheduled").exists()


@pytest.mark.parametrize("status", [LiveSession.Status.CANCELLED, LiveSession.Status.COMPLETED])
def test_seed_002_a_cancelled_or_completed_session_keeps_its_dates(admin_client, status):
    session = make_session(status=status)
    for response in (
        admin_client.get(change_dates_page(session), follow=True),
        admin_client.post(change_dates_page(session), new_dates(sequence="0"), follow=True),
    ):
        assert "A cancelled or completed session cannot be rescheduled." in said(response)
    session.refresh_from_db()
    assert (session.starts_at, session.calendar_sequence) == (STARTS, 0)


def test_seed_002_new_dates_typed_while_cancelling_the_session_are_not_kept(admin_client, settings, informed):
    """Seed 002 §IV: the learners hear of the cancellation only, not of dates for a session that will not be."""
    settings.TIME_ZONE = "UTC"
    session, told, _ = informed
    data = session_form_data(session, status="cancelled", starts_at_0="2030-03-11", ends_at_0="2030-03-11")
    page = admin_client.post(reverse("admin:live_sessions_livesession_change", args=[session.pk]), data, follow=True)
    assert "The new dates were not saved: a cancelled or completed session cannot be rescheduled." in said(page)
    # Issue 18: the cancellation is confirmed on its own page, with a reason.
    response = admin_client.post(page.request["PATH_INFO"], {**shown_inputs(page), "reason": "Ill."}, follow=True)
    assert response.status_code == 200
    session.refresh_from_db()
    assert (session.status, session.starts_at) == (LiveSession.Status.CANCELLED, STARTS)
    assert not Notification.objects.filter(event="session.rescheduled").exists()
    assert Notification.objects.filter(event="session.cancelled").count() == len(told)


def test_seed_002_the_session_form_offers_a_change_the_dates_button(admin_client, informed):
    session, _, _ = informed
    page = admin_client.get(reverse("admin:live_sessions_livesession_change", args=[session.pk]))
    assert f'href="{change_dates_page(session)}"' in page.content.decode()


def survey_link(admin_user, session_learner, email_type):
    services.mark_attendance(session_learner, attended=True, actor=admin_user)
    services.send_email(session_learner.session, [session_learner], email_type, actor=admin_user)
    row = Notification.objects.filter(event=f"session.{email_type}").latest("pk")
    return re.search(re.escape(settings.SITE_URL) + r"(/a/[^\s]+/)", row.body).group(1)


def test_seed_002_the_survey_link_opens_the_form_and_records_the_answer_so_no_reminder_follows(
    during_the_session, client, admin_user, registered
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
    during_the_session, admin_client, admin_user, registered
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


def test_the_convocation_shows_the_email_as_read_first_and_its_whole_subject_in_a_box_that_does_not_cut_it(
    admin_client, registered
):
    """Issue 20: the subject box cut the template off at "Convocation: {{ session.ti"."""
    page = admin_client.post(LIST, {"action": "notify_convocation", "_selected_action": [registered.pk]})
    content = page.content.decode()

    assert re.search(r'<textarea name="subject"[^>]*rows="2"', content)
    assert content.index("As the first learner will read it") < content.index('name="subject"')


def test_a_subject_written_over_two_lines_goes_out_on_one(admin_client, registered):
    admin_client.post(
        LIST,
        {
            "action": "notify_convocation",
            "_selected_action": [registered.pk],
            "confirm": "1",
            "subject": "See you\r\n  on {{ session.starts_at|date:'j F' }}",
            "body": "Dear {{ learner.first_name }}.",
        },
    )
    dispatch_outbox()

    assert mail.outbox[0].subject == "See you on 4 March"
