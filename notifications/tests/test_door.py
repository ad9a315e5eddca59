"""The one door (issue 17, seed 004): every declared event obeys its rules, or its declared default rule, with
its recipients and the confirmation the rule or the channel setting says.

The whole catalogue is walked (every declaration, not a sample): with a rule, without a rule, with a silent rule.
"""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from learners.models import Guardian, Learner
from live_sessions.models import LiveSession
from notifications import registry
from notifications.models import Event, Notification, NotificationRule
from notifications.services import Origin, Recipient, send, set_channel_confirmation
from notifications.variables import COMMON, sample_context

pytestmark = pytest.mark.django_db
Status = Notification.Status


@pytest.fixture
def people():
    now = timezone.now()
    manager = Learner.objects.create(
        email="boss@example.com", first_name="Boss", phone="+33612345670", consent_given_at=now
    )
    learner = Learner.objects.create(
        email="ada@example.com", first_name="Ada", phone="+33612345678", consent_given_at=now, manager=manager
    )
    guardian = Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com", phone="+33612345679")
    Guardian.objects.create(learner=learner, name="Away", email="away@example.com", is_enabled=False)
    users = get_user_model().objects
    trainer = users.create_user("trainer", email="trainer@example.com", first_name="Tom")
    approver = users.create_user("approver", email="approver@example.com")
    session = LiveSession.objects.create(
        title="First aid", starts_at=now + timezone.timedelta(days=3), ends_at=now + timezone.timedelta(days=3, hours=2)
    )
    session.trainers.add(trainer)
    return {
        "learner": learner,
        "manager": manager,
        "guardian": guardian,
        "trainer": trainer,
        "approver": approver,
        "session": session,
    }


def raise_event(code, people, *, origin=Origin.SYSTEM):
    """Raise `code` through the door as its feature does: about the learner, or addressed to the person the
    declaration names (the approver, the manager who made a request, whoever got an inbox message)."""
    declaration = registry.get(code)
    to = {
        registry.ADDRESSEE_MANAGER: Recipient(learner=people["manager"], as_manager=True),
        registry.ADDRESSEE_APPROVER: Recipient(user=people["approver"]),
        registry.ADDRESSEE_RECIPIENT: Recipient(learner=people["learner"]),
    }.get(declaration.addressee)
    return send(
        code,
        about=people["learner"],
        to=to,
        occurrence="walk1",
        session=people["session"],
        context={k: v for k, v in sample_context(code).items() if k not in COMMON},
        origin=origin,
    )


def expected_readers(code, people, kinds):
    """The recipient keys a rule naming `kinds` reaches for `code`, from its declaration."""
    declaration = registry.get(code)
    if declaration.addressee == registry.ADDRESSEE_MANAGER:
        return {Recipient(learner=people["manager"]).key}
    if declaration.addressee == registry.ADDRESSEE_APPROVER:
        return {Recipient(user=people["approver"]).key}
    if declaration.addressee == registry.ADDRESSEE_RECIPIENT:
        return {Recipient(learner=people["learner"]).key}
    keys = set()
    if "learner" in kinds:
        keys.add(Recipient(learner=people["learner"]).key)
        if "guardians" in kinds and declaration.allows("guardians"):
            keys.add(Recipient(guardian=people["guardian"]).key)  # the disabled guardian never
    if "trainers" in kinds and declaration.allows("trainers"):
        keys.add(Recipient(user=people["trainer"]).key)
    return keys


def key_of(row):
    return Recipient.key_of_notification(row)


EVERY_EVENT = sorted(registry.declarations())


def test_the_catalogue_is_the_registry_and_every_event_is_walked_below():
    """Issue 17: `Event` is the enumeration of the declared events, `Event.PROGRAM_DUE` style included."""
    assert set(Event.values) == set(EVERY_EVENT) and len(EVERY_EVENT) >= 38
    assert Event.PROGRAM_DUE == "program.due" and Event("program.due").label == registry.get("program.due").label
    assert dict(Notification._meta.get_field("event").choices) == dict(registry.choices())


@pytest.mark.parametrize("confirmation", [True, False], ids=["after confirmation", "without confirmation"])
@pytest.mark.parametrize("code", EVERY_EVENT)
def test_with_a_rule_every_event_goes_out_on_exactly_its_channels_to_exactly_its_recipients(people, code, confirmation):
    """Seed 004 for every event: the rule's channels (SMS and inbox), its recipients (learner, guardians, trainers
    where the event allows them), and its confirmation, whoever raises the event."""
    NotificationRule.objects.create(
        event=code,
        channels=["sms", "inbox"],
        notify_learner=True,
        notify_guardians=True,
        notify_trainers=True,
        requires_confirmation=confirmation,
    )

    rows = raise_event(code, people)

    readers = expected_readers(code, people, {"learner", "guardians", "trainers"})
    assert {(key_of(r), r.channel) for r in rows} == {(k, c) for k in readers for c in ("sms", "inbox")}
    assert len(rows) == 2 * len(readers)
    wanted = Status.AWAITING_CONFIRMATION if confirmation else Status.QUEUED
    assert {r.status for r in rows if not r.reason} == {wanted}


