"""A tiny run of the dispatch benchmark (foundation issue: throughput and no duplicates)."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_sends_every_message_once_with_one_and_two_worker_processes():
    """Foundation issue: bench_dispatch counts Message-IDs at a real SMTP server."""
    out = io.StringIO()
    call_command("bench_dispatch", "--messages", "30", "--workers", "1", "2", "--batch-size", "7", stdout=out)

    lines = [line for line in out.getvalue().splitlines() if "worker(s)" in line]
    assert len(lines) == 2
    for line in lines:
        assert "rows marked sent 30" in line
        assert "duplicate Message-IDs 0; missing 0" in line
    assert not Notification.objects.exists() and not Learner.objects.exists(), "the benchmark cleans up"


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_refuses_a_database_with_real_queued_messages():
    """Foundation issue: the benchmark never sends someone else's messages to its sink."""
    from django.core.management.base import CommandError

    from notifications.services import OutgoingMessage, Recipient, enqueue

    learner = Learner.objects.create(
        email="a@example.com", first_name="A", last_name="B", consent_given_at=timezone.now()
    )
    enqueue(
        [
            OutgoingMessage(
                event="program.assigned", channel="email", recipient=Recipient(learner=learner), occurrence="1"
            )
        ]
    )
    with pytest.raises(CommandError, match="dedicated database"):
        call_command("bench_dispatch", "--messages", "5", stdout=io.StringIO())
