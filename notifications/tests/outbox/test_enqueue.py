"""The outbox's one door (foundation issue; seed 004 for consent and contact)."""

import pytest
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification
from notifications.services import OutgoingMessage, Recipient, enqueue

pytestmark = pytest.mark.django_db


def make_learner(**kwargs):
    defaults = dict(email="ada@example.com", first_name="Ada", last_name="Lovelace", consent_given_at=timezone.now())
    defaults.update(kwargs)
    return Learner.objects.create(**defaults)


def message(learner, *, channel="email", occurrence="1"):
    return OutgoingMessage(
        event="program.assigned", channel=channel, recipient=Recipient(learner=learner), occurrence=occurrence
    )


def test_the_same_occurrence_queued_twice_gives_one_row():
    learner = make_learner()
    first = enqueue([message(learner)])
    second = enqueue([message(learner), message(learner)])
    assert len(first) == 1 and second == []
    assert Notification.objects.count() == 1


def test_no_consent_is_recorded_as_omitted_not_sent():
    learner = make_learner(consent_given_at=None)
    [row] = enqueue([message(learner)])
    assert (row.status, row.reason) == ("omitted", "no_consent")


def test_missing_address_for_the_channel_is_omitted_with_reason():
    learner = make_learner(phone="")
    [row] = enqueue([message(learner, channel="sms")])
    assert (row.status, row.reason) == ("omitted", "no_contact")


def test_lightweight_enqueue_gives_ids_of_new_rows_only_and_keeps_exactly_once():
    """Seed 000 at scale: return_rows=False maps each new dedupe key to its row; a key already queued is dropped."""
    ada, bob = make_learner(), make_learner(email="bob@example.com", first_name="Bob")
    first = enqueue([message(ada), message(ada), message(bob)], return_rows=False)
    second = enqueue([message(ada), message(bob, occurrence="2")], return_rows=False)

    assert set(first) == {message(ada).dedupe_key, message(bob).dedupe_key}
    assert set(second) == {message(bob, occurrence="2").dedupe_key}
    assert Notification.objects.count() == 3
    assert dict(Notification.objects.values_list("dedupe_key", "pk")) == {**first, **second}


def test_lightweight_enqueue_writes_the_same_row_as_the_full_one():
    """Foundation: both ways into the outbox store the same words, status and references (seed 004 omissions too)."""
    ada, bob = make_learner(), make_learner(email="bob@example.com", consent_given_at=None)
    fields = ("event", "channel", "to", "language", "subject", "body", "html_body", "status", "reason", "attachments")
    for learner in (ada, bob):
        full = enqueue([message(learner, occurrence="full")])[0]
        light = enqueue([message(learner, occurrence="light")], return_rows=False)
        row = Notification.objects.get(pk=light[message(learner, occurrence="light").dedupe_key])
        assert [getattr(row, f) for f in fields] == [getattr(full, f) for f in fields]
        assert (row.recipient_learner_id, row.context, row.attempts) == (learner.pk, full.context, 0)
