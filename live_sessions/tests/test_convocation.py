"""Seed 002 §III through live sessions: convening registered learners, and choosing one date among several."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail

from live_sessions import messages, services
from live_sessions.models import LiveSession, ParticipationRequest, SessionLearner
from notifications.links import make_action_url
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import STARTS, make_learner, make_session

pytestmark = pytest.mark.django_db

S = SessionLearner.Status


def test_seed_002_convocation_goes_to_registered_learners_with_the_calendar_invitation(admin_user):
    session = make_session(status=LiveSession.Status.READY)
    registered = services.register(session, make_learner())
    (invited,) = services.add_learners(session, [make_learner()])
    result = services.convoke(session, [registered, invited], actor=admin_user)
    assert result.sent == [registered]
    assert "registered" in result.skipped[0][1]
    dispatch_outbox()
    (message,) = mail.outbox
    assert message.subject.startswith("Convocation: First aid workshop")
    assert any(part.get_content_type() == "text/calendar" for part in message.message().walk())


def test_seed_002_convocation_without_calendar_and_with_edited_words(admin_user):
    session = make_session(status=LiveSession.Status.READY)
    registered = services.register(session, make_learner())
    services.convoke(
        session, [registered], actor=admin_user, subject="Be there", body="Bring shoes", include_calendar=False
    )
    dispatch_outbox()
    (message,) = mail.outbox
    # The administrator's words, signed off and laid out as every email (issue "what people see").
    assert (message.subject, message.body.split("\n\n")[0]) == ("Be there", "Bring shoes")
    # Issue 19: a convocation is mandatory and says it cannot be unsubscribed.
    assert message.body.endswith(
        "because you are on the list of participants of this session. "
        "This email is part of your training: it cannot be unsubscribed."
    )
    assert not any(part.get_content_type() == "text/calendar" for part in message.message().walk())


def date_choice():
    learner = make_learner()
    sessions = [
        make_session(
            status=LiveSession.Status.READY,
            starts_at=STARTS + timedelta(days=d),
            ends_at=STARTS + timedelta(days=d, hours=2),
        )
        for d in (0, 7)
    ]
    return learner, sessions, services.request_participation(learner, sessions)


def choice_path(request):
    url = make_action_url(purpose=messages.PARTICIPATION_PURPOSE, obj=request.pk, recipient=f"l{request.learner_id}")
    return url[len(settings.SITE_URL) :]


def test_seed_002_the_learner_chooses_a_date_and_is_registered_in_that_session(client):
    learner, sessions, request = date_choice()
    assert Notification.objects.get(event="participation.request").recipient_learner == learner
    page = client.get(choice_path(request)).content.decode()
    assert f'value="{sessions[1].pk}"' in page and 'value="decline"' in page
    client.post(choice_path(request), {"decision": str(sessions[1].pk)})
    request.refresh_from_db()
    assert request.status == ParticipationRequest.Status.CHOSEN and request.chosen_session == sessions[1]
    assert SessionLearner.objects.get(session=sessions[1], learner=learner).status == S.REGISTERED
    replay = client.post(choice_path(request), {"decision": str(sessions[0].pk)})
    assert "You chose" in replay.content.decode()
    assert not SessionLearner.objects.filter(session=sessions[0], learner=learner).exists()


def test_seed_002_a_date_choice_answered_before_sending_is_not_sent():
    _learner, _sessions, request = date_choice()
    services.decline_participation(request)
    dispatch_outbox()
    row = Notification.objects.get(event="participation.request")
    assert (row.status, row.reason) == ("cancelled", "request_declined")
