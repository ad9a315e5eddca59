"""Several administrators click Notify at the same moment (seed 000 safeguards)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from learners.models import GroupMembership, Invitation, Learner, LearnerGroup
from notifications.models import Notification, NotifyOutcome
from notifications.notify.engine import notify_learners

pytestmark = pytest.mark.django_db(transaction=True)


def _click_together(n, click):
    barrier = threading.Barrier(n)
    errors = []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            click(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_simultaneous_clicks_send_exactly_one_message():
    """Seed 000: even if several administrators click at once, the learner gets one message."""
    learner = Learner.objects.create(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", consent_given_at=timezone.now()
    )
    Invitation.objects.create(learner=learner)

    _click_together(4, lambda i: notify_learners([learner.pk], actor=None, scope="learner"))

    assert Notification.objects.filter(recipient_learner=learner).count() == 1
    outcomes = list(NotifyOutcome.objects.filter(learner=learner).values_list("action", "reason"))
    assert sorted(outcomes) == [("invitation", "")] + [("omitted", "rate_limited")] * 3


def test_overlapping_scopes_clicked_together_neither_deadlock_nor_double_send():
    """Seed 000: "Notify All Learners" and "Notify Group" at the same moment over shared learners."""
    group = LearnerGroup.objects.create(name="Warehouse")
    learners = Learner.objects.bulk_create(
        [
            Learner(email=f"l{i}@example.com", first_name="L", last_name=str(i), consent_given_at=timezone.now())
            for i in range(40)
        ]
    )
    Invitation.objects.bulk_create([Invitation(learner=lr) for lr in learners])
    GroupMembership.objects.bulk_create([GroupMembership(learner=lr, group=group) for lr in learners[::2]])

    def click(i):
        if i % 2:
            notify_learners(Learner.objects.all(), actor=None, scope="all_learners")
        else:
            notify_learners(group.members.all(), actor=None, scope="group", group=group)

    _click_together(4, click)

    assert Notification.objects.count() == 40
    assert NotifyOutcome.objects.exclude(action="omitted").count() == 40


def test_a_large_run_shared_between_processes_notifies_each_learner_once(monkeypatch):
    """Seed 000 at scale: chunks of one run processed by two forked processes; every learner
    is decided once, the counts add up, and a second click right after is rate limited."""
    import notifications.notify.engine as notify

    monkeypatch.setattr(notify, "CHUNK_SIZE", 10)
    learners = Learner.objects.bulk_create(
        [
            Learner(email=f"p{i}@example.com", first_name="P", last_name=str(i), consent_given_at=timezone.now())
            for i in range(45)
        ]
    )
    Invitation.objects.bulk_create([Invitation(learner=lr) for lr in learners])
    ids = [lr.pk for lr in learners]

    run = notify.start_run(actor=None, scope="all_learners", total=len(ids))
    run = notify.execute_run(run, ids, processes=2)

    assert (run.status, run.processed) == ("done", 45)
    assert run.summary == {"sent": {"invitation": 45}, "omitted": {}, "assigned": {}}
    assert Notification.objects.filter(event="notify.invitation").count() == 45
    assert NotifyOutcome.objects.filter(run=run).count() == 45

    second = notify.execute_run(notify.start_run(actor=None, scope="all_learners"), ids, processes=2)
    assert second.summary == {"sent": {}, "omitted": {"rate_limited": 45}, "assigned": {}}
    assert Notification.objects.filter(event="notify.invitation").count() == 45
