"""The door's read of who a batch must not reach (undeliverable addresses, optional families left), issue 17
"Performance holds": one query for the whole batch when nobody is marked or opted out, the same omissions as
before when someone is, both lists read in one more query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from learners.models import Learner
from notifications.inbound.marks import mark
from notifications.models import Unsubscription
from notifications.outbox.barred import barred_among
from notifications.services import OutgoingMessage, Recipient

pytestmark = pytest.mark.django_db


def learner(email):
    return Learner.objects.create(email=email, first_name="Ada", language="en", consent_given_at=timezone.now())


def batch(*learners, event="notify.training_reminder"):
    return [
        OutgoingMessage(event=event, channel=channel, recipient=Recipient(learner=who), occurrence="1")
        for who in learners
        for channel in ("email", "inbox")
    ]


def test_a_batch_with_nobody_marked_or_opted_out_costs_one_query_and_bars_nobody():
    messages = batch(*(learner(f"l{i}@example.org") for i in range(20)))
    with CaptureQueriesContext(connection) as queries:
        assert barred_among(messages) == (set(), set())
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)


def test_a_batch_of_mandatory_inbox_copies_reads_nothing():
    messages = [m for m in batch(learner("ada@example.org"), event="program.assigned") if m.channel == "inbox"]
    with CaptureQueriesContext(connection) as queries:
        assert barred_among(messages) == (set(), set())
    assert len(queries) == 0


def test_a_marked_address_and_a_family_left_are_found_in_one_read_of_both_lists():
    ada, bea, cy = learner("Ada@Example.org"), learner("bea@example.org"), learner("cy@example.org")
    mark("ada@example.org", cause="bounce")
    Unsubscription.objects.create(recipient_key=f"l{bea.pk}", family="training_reminders")
    # Another family she left says nothing about training reminders.
    Unsubscription.objects.create(recipient_key=f"l{cy.pk}", family="session_reminders")
    with CaptureQueriesContext(connection) as queries:
        blocked, left = barred_among(batch(ada, bea, cy))
    assert blocked == {"ada@example.org"}
    assert left == {(f"l{bea.pk}", "training_reminders")}
    if connection.vendor == "postgresql":
        assert len(queries) == 2


def test_a_mandatory_batch_reads_no_opt_out_even_when_someone_left_a_family():
    ada = learner("ada@example.org")
    Unsubscription.objects.create(recipient_key=f"l{ada.pk}", family="training_reminders")
    assert barred_among(batch(ada, event="program.assigned")) == (set(), set())
