"""Coalesced wake-ups of the dispatcher (issue 8): at most one dispatch task waits at a time."""

from unittest import mock

import pytest
from django.utils import timezone

from learners.models import Learner
from notifications.models import DispatchRequest
from notifications.services import OutgoingMessage, Recipient, enqueue
from notifications.tasks import dispatch_outbox_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    return Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())


def queue(learner, occurrence):
    return enqueue(
        [
            OutgoingMessage(
                event="program.assigned", channel="email", recipient=Recipient(learner=learner), occurrence=occurrence
            )
        ]
    )


def test_many_enqueues_queue_one_dispatch_task(learner, django_capture_on_commit_callbacks):
    """Foundation issue: a queued message is dispatched right after its commit; issue 8: one task,
    not one per enqueue, for as long as that task has not started."""
    with mock.patch("django_q.tasks.async_task") as async_task:
        for i in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                queue(learner, f"o{i}")

    async_task.assert_called_once_with("notifications.tasks.dispatch_outbox_task", group="outbox")
    assert DispatchRequest.objects.get().requested_at is not None


def test_once_the_task_starts_a_new_enqueue_queues_the_next_one(learner, django_capture_on_commit_callbacks):
    """What is queued while the dispatcher sends must not wait for the minute schedule."""
    with mock.patch("django_q.tasks.async_task") as async_task:
        with django_capture_on_commit_callbacks(execute=True):
            queue(learner, "first")
        dispatch_outbox_task()
        assert DispatchRequest.objects.get().requested_at is None
        with django_capture_on_commit_callbacks(execute=True):
            queue(learner, "second")

    assert async_task.call_count == 2


def test_a_request_whose_task_never_ran_goes_stale(learner, django_capture_on_commit_callbacks, time_machine):
    """A task lost by the broker does not silence wake-ups for good."""
    time_machine.move_to("2026-03-02 09:00Z")
    with mock.patch("django_q.tasks.async_task") as async_task:
        with django_capture_on_commit_callbacks(execute=True):
            queue(learner, "first")
        time_machine.move_to("2026-03-02 09:06Z")
        with django_capture_on_commit_callbacks(execute=True):
            queue(learner, "second")

    assert async_task.call_count == 2


def test_nothing_queued_asks_for_no_dispatch(django_capture_on_commit_callbacks):
    """An omitted message (no consent) needs no dispatcher."""
    silent = Learner.objects.create(email="no@example.com", first_name="No")
    with mock.patch("django_q.tasks.async_task") as async_task:
        with django_capture_on_commit_callbacks(execute=True):
            queue(silent, "o")

    async_task.assert_not_called()
