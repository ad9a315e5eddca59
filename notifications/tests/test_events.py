"""From an event to messages (seed 001, seed 004): rules name the recipients and channels."""

import pytest
from django.utils import timezone

from learners.models import Guardian, Learner
from notifications.models import Notification, NotificationRule
from notifications.services import notify_event
from programs.models import Program

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    manager = Learner.objects.create(email="boss@example.com", first_name="Boss", consent_given_at=timezone.now())
    learner = Learner.objects.create(
        email="ada@example.com", first_name="Ada", consent_given_at=timezone.now(), manager=manager
    )
    Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com")
    return learner


def test_each_enabled_rule_gives_one_message_per_recipient_and_channel(learner):
    """Seed 001 and 004: learner, manager and guardians, on every channel the rule lists."""
    NotificationRule.objects.create(
        event="program.due",
        channels=["email", "inbox"],
        notify_learner=True,
        notify_manager=True,
        notify_guardians=True,
        requires_confirmation=False,
    )

    rows = notify_event(event="program.due", learner=learner, occurrence="a1")

    assert len(rows) == 6  # (learner, guardian, manager) x (email, inbox)
    assert {row.channel for row in rows} == {"email", "inbox"}
    assert {row.recipient_guardian_id for row in rows} - {None} == {learner.guardians.get().pk}


def test_a_rule_for_another_program_stays_silent(learner):
    """Seed 001: a rule may be limited to one program."""
    mine, other = Program.objects.create(title="Mine"), Program.objects.create(title="Other")
    NotificationRule.objects.create(
        event="program.due", channels=["email"], notify_learner=True, program=other, requires_confirmation=False
    )

    assert notify_event(event="program.due", learner=learner, occurrence="a1", program=mine) == []
    assert not Notification.objects.exists()