@pytest.mark.parametrize("code", EVERY_EVENT)
def test_a_disabled_rule_or_a_rule_with_no_channel_silences_every_event(people, code):
    """Seed 004: the rules screen says "(silent)", and silent it is, whoever raises the event."""
    NotificationRule.objects.create(event=code, channels=["email"], is_enabled=False)
    NotificationRule.objects.create(event=code, channels=[], notify_learner=True)

    assert raise_event(code, people) == []
    assert not Notification.objects.exists()


@pytest.mark.parametrize("code", EVERY_EVENT)
def test_without_a_rule_every_event_goes_out_as_its_default_rule_held_when_its_channel_requires_it(people, code):
    """Seed 004: "by default the system waits for confirmation": what the system sends on its own for an event
    without a rule waits, per channel, until an administrator confirms it or switches the channel to automatic."""
    default = registry.get(code).default

    rows = raise_event(code, people)

    if default.silent:
        assert rows == []  # seed 001: a program event speaks only through a rule
        return
    assert {r.channel for r in rows} == set(default.channels)
    assert {key_of(r) for r in rows} == expected_readers(code, people, default.recipients)
    held = default.requires_confirmation if default.requires_confirmation is not None else True
    assert {r.status for r in rows} == {Status.AWAITING_CONFIRMATION if held else Status.QUEUED}


def test_switching_email_to_automatic_sends_the_systems_own_messages_at_once_and_releases_nothing_waiting(people):
    """Seed 004: automatic sending is switched on per channel. Messages already waiting stay waiting: they were
    held under the setting of their time, and the administrator confirms them from the list."""
    [waiting] = raise_event("invitation.reminder", people)
    assert waiting.status == Status.AWAITING_CONFIRMATION

    set_channel_confirmation("email", required=False)
    [later] = send("elearning.reminder", about=people["learner"], occurrence="x2")

    assert later.status == Status.QUEUED
    waiting.refresh_from_db()
    assert waiting.status == Status.AWAITING_CONFIRMATION


@pytest.mark.parametrize("origin", [Origin.ADMIN, Origin.ANSWER], ids=["sent by an administrator", "an answer"])
def test_what_an_administrator_sent_by_hand_or_an_answer_to_a_persons_action_is_not_held(people, origin):
    """Seed 004, issue 17: confirmation is for what the system sends on its own, not held twice."""
    [row] = raise_event("invitation.sent", people, origin=origin)
    assert row.status == Status.QUEUED


def test_where_an_event_has_a_rule_its_own_confirmation_decides_even_for_an_administrators_send(people):
    NotificationRule.objects.create(
        event="invitation.sent", channels=["email"], notify_guardians=False, requires_confirmation=True
    )
    [row] = raise_event("invitation.sent", people, origin=Origin.ADMIN)
    assert row.status == Status.AWAITING_CONFIRMATION


def test_an_unknown_channel_cannot_be_switched(people):
    with pytest.raises(ValueError):
        set_channel_confirmation("inbox", required=False)


def test_many_learners_are_sent_to_in_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    """Issue 17: the recipients are expanded set-based: guardians, trainers, managers each in one query."""
    from notifications.services import draft, send_all

    NotificationRule.objects.create(
        event="participation.confirmed",
        channels=["email", "inbox"],
        notify_learner=True,
        notify_guardians=True,
        notify_manager=True,
        notify_trainers=True,
        requires_confirmation=False,
    )
    learners = [
        Learner.objects.create(email=f"l{i}@example.com", consent_given_at=timezone.now(), manager=people["manager"])
        for i in range(30)
    ]
    for learner in learners:
        Guardian.objects.create(learner=learner, name=f"G{learner.pk}", email=f"g{learner.pk}@example.com")
    drafts = [
        draft("participation.confirmed", about=learner, occurrence="q", session=people["session"])
        for learner in learners
    ]
    # 13 since issue 19: the outbox door reads the batch's undeliverable addresses once.
    with django_assert_max_num_queries(13):
        rows = send_all(drafts)
    # (learner, guardian) x (email, inbox) each, and one copy for their shared manager and trainer per channel
    assert len(rows) == 30 * 2 * 2 + 2 + 2
