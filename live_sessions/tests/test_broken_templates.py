"""Issue 16 (security, second pass), "A template that breaks on real data gives 500s, even to learners": a body
with `{{ 5|divisibleby:0 }}` under a condition false for the sample learner passed the save check, then a learner's
date-choice POST answered 500 with a traceback. On the one-by-one enqueue path too, the message now goes with the
built-in words and says so; the learner's answer is recorded."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from live_sessions import messages, services
from live_sessions.models import LiveSession, SessionLearner
from notifications.admin.templates import MessageTemplateForm
from notifications.links import make_action_url
from notifications.models import Notification

from .conftest import STARTS, make_learner, make_session

pytestmark = pytest.mark.django_db

ASKED = STARTS - timedelta(days=30)


def save_confirmation_template(body):
    """Saved as an administrator would, through the form and its checks (the sample learner is Marie)."""
    form = MessageTemplateForm(
        data={"event": "participation.confirmed", "language": "en", "subject": "Confirmed", "body": body}
    )
    assert form.is_valid(), form.errors
    return form.save()


def choose_a_date(client):
    offered = [
        make_session(
            status=LiveSession.Status.READY,
            starts_at=STARTS + timedelta(days=7 * d),
            ends_at=STARTS + timedelta(days=7 * d, hours=2),
        )
        for d in range(2)
    ]
    with time_machine.travel(ASKED, tick=False):
        request = services.request_participation(make_learner(), offered)
        url = make_action_url(
            purpose=messages.PARTICIPATION_PURPOSE, obj=request.pk, recipient=f"l{request.learner_id}"
        )
        response = client.post(url[len(settings.SITE_URL) :], {"decision": str(offered[1].pk)})
    return request, offered[1], response


def test_a_learners_date_choice_with_a_template_that_fails_on_her_data_is_recorded_not_a_500(client):
    save_confirmation_template('{% if learner.first_name != "Marie" %}{{ 5|divisibleby:0 }}{% endif %}See you.')

    request, chosen, response = choose_a_date(client)

    assert response.status_code in (200, 302)
    assert "Traceback" not in response.content.decode()
    registered = SessionLearner.objects.get(session=chosen, learner=request.learner)
    assert registered.status == SessionLearner.Status.REGISTERED
    confirmation = Notification.objects.get(event="participation.confirmed")
    assert "See you." not in confirmation.body
    assert "ZeroDivisionError" in confirmation.context["template_fallback"]
    assert confirmation.subject.startswith("Confirmed: First aid workshop")  # the built-in words
    assert confirmation.status == Notification.Status.QUEUED


def test_a_learners_date_choice_with_a_template_too_slow_for_her_data_answers_within_two_seconds(client):
    slow = "{% for a in 'LONG' %}{% for b in 'LONG' %}{% if a == b %}{% endif %}{% endfor %}{% endfor %}"
    save_confirmation_template(
        '{% if learner.first_name != "Marie" %}' + slow.replace("LONG", "x" * 6000) + "{% endif %}See you."
    )
    started = time.monotonic()
    request, chosen, response = choose_a_date(client)
    elapsed = time.monotonic() - started

    assert response.status_code in (200, 302)
    assert elapsed < 2
    confirmation = Notification.objects.get(event="participation.confirmed")
    assert "exceeded a limit of one message" in confirmation.context["template_fallback"]
