"""Seed 003 "Email Types": the seven emails an administrator sends, each only to the learners it is for."""

import pytest
from django.core import mail

from live_sessions import services
from live_sessions.emails import EmailType
from live_sessions.flow import LiveSessionError
from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import make_learner, make_session

pytestmark = pytest.mark.django_db

S = SessionLearner.Status


def session_with_every_status(**kwargs):
    """One learner in each of the 11 statuses."""
    session = make_session(
        status=LiveSession.Status.READY,
        registration_form_url="https://forms.example.com/register",
        feedback_form_url="https://forms.example.com/feedback",
        **kwargs,
    )
    rows = services.add_learners(session, [make_learner() for _ in S.values])
    for sl, status in zip(rows, S.values, strict=True):
        services.set_status([sl], status, actor=None)
    return session, {sl.status: sl for sl in SessionLearner.objects.filter(session=session).select_related("learner")}


EXPECTED = {
    EmailType.REGISTRATION_FORM: set(S.values),
    EmailType.ATTENDANCE_REMINDER: {S.REGISTERED},
    EmailType.FOLLOW_UP: {S.ATTENDED, S.GO_SHOW},
    EmailType.FEEDBACK_FORM: {S.ATTENDED, S.GO_SHOW},
    EmailType.CUSTOM: set(S.values),
    EmailType.WAITING_LEARNERS_INVITATION: {S.WAITING_LIST},
}


@pytest.mark.parametrize("email_type", list(EXPECTED))
def test_seed_003_each_email_type_goes_only_to_the_statuses_of_its_condition(email_type, admin_user):
    session, by_status = session_with_every_status()
    extra = {"subject": "About {{ session.title }}", "body": "Hi {{ learner.first_name }}"}
    result = services.send_email(
        session, list(by_status.values()), email_type, actor=admin_user, **(extra if email_type == "custom" else {})
    )
    assert {sl.status for sl in result.sent} == EXPECTED[email_type]
    assert {sl.status for sl, _reason in result.skipped} == set(S.values) - EXPECTED[email_type]
    for _sl, reason in result.skipped:
        assert reason.startswith("Status is ") and "this email is only for" in reason
    assert Notification.objects.filter(event=f"session.{email_type}").count() == len(EXPECTED[email_type])


def test_seed_003_the_registration_form_needs_the_session_to_have_one(admin_user):
    session, by_status = session_with_every_status()
    LiveSession.objects.filter(pk=session.pk).update(registration_form_url="")
    session.refresh_from_db()
    result = services.send_email(session, list(by_status.values()), "registration_form", actor=admin_user)
    assert result.sent == []
    assert {reason for _sl, reason in result.skipped} == {"The session has no registration form."}


@pytest.mark.parametrize("email_type", ["feedback_form", "feedback_form_reminder"])
def test_seed_003_feedback_emails_need_the_session_to_have_a_feedback_form(email_type, admin_user):
    session, by_status = session_with_every_status()
    LiveSession.objects.filter(pk=session.pk).update(feedback_form_url="")
    session.refresh_from_db()
    result = services.send_email(session, [by_status[S.ATTENDED]], email_type, actor=admin_user)
    assert result.sent == [] and result.skipped[0][1] == "The session has no feedback form."


def test_seed_003_the_feedback_reminder_goes_only_to_those_sent_the_form_who_have_not_answered(
    during_the_session, admin_user
):
    session, by_status = session_with_every_status()
    attended, go_show = by_status[S.ATTENDED], by_status[S.GO_SHOW]
    other = services.add_go_show(session, make_learner(), actor=admin_user)

    never_sent = services.send_email(session, [attended, go_show], "feedback_form_reminder", actor=admin_user)
    assert never_sent.sent == []
    assert {r for _sl, r in never_sent.skipped} == {"The feedback form was not sent to this learner yet."}

    services.send_email(session, [attended, go_show], "feedback_form", actor=admin_user)
    services.record_feedback(go_show)
    result = services.send_email(session, [attended, go_show, other], "feedback_form_reminder", actor=admin_user)
    assert result.sent == [attended]
    assert dict((sl.pk, r) for sl, r in result.skipped) == {
        go_show.pk: "Already answered the feedback form.",
        other.pk: "The feedback form was not sent to this learner yet.",
    }


def test_seed_003_a_reminder_queued_before_the_answer_is_cancelled_at_sending_time(admin_user):
    session, by_status = session_with_every_status()
    attended = by_status[S.ATTENDED]
    services.send_email(session, [attended], "feedback_form", actor=admin_user)
    services.send_email(session, [attended], "feedback_form_reminder", actor=admin_user)
    services.record_feedback(attended)
    dispatch_outbox()
    reminder = Notification.objects.get(event="session.feedback_form_reminder")
    assert (reminder.status, reminder.reason) == ("cancelled", "feedback_answered")


