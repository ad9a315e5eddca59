"""Seed 003 "Waiting List": first come, first served, exactly one learner per free place."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection

from live_sessions import selectors, services
from live_sessions.flow import LiveSessionError
from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification

from .conftest import STARTS, make_learner, make_session

S = SessionLearner.Status


def full_session_with_waiting_list(*, capacity, waiting):
    """A ready session whose `capacity` places are taken, and `waiting` learners who joined the list in order."""
    session = make_session(status=LiveSession.Status.READY, capacity=capacity, waiting_list_enabled=True)
    registered = [services.register(session, make_learner()) for _ in range(capacity)]
    queue = []
    with time_machine.travel(STARTS - timedelta(days=30), tick=False) as clock:
        for _ in range(waiting):
            clock.shift(timedelta(minutes=1))
            queue.append(services.register(session, make_learner()))
    assert [sl.status for sl in queue] == [S.WAITING_LIST] * waiting
    return session, registered, queue


def statuses(rows):
    return [SessionLearner.objects.get(pk=sl.pk).status for sl in rows]


@pytest.mark.django_db
def test_seed_003_a_cancellation_invites_the_first_learner_of_the_waiting_list_and_emails_them():
    session, registered, queue = full_session_with_waiting_list(capacity=2, waiting=3)
    services.cancel(registered[0])
    assert statuses(queue) == [S.INVITED, S.WAITING_LIST, S.WAITING_LIST]
    invitation = Notification.objects.get(event="session.invitation", recipient_learner=queue[0].learner)
    assert "place is now free" in invitation.body


@pytest.mark.django_db
def test_seed_003_the_waiting_list_order_is_the_time_joined_not_the_row_order():
    session, registered, queue = full_session_with_waiting_list(capacity=1, waiting=3)
    # The last to join is sent back to the list by hand with an earlier date: the date decides, not the id.
    SessionLearner.objects.filter(pk=queue[2].pk).update(waiting_since=queue[0].waiting_since - timedelta(hours=1))
    assert [sl.pk for sl in selectors.waiting_list(session)] == [queue[2].pk, queue[0].pk, queue[1].pk]
    services.cancel(registered[0])
    assert statuses(queue) == [S.WAITING_LIST, S.WAITING_LIST, S.INVITED]


@pytest.mark.django_db
def test_seed_003_raising_the_capacity_offers_each_new_place_once():
    session, _registered, queue = full_session_with_waiting_list(capacity=1, waiting=3)
    invited = services.set_capacity(session, capacity=3)
    assert [sl.pk for sl in invited] == [queue[0].pk, queue[1].pk]
    assert statuses(queue) == [S.INVITED, S.INVITED, S.WAITING_LIST]
    # Nothing more is free: calling again offers nothing.
    assert services.promote_waiting_list(session) == []


@pytest.mark.django_db
def test_seed_003_an_offered_place_is_held_for_the_learner_until_they_answer():
    session, registered, queue = full_session_with_waiting_list(capacity=1, waiting=1)
    services.cancel(registered[0])
    newcomer = services.register(session, make_learner())
    assert newcomer.status == S.WAITING_LIST
    services.respond(queue[0], accept=True)
    assert statuses(queue) == [S.REGISTERED]


@pytest.mark.django_db
def test_seed_003_declining_an_offered_place_passes_it_to_the_next_learner():
    session, registered, queue = full_session_with_waiting_list(capacity=1, waiting=2)
    services.cancel(registered[0])
    services.respond(SessionLearner.objects.get(pk=queue[0].pk), accept=False)
    assert statuses(queue) == [S.DECLINED, S.INVITED]


@pytest.mark.django_db
def test_seed_003_taking_a_place_when_none_is_free_is_refused_and_keeps_the_rank():
    session, _registered, queue = full_session_with_waiting_list(capacity=1, waiting=2)
    with pytest.raises(LiveSessionError, match="No place is free"):
        services.take_freed_place(queue[1])
    assert statuses(queue) == [S.WAITING_LIST, S.WAITING_LIST]
    services.set_capacity(session, capacity=3)
    # Both got the place offered; the second takes it from the waiting learners' email link.
    services.take_freed_place(queue[1])
    assert statuses(queue) == [S.INVITED, S.REGISTERED]


@pytest.mark.django_db
def test_seed_003_accepting_an_invitation_when_full_puts_the_learner_on_the_waiting_list():
    session = make_session(status=LiveSession.Status.READY, capacity=1, waiting_list_enabled=True)
    (late,) = services.add_learners(session, [make_learner()])
    services.set_status([late], S.INVITED, actor=None)
    services.register(session, make_learner())
    services.respond(late, accept=True)
    late.refresh_from_db()
    assert late.status == S.WAITING_LIST and late.waiting_since is not None


@pytest.mark.django_db(transaction=True)
def test_seed_003_two_cancellations_at_the_same_moment_invite_two_different_learners_in_order():
    """Real threads meet at a barrier and cancel together; the session row lock serialises the offers."""
    session, registered, queue = full_session_with_waiting_list(capacity=2, waiting=3)
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    barrier = threading.Barrier(2)
    errors = []

    def cancel(session_learner):
        try:
            barrier.wait(timeout=10)
            services.cancel(SessionLearner.objects.select_related("session").get(pk=session_learner.pk))
        except Exception as exc:  # reported below: an exception in a thread would otherwise vanish
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=cancel, args=(sl,)) for sl in registered]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert statuses(registered) == [S.CANCELLED, S.CANCELLED]
    assert statuses(queue) == [S.INVITED, S.INVITED, S.WAITING_LIST]
    invited_learners = set(
        Notification.objects.filter(event="session.invitation").values_list("recipient_learner", flat=True)
    )
    assert invited_learners == {queue[0].learner_id, queue[1].learner_id}
    assert selectors.session_summary(session)["free"] == 0


@pytest.mark.django_db(transaction=True)
def test_seed_003_two_learners_accepting_the_last_place_at_the_same_moment_do_not_overfill_it():
    """Real threads at a barrier: one gets the place, the other goes on the waiting list."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    session = make_session(status=LiveSession.Status.READY, capacity=1, waiting_list_enabled=True)
    rows = services.add_learners(session, [make_learner(), make_learner()])
    services.set_status(rows, S.INVITED, actor=None)
    barrier = threading.Barrier(2)
    errors = []

    def accept(session_learner):
        try:
            barrier.wait(timeout=10)
            services.respond(SessionLearner.objects.select_related("session").get(pk=session_learner.pk), accept=True)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(sl,)) for sl in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(statuses(rows)) == sorted([S.REGISTERED, S.WAITING_LIST])
    assert services.fill_rate(session) == 1.0
