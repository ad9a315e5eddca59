"""Exactly-once dispatch with several workers and after a crash (foundation issue)."""

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification
from notifications.outbox import dispatch as outbox
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class SlowLocmemBackend(EmailBackend):
    """Like a real SMTP server, each message takes a moment: the workers really overlap."""

    def send_messages(self, messages):
        time.sleep(0.002)
        return super().send_messages(messages)


class WorkerDied(BaseException):
    """The process is killed (SIGKILL, OOM, deploy) between SMTP "accepted" and the row update."""


def queue_messages(n):
    learners = Learner.objects.bulk_create(
        Learner(email=f"l{i}@example.com", first_name="L", last_name=str(i), consent_given_at=timezone.now())
        for i in range(n)
    )
    return enqueue(
        OutgoingMessage(event="program.assigned", channel="email", recipient=Recipient(learner=learner), occurrence="1")
        for learner in learners
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(settings, monkeypatch):
    """Foundation issue: several django-q2 workers may dispatch together; nothing goes twice."""
    monkeypatch.setattr("notifications.outbox.wakeup._queue_task", lambda: None)
    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch_concurrency.SlowLocmemBackend"
    settings.OUTBOX_BATCH_SIZE = 10
    rows = queue_messages(200)
    mail.outbox = []
    barrier = threading.Barrier(2)
    sent_by_worker = [None, None]
    errors = []

    def worker(index):
        try:
            barrier.wait(timeout=10)
            sent_by_worker[index] = dispatch_outbox()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    ids = Counter(message.extra_headers["Message-ID"] for message in mail.outbox)
    assert [mid for mid, count in ids.items() if count > 1] == [], "no message sent twice"
    assert set(ids) == {row.message_id for row in rows}, "no message missing"
    assert sum(sent_by_worker) == 200
    assert all(sent_by_worker), f"both workers took part: {sent_by_worker}"
    assert Notification.objects.filter(status="sent", claimed_until__isnull=True).count() == 200
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_worker_crash_after_smtp_accepted_resends_only_that_message_once_with_the_same_message_id(
    settings, monkeypatch, time_machine
):
    """Foundation issue: a crash between "accepted" and "marked sent" costs at most one duplicate,
    recognisable by its Message-ID, and only once the claim lease has expired."""
    monkeypatch.setattr("notifications.outbox.wakeup._queue_task", lambda: None)
    settings.OUTBOX_CLAIM_SECONDS = 600
    time_machine.move_to(T0, tick=False)
    rows = queue_messages(3)
    mail.outbox = []
    real_mark_sent = outbox.mark_sent

    def die_after_first_send(row):
        raise WorkerDied()

    monkeypatch.setattr(outbox, "mark_sent", die_after_first_send)
    with pytest.raises(WorkerDied):
        dispatch_outbox()
    monkeypatch.setattr(outbox, "mark_sent", real_mark_sent)
    assert len(mail.outbox) == 1, "the SMTP server accepted the first message, then the worker died"
    in_flight = mail.outbox[0].extra_headers["Message-ID"]

    # Another worker starts at once: the dead worker's lease still holds the whole batch.
    assert dispatch_outbox() == 0
    time_machine.shift(timedelta(seconds=599))
    assert dispatch_outbox() == 0

    time_machine.shift(timedelta(seconds=1))
    assert dispatch_outbox() == 3
    assert dispatch_outbox() == 0

    ids = Counter(message.extra_headers["Message-ID"] for message in mail.outbox)
    assert ids == {in_flight: 2, **{row.message_id: 1 for row in rows if row.message_id != in_flight}}
    assert Notification.objects.filter(status="sent").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_slow_worker_hands_back_rows_before_its_lease_ends(settings, monkeypatch, time_machine):
    """Foundation issue: no worker sends a row another worker may already have reclaimed."""
    monkeypatch.setattr("notifications.outbox.wakeup._queue_task", lambda: None)
    settings.OUTBOX_CLAIM_SECONDS = 600
    time_machine.move_to(T0, tick=False)
    queue_messages(3)
    mail.outbox = []
    real_mark_sent = outbox.mark_sent

    def very_slow(row):
        real_mark_sent(row)
        time_machine.shift(timedelta(minutes=9, seconds=45))

    monkeypatch.setattr(outbox, "mark_sent", very_slow)
    assert dispatch_outbox(limit=3) == 1
    monkeypatch.setattr(outbox, "mark_sent", real_mark_sent)

    handed_back = Notification.objects.filter(status="queued")
    assert handed_back.count() == 2
    assert all(row.claimed_until is None and row.attempts == 0 for row in handed_back)
    assert dispatch_outbox() == 2
    assert len(mail.outbox) == 3