def test_seed_003_an_attendance_reminder_to_a_learner_who_cancelled_meanwhile_is_not_sent(admin_user):
    session, by_status = session_with_every_status()
    registered = by_status[S.REGISTERED]
    services.send_email(session, [registered], "attendance_reminder", actor=admin_user)
    services.cancel(registered)
    dispatch_outbox()
    reminder = Notification.objects.get(event="session.attendance_reminder")
    assert (reminder.status, reminder.reason) == ("cancelled", "learner_now_cancelled")


def test_seed_003_learners_without_consent_or_address_are_skipped_with_the_reason(admin_user):
    session = make_session(status=LiveSession.Status.READY)
    rows = services.add_learners(session, [make_learner(consent_given_at=None), make_learner(email="")])
    result = services.send_email(session, rows, "custom", actor=admin_user, subject="Hello", body="Hello")
    assert result.sent == []
    assert [reason for _sl, reason in result.skipped] == ["No consent to receive messages.", "No email address."]


def test_seed_003_subject_and_body_written_by_the_administrator_replace_the_words_for_each_learner(admin_user):
    session, by_status = session_with_every_status()
    registered = by_status[S.REGISTERED]
    services.send_email(
        session,
        [registered],
        "attendance_reminder",
        actor=admin_user,
        subject="See you, {{ learner.first_name }}",
        body="Room change for {{ session.title }}. Answer: {{ confirm_url }}",
    )
    dispatch_outbox()
    (message,) = mail.outbox
    assert message.subject == f"See you, {registered.learner.first_name}"
    assert message.body.startswith("Room change for First aid workshop. Answer: http://testserver/a/")


def test_seed_003_a_custom_notification_needs_a_subject_and_a_body(admin_user):
    session, by_status = session_with_every_status()
    with pytest.raises(LiveSessionError, match="needs a subject and a body"):
        services.send_email(session, list(by_status.values()), "custom", actor=admin_user, subject="Only a subject")
    assert not Notification.objects.exists()


def test_seed_003_a_broken_edited_template_is_refused_and_nothing_is_sent(admin_user):
    session, by_status = session_with_every_status()
    with pytest.raises(LiveSessionError, match="does not compile"):
        services.send_email(session, list(by_status.values()), "custom", actor=admin_user, subject="x", body="{% if %}")
    assert not Notification.objects.exists()


def test_seed_003_a_double_click_sends_once_but_sending_again_on_purpose_sends_again(admin_user):
    session, by_status = session_with_every_status()
    registered = [by_status[S.REGISTERED]]
    first = services.send_email(session, registered, "attendance_reminder", actor=admin_user, send_id="form-1")
    double = services.send_email(session, registered, "attendance_reminder", actor=admin_user, send_id="form-1")
    again = services.send_email(session, registered, "attendance_reminder", actor=admin_user, send_id="form-2")
    assert (len(first.sent), len(double.sent), len(again.sent)) == (1, 0, 1)
    assert double.skipped[0][1] == "Already sent by this same request."
    assert Notification.objects.filter(event="session.attendance_reminder").count() == 2


def test_seed_003_the_preview_shows_who_gets_it_who_is_skipped_and_the_rendered_words(admin_user):
    session, by_status = session_with_every_status()
    preview = services.preview_email(session, list(by_status.values()), "attendance_reminder")
    assert [sl.status for sl in preview.recipients] == [S.REGISTERED]
    assert len(preview.skipped) == 10
    assert "{{ session.title }}" in preview.subject_template
    (sample,) = preview.samples
    assert sample.subject == "Reminder: First aid workshop on 4 March 2030"
    assert "confirm_url" in preview.variables
    edited = services.preview_email(
        session, [by_status[S.REGISTERED]], "attendance_reminder", subject="Hi {{ learner.first_name }}"
    )
    assert edited.samples[0].subject == f"Hi {by_status[S.REGISTERED].learner.first_name}"
    assert not Notification.objects.exists()


def test_seed_003_an_unknown_email_type_is_refused(admin_user):
    session, by_status = session_with_every_status()
    with pytest.raises(LiveSessionError, match="is not an email type"):
        services.send_email(session, [], "newsletter", actor=admin_user)


def test_seed_003_sending_to_2000_learners_costs_a_fixed_number_of_queries(
    during_the_session, admin_user, django_assert_max_num_queries
):
    from learners.models import Learner

    session = make_session(status=LiveSession.Status.READY)
    learners = Learner.objects.bulk_create(
        Learner(email=f"mass{i}@example.com", first_name="Mass", last_name=str(i), consent_given_at=session.created_at)
        for i in range(2000)
    )
    rows = services.add_learners(session, learners)
    with django_assert_max_num_queries(8):
        services.set_status(rows, S.REGISTERED, actor=admin_user)
    with django_assert_max_num_queries(8):
        result = services.send_email(session, rows, "attendance_reminder", actor=admin_user)
    assert len(result.sent) == 2000
    with django_assert_max_num_queries(8):
        services.mark_attendance_many(session, {sl.pk: sl.pk % 2 == 0 for sl in rows}, actor=admin_user)
    assert SessionLearner.objects.filter(session=session, status=S.ATTENDED).count() == 1000
