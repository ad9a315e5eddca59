"""Issue 16 (security, second pass), "Live-session emails bypass the restricted engine": the subject and body an
administrator (or the seeded trainer) writes in the send-email and convocation forms were compiled by Django's
default engine, so `{% debug %}`, `{% include 'admin/base.html' %}` and `{% load notify_tags %}{% notify_history 3 %}`
worked. Every such text now passes the same checks, in the same engine, as message templates: refused in words
with nothing queued."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from live_sessions import services
from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification

from .conftest import make_learner, make_session, make_user, received_the_calendar_file

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status
LIST = reverse("admin:live_sessions_sessionlearner_changelist")

PAYLOADS = [
    ("{% debug %}", "{% debug %} is not allowed"),
    ("{% include 'admin/base.html' %}", "{% include %} is not allowed"),
    ("{% load notify_tags %}{% notify_history 3 %}", "{% load notify_tags %} is not allowed"),
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sender_client(client):
    """A staff user who may send emails to session learners (view and change them), nothing more."""
    user = make_user("sender", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="live_sessions",
            codename__in=["view_sessionlearner", "change_sessionlearner", "view_livesession"],
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def registered():
    session = make_session(status=LiveSession.Status.READY)
    return SessionLearner.objects.create(session=session, learner=make_learner(), status=Status.REGISTERED)


def page_text(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def nothing_queued():
    return not Notification.objects.exists() and not mail.outbox


@pytest.mark.parametrize("part", ["subject", "body"])
@pytest.mark.parametrize("payload, words", PAYLOADS)
def test_a_dangerous_tag_in_the_send_email_form_is_a_form_error_and_nothing_is_queued(
    sender_client, registered, payload, words, part
):
    data = {"subject": "About your session", "body": "See you there.", part: payload}
    response = sender_client.post(
        f"{LIST}?session__id__exact={registered.session_id}",
        {
            "action": "send_email",
            "_selected_action": [registered.pk],
            "email_type": "custom",
            "send_id": "a" * 32,
            "send": "1",
            **data,
        },
    )
    assert response.status_code == 200
    assert words in page_text(response)
    assert response.context["form"].non_field_errors()
    assert nothing_queued()


@pytest.mark.parametrize("payload, words", PAYLOADS)
def test_a_dangerous_tag_in_the_convocation_form_is_a_form_error_and_nothing_is_queued(
    sender_client, registered, payload, words
):
    response = sender_client.post(
        LIST,
        {
            "action": "notify_convocation",
            "_selected_action": [registered.pk],
            "confirm": "1",
            "subject": "Convocation",
            "body": f"Dear learner, {payload}",
            "include_calendar": "on",
        },
    )
    assert response.status_code == 200
    assert words in page_text(response)
    assert response.context["form"].non_field_errors()
    assert nothing_queued()


@pytest.mark.parametrize("payload, words", PAYLOADS)
def test_the_services_refuse_a_dangerous_tag_with_a_validation_error_and_queue_nothing(registered, payload, words):
    actor = make_user("boss", is_staff=True, is_superuser=True)
    with pytest.raises(ValidationError, match="is not allowed"):
        services.send_email(registered.session, [registered], "custom", actor=actor, subject="Hi", body=payload)
    with pytest.raises(ValidationError, match="is not allowed"):
        services.convoke(registered.session, [registered], actor=actor, subject=payload, body="Come")
    with pytest.raises(ValidationError, match="is not allowed"):
        services.preview_email(registered.session, [registered], "custom", subject="Hi", body=payload)
    assert nothing_queued()


def test_a_written_text_reading_what_the_event_does_not_offer_is_refused_as_a_message_template_is(registered):
    """The same checks as message templates, not only the same tags: values the event does not offer too."""
    actor = make_user("boss", is_staff=True, is_superuser=True)
    with pytest.raises(ValidationError, match="is not a value this event offers"):
        services.send_email(
            registered.session, [registered], "custom", actor=actor, subject="Hi", body="{{ settings.SECRET_KEY }}"
        )
    assert nothing_queued()


def test_the_extra_message_of_new_dates_is_sent_as_text_never_run_as_a_template(registered):
    """The new-dates extra message is a value the template prints, escaped in HTML: its tags stay words."""
    from notifications.services import dispatch_outbox

    session = registered.session
    received_the_calendar_file(registered)
    services.reschedule(
        session,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        message="{% debug %}{% load notify_tags %}{% notify_history 3 %}",
    )
    dispatch_outbox()
    (message,) = mail.outbox
    assert "{% debug %}{% load notify_tags %}{% notify_history 3 %}" in message.body
