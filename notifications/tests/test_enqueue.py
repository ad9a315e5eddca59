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
