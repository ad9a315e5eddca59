"""Issue 17: adding an event is one declaration in one file plus its word files, nothing else (no choices to
extend, no migration, no footer table, no variables table). This module is that one file for a throw-away
event; the start-up check (notifications.checks) refuses it until its words exist in en, fr and pl."""

import pytest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learners.models import Learner
from notifications import registry
from notifications.checks import catalogue_problems
from notifications.models import Event, Notification, NotificationRule
from notifications.services import send

pytestmark = pytest.mark.django_db

CODE = "training.throwaway"
WORDS = {
    "en": ("Hello {{ learner.first_name }}", "Your {{ room }} is ready."),
    "fr": ("Bonjour {{ learner.first_name }}", "Votre {{ room }} est prête."),
    "pl": ("Dzień dobry {{ learner.first_name }}", "Twoja {{ room }} jest gotowa."),
}


@pytest.fixture
def declared():
    registry.declare(
        CODE,
        _("A throw-away event"),
        family="training",
        variables=("learner", "room"),
        samples={"room": "Room 2"},
        descriptions={"room": "The room."},
    )
    yield registry.get(CODE)
    registry.forget(CODE)


@pytest.fixture
def with_words(declared, settings, tmp_path):
    for language, (subject, body) in WORDS.items():
        folder = tmp_path / "messages" / CODE / language
        folder.mkdir(parents=True)
        (folder / "subject.txt").write_text(subject)
        (folder / "body.txt").write_text(body)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    return declared


def test_the_start_up_check_refuses_a_declared_event_without_its_words_in_each_language(declared):
    problems = [p.msg for p in catalogue_problems() if CODE in p.msg]
    assert len(problems) == 3 and all("has no words" in p for p in problems)


def test_the_catalogue_as_shipped_passes_the_start_up_check():
    assert catalogue_problems() == []


def test_a_new_event_declared_in_one_file_goes_through_the_door_in_the_learners_language(with_words):
    assert [p for p in catalogue_problems() if CODE in p.msg] == []
    assert Event.TRAINING_THROWAWAY == CODE and CODE in Event.values
    learner = Learner.objects.create(
        email="zofia@example.com", first_name="Zofia", language="pl", consent_given_at=timezone.now()
    )

    [row] = send(Event.TRAINING_THROWAWAY, about=learner, occurrence="t1", context={"room": "sala"})

    assert row.subject == "Dzień dobry Zofia" and row.body.startswith("Twoja sala jest gotowa.")
    # Seed 004: the system's own message of an event without a rule waits for confirmation by default.
    assert row.status == Notification.Status.AWAITING_CONFIRMATION


def test_a_rule_of_the_new_event_is_obeyed_like_any_other(with_words):
    NotificationRule.objects.create(event=CODE, channels=["inbox"], requires_confirmation=False)
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())

    [row] = send(CODE, about=learner, occurrence="t1", context={"room": "room"})

    assert (row.channel, row.status) == ("inbox", Notification.Status.QUEUED)
