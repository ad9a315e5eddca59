"""One Recipient, one reason vocabulary (issue 8), for enqueue, Notify and the send-time checks."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from learners.models import Guardian, Learner
from notifications.models import Notification, NotifyOutcome
from notifications.outbox.sendchecks import recipient_reasons
from notifications.recipients import Reason, Recipient, key_of, parse_key
from notifications.services import OutgoingMessage, enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    return Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())


def test_the_key_names_a_learner_a_guardian_or_a_user_and_reads_back(learner):
    """Seed 004: links and the inbox name their recipient by this key."""
    guardian = Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com")
    user = get_user_model().objects.create_user("admin", "admin@example.com")

    keys = [Recipient(learner=learner).key, Recipient(guardian=guardian).key, Recipient(user=user).key]

    assert keys == [f"l{learner.pk}", f"g{guardian.pk}", f"u{user.pk}"]
    assert [Recipient.for_key(key).holder for key in keys] == [learner, guardian, user]
    assert [key_of(holder) for holder in (learner, guardian, user)] == keys


@pytest.mark.parametrize("key", ["", "x1", "l", "l1a", "g-2", None, 12])
def test_a_malformed_key_names_nobody(key):
    """A tampered key never reaches the database."""
    assert parse_key(key) is None
    assert Recipient.for_key(key) is None


def test_reasons_in_order_disabled_guardian_inactive_no_consent_no_contact(learner):
    """Seed 004: nothing without consent or an address; a disabled guardian or inactive learner gets nothing."""
    guardian = Guardian.objects.create(learner=learner, name="Parent", email="", is_enabled=False)
    assert Recipient(guardian=guardian).ineligibility("email") == Reason.GUARDIAN_DISABLED
    guardian.is_enabled = True
    assert Recipient(guardian=guardian).ineligibility("email") == Reason.NO_CONTACT
    learner.consent_given_at = None
    assert Recipient(guardian=guardian).ineligibility("email") == Reason.NO_CONSENT
    learner.is_active = False
    assert Recipient(learner=learner).ineligibility("email") == Reason.INACTIVE
    # At send time the row already holds its address: only the recipient's state counts.
    learner.is_active, learner.consent_given_at, learner.email = True, timezone.now(), ""
    assert Recipient(learner=learner).ineligibility() == ""


def test_enqueue_and_the_send_time_check_give_the_same_reason(learner):
    """Issue 8: one vocabulary, whether consent is missing when queued or withdrawn before sending."""

    def message(recipient_learner, occurrence):
        recipient = Recipient(learner=recipient_learner)
        return OutgoingMessage(event="program.due", channel="email", recipient=recipient, occurrence=occurrence)

    [row] = enqueue([message(learner, "1")])
    Learner.objects.filter(pk=learner.pk).update(consent_given_at=None)
    row = Notification.objects.select_related("recipient_learner").get(pk=row.pk)
    assert recipient_reasons([row]) == {row.pk: Reason.NO_CONSENT}

    [omitted] = enqueue([message(row.recipient_learner, "2")])
    assert omitted.reason == Reason.NO_CONSENT == NotifyOutcome.Reason.NO_CONSENT
    assert Reason.NO_CONTACT == NotifyOutcome.Reason.NO_CONTACT
