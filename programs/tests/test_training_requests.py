"""Seed 002 §II: training requests — the confirmation variants, the refusal with each notify choice,
and approval offering the next step."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from learners.models import Learner
from live_sessions.models import LiveSession, ParticipationRequest
from live_sessions.services import approve_with_date_choice
from notifications.models import Notification, NotificationRule
from notifications.services import dispatch_outbox
from programs import services
from programs.models import Course, TrainingRequest

pytestmark = pytest.mark.django_db


def person(email, **kwargs):
    return Learner.objects.create(
        email=email, first_name=email.split(".")[0].title(), last_name="Doe", consent_given_at=timezone.now(), **kwargs
    )


@pytest.fixture
def manager():
    user = get_user_model().objects.create_user("maria", "maria.manager@example.com", "x")
    return person("maria.manager@example.com", user=user)


@pytest.fixture
def learner(manager):
    return person("leo.learner@example.com", manager=manager)


@pytest.fixture
def course():
    return Course.objects.create(title="Excel advanced", kind=Course.Kind.CLASSROOM)


def sent():
    dispatch_outbox()
    return {(m.to[0], m.subject) for m in mail.outbox}


def test_seed_002_the_learners_own_request_is_confirmed_to_the_learner_only(learner, course):
    services.request_training(learner, course, requested_by=None)
    assert sent() == {("leo.learner@example.com", "Your training request is recorded: Excel advanced")}


def test_seed_002_a_request_by_the_manager_gives_a_different_confirmation_and_one_to_the_manager(
    learner, manager, course
):
    services.request_training(learner, course, requested_by=manager.user)
    assert sent() == {
        ("leo.learner@example.com", "Maria Doe requested a training for you: Excel advanced"),
        ("maria.manager@example.com", "Your training request for Leo Doe is recorded"),
    }
    events = set(Notification.objects.values_list("event", flat=True))
    assert events == {"training_request.submitted_by_manager", "training_request.manager_confirmation"}


def test_seed_002_a_request_by_someone_else_than_the_manager_is_the_learners_own_variant(learner, course):
    other = get_user_model().objects.create_user("hr", "hr@example.com", "x")
    services.request_training(learner, course, requested_by=other)
    assert set(Notification.objects.values_list("event", flat=True)) == {"training_request.submitted"}


def test_seed_002_the_confirmations_speak_the_readers_language(learner, manager, course):
    Learner.objects.filter(pk=learner.pk).update(language="fr")
    Learner.objects.filter(pk=manager.pk).update(language="pl")
    learner.refresh_from_db()
    services.request_training(learner, course, requested_by=manager.user)
    subjects = dict(Notification.objects.values_list("event", "subject"))
    assert subjects["training_request.submitted_by_manager"].startswith("Maria Doe a demandé une formation")
    assert subjects["training_request.manager_confirmation"].startswith("Twój wniosek szkoleniowy dla Leo Doe")


def test_seed_002_each_confirmation_can_be_switched_off(learner, manager, course):
    NotificationRule.objects.create(event="training_request.manager_confirmation", channels=[], is_enabled=False)
    services.request_training(learner, course, requested_by=manager.user)
    assert set(Notification.objects.values_list("event", flat=True)) == {"training_request.submitted_by_manager"}


@pytest.mark.parametrize(
    ("notify_learner", "notify_manager", "expected"),
    [
        (True, False, {"leo.learner@example.com"}),
        (False, True, {"maria.manager@example.com"}),
        (True, True, {"leo.learner@example.com", "maria.manager@example.com"}),
        (False, False, set()),
    ],
)
def test_seed_002_a_refusal_emails_exactly_whom_the_administrator_chose(
    learner, course, notify_learner, notify_manager, expected
):
    request = services.request_training(learner, course, requested_by=None)
    dispatch_outbox()
    mail.outbox.clear()
    services.refuse_training_request(request, actor=None, notify_learner=notify_learner, notify_manager=notify_manager)
    emails = sent()
    assert {to for to, _subject in emails} == expected
    assert all(subject == "Training request refused: Excel advanced" for _to, subject in emails)


def test_seed_002_approving_offers_a_date_choice_with_the_words_of_an_approved_request(learner, course):
    starts = timezone.now() + timedelta(days=20)
    sessions = [
        LiveSession.objects.create(
            title="Excel advanced",
            course=course,
            status=LiveSession.Status.READY,
            starts_at=starts + timedelta(days=d),
            ends_at=starts + timedelta(days=d, hours=3),
        )
        for d in (0, 7)
    ]
    request = services.request_training(learner, course, requested_by=None)
    approve_with_date_choice(request, sessions, actor=None)
    assert TrainingRequest.objects.get().status == TrainingRequest.Status.APPROVED
    choice = ParticipationRequest.objects.get()
    assert choice.training_request_id == request.pk and set(choice.sessions.all()) == set(sessions)
    row = Notification.objects.get(event="participation.request_after_approval")
    assert row.subject == "Your request is approved: choose your date for Excel advanced"


def test_seed_002_the_approve_action_shows_the_next_step_then_offers_the_chosen_dates(admin_client, learner, course):
    starts = timezone.now() + timedelta(days=20)
    session = LiveSession.objects.create(
        title="Excel advanced", course=course, status="ready", starts_at=starts, ends_at=starts + timedelta(hours=3)
    )
    request = services.request_training(learner, course, requested_by=None)
    url = "/admin/programs/trainingrequest/"
    page = admin_client.post(url, {"action": "approve", "_selected_action": [request.pk]})
    assert page.status_code == 200 and "What happens next" in page.content.decode()
    assert TrainingRequest.objects.get().status == TrainingRequest.Status.SUBMITTED  # nothing yet
    admin_client.post(
        url, {"action": "approve", "_selected_action": [request.pk], "confirm": "1", "sessions": [session.pk]}
    )
    assert TrainingRequest.objects.get().status == TrainingRequest.Status.APPROVED
    assert ParticipationRequest.objects.get().sessions.get() == session


def test_seed_002_the_refuse_actions_cover_learner_manager_both_and_neither(admin_client, learner, course):
    actions = {
        "refuse_notify_learner": {"leo.learner@example.com"},
        "refuse_notify_manager": {"maria.manager@example.com"},
        "refuse_notify_learner_and_manager": {"leo.learner@example.com", "maria.manager@example.com"},
        "refuse_silently": set(),
    }
    for action, expected in actions.items():
        TrainingRequest.objects.all().delete()
        request = services.request_training(learner, course, requested_by=None)
        admin_client.post("/admin/programs/trainingrequest/", {"action": action, "_selected_action": [request.pk]})
        rows = Notification.objects.filter(event="training_request.refused", context__training_request=request.pk)
        assert set(rows.values_list("to", flat=True)) == expected, action
