"""Seed 003 answers by emailed link, under the contract's link rules: GET shows, POST acts, a replay is
harmless, a tampered link gets 400 and an expired one 410. Pages speak the reader's language and time zone."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from live_sessions import messages, services
from live_sessions.models import LiveSession, SessionLearner
from notifications.links import make_action_url
from notifications.models import Notification

from .conftest import STARTS, make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

S = SessionLearner.Status


def path(url):
    return url[len(settings.SITE_URL) :]


def link(purpose, sl, *, recipient=None, days=30):
    return path(
        make_action_url(
            purpose=purpose, obj=sl.pk, recipient=recipient or f"l{sl.learner_id}", expires_in=timedelta(days=days)
        )
    )


def invited(**learner_fields):
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    (sl,) = services.add_learners(session, [make_learner(**learner_fields)])
    return sl


def status_of(sl):
    return SessionLearner.objects.get(pk=sl.pk).status


def test_seed_003_the_link_in_the_invitation_email_opens_the_answer_page():
    sl = invited()
    body = Notification.objects.get(event="session.invitation").body
    url = next(word for word in body.split() if word.startswith(settings.SITE_URL + "/a/"))
    from django.test import Client

    response = Client().get(path(url))
    assert response.status_code == 200 and "First aid workshop" in response.content.decode()
    assert status_of(sl) == S.INVITED


def test_seed_003_opening_the_invitation_shows_a_form_and_changes_nothing(client):
    sl = invited()
    response = client.get(link(messages.INVITATION_PURPOSE, sl))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'value="accept"' in content and 'value="decline"' in content and "First aid workshop" in content
    assert status_of(sl) == S.INVITED


def test_seed_003_accepting_registers_and_a_replay_is_harmless(client):
    sl = invited()
    url = link(messages.INVITATION_PURPOSE, sl)
    response = client.post(url, {"decision": "accept"})
    assert response.status_code == 200 and "You are registered" in response.content.decode()
    assert status_of(sl) == S.REGISTERED
    replay = client.post(url, {"decision": "decline"})
    assert replay.status_code == 200 and "already answered" in replay.content.decode()
    assert status_of(sl) == S.REGISTERED
    assert sl.status_changes.filter(to_status=S.REGISTERED).count() == 1


def test_seed_003_declining_the_invitation(client):
    sl = invited()
    client.post(link(messages.INVITATION_PURPOSE, sl), {"decision": "decline"})
    assert status_of(sl) == S.DECLINED


def test_seed_003_a_tampered_link_gets_400_and_changes_nothing(client):
    sl = invited()
    url = link(messages.INVITATION_PURPOSE, sl)
    broken = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    assert client.post(broken, {"decision": "accept"}).status_code == 400
    assert status_of(sl) == S.INVITED


def test_seed_003_a_link_for_another_learner_gets_400(client):
    sl = invited()
    other = make_learner()
    assert (
        client.post(link(messages.INVITATION_PURPOSE, sl, recipient=f"l{other.pk}"), {"decision": "accept"}).status_code
        == 400
    )
    assert status_of(sl) == S.INVITED


def test_seed_003_an_expired_link_gets_410(client):
    sl = invited()
    url = link(messages.INVITATION_PURPOSE, sl, days=1)
    with time_machine.travel(timedelta(days=2)):
        assert client.post(url, {"decision": "accept"}).status_code == 410
    assert status_of(sl) == S.INVITED


def test_seed_003_the_page_is_in_polish_with_the_date_in_the_learners_time_zone(client):
    sl = invited(language="pl", timezone="Europe/Warsaw")
    response = client.get(link(messages.INVITATION_PURPOSE, sl), HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode()
    assert "Zaproszenie na sesję" in content and "Akceptuję" in content
    # 08:00 UTC is 09:00 in Warsaw; Polish month names.
    assert "09:00" in content and "marca" in content
    done = client.post(link(messages.INVITATION_PURPOSE, sl), {"decision": "accept"}).content.decode()
    assert "Jesteś zapisany(-a)" in done and "Możesz zamknąć tę stronę." in done


def test_seed_003_the_page_is_in_french(client):
    sl = invited(language="fr")
    content = client.get(link(messages.INVITATION_PURPOSE, sl)).content.decode()
    assert "Invitation à une session" in content and "Accepter" in content and "mars" in content


def test_seed_003_accepting_when_the_session_is_full_without_waiting_list_says_so_in_words(client):
    sl = invited()
    LiveSession.objects.filter(pk=sl.session_id).update(capacity=1)
    services.register(sl.session, make_learner())
    response = client.post(link(messages.INVITATION_PURPOSE, sl), {"decision": "accept"})
    assert response.status_code == 400 and "is full and has no waiting list" in response.content.decode()
    assert status_of(sl) == S.INVITED


def approval_request(approver):
    session = make_session(status=LiveSession.Status.READY, requires_approval=True, approver=approver)
    return services.register(session, make_learner())


def test_seed_003_the_approver_approves_from_the_email_link(client):
    approver = make_user("approver")
    sl = approval_request(approver)
    url = link(messages.APPROVAL_PURPOSE, sl, recipient=f"u{approver.pk}")
    content = client.get(url).content.decode()
    assert 'value="approve"' in content and sl.learner.full_name in content
    assert status_of(sl) == S.NEEDS_APPROVAL
    client.post(url, {"decision": "approve"})
    assert status_of(sl) == S.REGISTERED
    assert "already decided" in client.post(url, {"decision": "decline"}).content.decode()
    assert status_of(sl) == S.REGISTERED


def test_seed_003_the_approver_declines_from_the_email_link(client):
    approver = make_user("approver")
    sl = approval_request(approver)
    client.post(link(messages.APPROVAL_PURPOSE, sl, recipient=f"u{approver.pk}"), {"decision": "decline"})
    assert status_of(sl) == S.APPROVAL_DECLINED


def test_seed_003_only_the_sessions_approver_can_use_the_approval_link(client):
    sl = approval_request(make_user("approver"))
    intruder = make_user("intruder")
    response = client.post(link(messages.APPROVAL_PURPOSE, sl, recipient=f"u{intruder.pk}"), {"decision": "approve"})
    assert response.status_code == 400 and status_of(sl) == S.NEEDS_APPROVAL
    learner_link = link(messages.APPROVAL_PURPOSE, sl)  # the learner cannot approve themselves
    assert client.post(learner_link, {"decision": "approve"}).status_code == 400


def registered():
    session = make_session(status=LiveSession.Status.READY, capacity=1, waiting_list_enabled=True)
    return services.register(session, make_learner())


def test_seed_003_confirming_from_the_attendance_reminder_keeps_the_place(client):
    sl = registered()
    url = link(messages.ATTENDANCE_PURPOSE, sl)
    assert 'value="accept"' in client.get(url).content.decode()
    client.post(url, {"decision": "accept"})
    sl.refresh_from_db()
    assert sl.status == S.REGISTERED and sl.attendance_confirmed_at is not None
    assert "already confirmed" in client.post(url, {"decision": "decline"}).content.decode()
    assert status_of(sl) == S.REGISTERED


def test_seed_003_declining_from_the_attendance_reminder_cancels_and_frees_the_place(client):
    sl = registered()
    waiting = services.register(sl.session, make_learner())
    client.post(link(messages.ATTENDANCE_PURPOSE, sl), {"decision": "decline"})
    assert status_of(sl) == S.CANCELLED
    assert status_of(waiting) == S.INVITED


def test_seed_003_a_waiting_learner_takes_a_freed_place_from_the_link(client):
    sl = registered()
    waiting = services.register(sl.session, make_learner())
    url = link(messages.PLACE_PURPOSE, waiting)
    no_place = client.post(url, {"decision": "accept"})
    assert no_place.status_code == 200 and "No place is free" in no_place.content.decode()
    assert status_of(waiting) == S.WAITING_LIST
    services.set_capacity(sl.session, capacity=2)
    client.post(url, {"decision": "accept"})
    assert status_of(waiting) == S.REGISTERED
    assert "You are registered" in client.post(url, {"decision": "accept"}).content.decode()


def test_seed_003_a_waiting_learner_leaves_the_waiting_list_from_the_link(client):
    sl = registered()
    waiting = services.register(sl.session, make_learner())
    client.post(link(messages.PLACE_PURPOSE, waiting), {"decision": "decline"})
    assert status_of(waiting) == S.CANCELLED


def test_seed_003_links_in_invitations_last_until_the_session_is_over():
    far = STARTS + timedelta(days=400)
    session = make_session(starts_at=far, ends_at=far + timedelta(hours=2))
    assert messages.link_lifetime(session) > timedelta(days=400)
