"""Issue 18 "An offer that is not taken within a set time passes to the next": the learner whose offer
expired is told so, in her language, with the session's day and time — no longer silently "declined" — and
one scan tells every such learner in one send through the door."""

from datetime import timedelta

import pytest
import time_machine

from live_sessions import services
from live_sessions.models import SessionLearner
from live_sessions.scanners import scan_expired_waiting_list_offers
from live_sessions.services import waiting
from notifications.models import Notification

from .test_waiting_list_trust import EARLY, queue_up, statuses

S = SessionLearner.Status
pytestmark = pytest.mark.django_db


def let_the_offer_expire(registered):
    offered_at = EARLY + timedelta(days=1)
    with time_machine.travel(offered_at, tick=False):
        services.cancel(registered[0])
    with time_machine.travel(offered_at + timedelta(hours=48, minutes=1), tick=False):
        return scan_expired_waiting_list_offers()


@pytest.mark.parametrize(
    ("language", "words", "day"),
    [
        ("en", "has passed to the next person on the waiting list", "4 March 2030"),
        ("fr", "est passée à la personne suivante de la liste d’attente", "4 mars 2030"),
        ("pl", "przeszło na kolejną osobę z listy oczekujących", "4 marca 2030"),
    ],
)
def test_a_learner_whose_offer_expired_is_told_the_place_passed_on_in_her_language(settings, language, words, day):
    settings.WAITING_LIST_OFFER_HOURS = 48
    _session, registered, queue = queue_up(capacity=1, waiting=2)
    type(queue[0].learner).objects.filter(pk=queue[0].learner_id).update(language=language)

    assert let_the_offer_expire(registered) == 1

    assert statuses(queue) == [S.DECLINED, S.INVITED]
    [told] = Notification.objects.filter(event="session.offer_expired", recipient_learner=queue[0].learner)
    assert told.language == language
    assert words in " ".join(told.body.split())
    assert day in told.subject
    assert "48" in told.body
    assert not Notification.objects.filter(event="session.offer_expired", recipient_learner=queue[1].learner)


def test_one_scan_tells_every_learner_whose_offer_expired_in_one_send(settings, monkeypatch):
    settings.WAITING_LIST_OFFER_HOURS = 48
    first = queue_up(capacity=1, waiting=2)
    second = queue_up(capacity=1, waiting=2, title="Fire safety")
    sends = []
    real_send_all = waiting.send_all

    def counting_send_all(drafts, **kwargs):
        sends.append(len(drafts))
        return real_send_all(drafts, **kwargs)

    monkeypatch.setattr(waiting, "send_all", counting_send_all)
    offered_at = EARLY + timedelta(days=1)
    with time_machine.travel(offered_at, tick=False):
        services.cancel(first[1][0])
        services.cancel(second[1][0])
    with time_machine.travel(offered_at + timedelta(hours=48, minutes=1), tick=False):
        assert scan_expired_waiting_list_offers() == 2

    assert sends == [2]
    told = Notification.objects.filter(event="session.offer_expired").values_list("recipient_learner", flat=True)
    assert set(told) == {first[2][0].learner_id, second[2][0].learner_id}


def test_an_offer_taken_in_time_tells_nobody_it_passed_on(settings):
    settings.WAITING_LIST_OFFER_HOURS = 48
    _session, registered, queue = queue_up(capacity=1, waiting=1)
    offered_at = EARLY + timedelta(days=1)
    with time_machine.travel(offered_at, tick=False):
        services.cancel(registered[0])
    with time_machine.travel(offered_at + timedelta(hours=47), tick=False):
        assert scan_expired_waiting_list_offers() == 0
    assert not Notification.objects.filter(event="session.offer_expired").exists()
