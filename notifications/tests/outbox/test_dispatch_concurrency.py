"""Exactly-once dispatch with several workers at once (foundation issue, issue 21)."""

import threading
import time
from collections import Counter

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification
from notifications.outbox import lease as outbox_lease
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue


class SlowLocmemBackend(EmailBackend):
    """Like a real SMTP server, each message takes a moment: the workers really overlap."""

    def send_messages(self, messages):
        time.sleep(0.002)
        return super().send_messages(messages)


def queue_messages(n):
    learners = Learner.objects.bulk_create(
        Learner(email=f"l{i}@example.com", first_name="L", last_name=str(i), consent_given_at=timezone.now())
        for i in range(n)
    )
    return enqueue(
        OutgoingMessage(event="program.assigned", channel="email", recipient=Recipient(learner=learner), occurrence="1")
        for learner in learners
    )


def two_workers_at_a_barrier(*, timeout):
    """Two threads meet at a barrier, then each runs dispatch_outbox on its own connection: (sent by each, errors)."""
    barrier = threading.Barrier(2)
    sent_by_worker = [None, None]
    errors = []

    def worker(index):
        try:
            barrier.wait(timeout=10)
            sent_by_worker[index] = dispatch_outbox()
        except Exception as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return sent_by_worker, errors


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(settings, monkeypatch):
    """Foundation issue: several django-q2 workers may dispatch together; nothing goes twice."""
    monkeypatch.setattr("notifications.outbox.wakeup._queue_task", lambda: None)
    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch_concurrency.SlowLocmemBackend"
    settings.OUTBOX_BATCH_SIZE = 10
    rows = queue_messages(200)
    mail.outbox = []
    sent_by_worker, errors = two_workers_at_a_barrier(timeout=60)

    assert errors == []
    ids = Counter(message.extra_headers["Message-ID"] for message in mail.outbox)
    assert [mid for mid, count in ids.items() if count > 1] == [], "no message sent twice"
    assert set(ids) == {row.message_id for row in rows}, "no message missing"
    assert sum(sent_by_worker) == 200
    assert all(sent_by_worker), f"both workers took part: {sent_by_worker}"
    assert Notification.objects.filter(status="sent", claimed_until__isnull=True).count() == 200
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


class SlowerLocmemBackend(EmailBackend):
    def send_messages(self, messages):
        time.sleep(0.03)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_workers_renewing_short_leases_never_send_the_same_message(settings, monkeypatch):
    """Issue 21: with a lease of one second, each batch outlives its first lease and is renewed
    while the other worker keeps claiming; still nothing goes twice and nothing is left behind.
    (A crashed worker's rows: test_dispatch_faults.)"""
    monkeypatch.setattr("notifications.outbox.wakeup._queue_task", lambda: None)
    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch_concurrency.SlowerLocmemBackend"
    settings.OUTBOX_BATCH_SIZE = 40
    settings.OUTBOX_CLAIM_SECONDS = 1
    renewals = []
    real_renew = outbox_lease.renew

    def counting_renew(pks, **kwargs):
        renewals.append(len(pks))
        return real_renew(pks, **kwargs)

    monkeypatch.setattr(outbox_lease, "renew", counting_renew)
    rows = queue_messages(120)
    mail.outbox = []
    sent_by_worker, errors = two_workers_at_a_barrier(timeout=120)

    assert errors == []
    assert renewals, "the batches outlived their first lease"
    ids = Counter(message.extra_headers["Message-ID"] for message in mail.outbox)
    assert [mid for mid, count in ids.items() if count > 1] == [], "no message sent twice"
    assert set(ids) == {row.message_id for row in rows}, "no message missing"
    assert sum(sent_by_worker) == 120 and all(sent_by_worker)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
