"""The trainer's window (issue 18, "the trainer's window" and "Smaller"): "unsaved attendance toggles are lost when
the trainer searches for a walk-in; a walk-in who is not yet a learner cannot be added".

Each test posts what the trainer's phone posts: the attendance page is one form, and its Search, "Add as go show"
and "Add walk-in" buttons send the answers not saved yet along with them.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from learners.models import Learner
from live_sessions.models import LiveSession, SessionLearner, StatusChange
from live_sessions.trainers import trainers_group
from notifications.services import dispatch_outbox

from .conftest import STARTS, make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status


@pytest.fixture(autouse=True)
def _fresh_search_counters():
    cache.clear()


@pytest.fixture
def trainer(client):
    user = make_user("trainer")
    user.groups.add(trainers_group())
    client.force_login(user)
    return user


@pytest.fixture
def session(trainer):
    session = make_session(status=LiveSession.Status.READY)
    session.trainers.add(trainer)
    return session


def page_url(session):
    return reverse("trainer:attendance", args=[session.pk])


def checked(page, session_learner):
    """The answer the page shows for a learner: "attended", "absent" or None."""
    for radio in re.findall(rf'<input[^>]*name="learner_{session_learner.pk}"[^>]*>', page):
        if "checked" in radio:
            return re.search(r'value="(\w+)"', radio).group(1)
    return None


def enrol(session, n):
    return [
        SessionLearner.objects.create(session=session, learner=make_learner(), status=Status.REGISTERED)
        for _ in range(n)
    ]


def test_searching_for_a_walk_in_keeps_the_answers_not_saved_yet_and_saves_nothing(during_the_session, client, session):
    ada, bob = enrol(session, 2)
    make_learner(first_name="Grace", last_name="Hopper")
    answers = {f"learner_{ada.pk}": "absent", f"learner_{bob.pk}": "attended"}
    page = client.post(page_url(session), {**answers, "q": "hopper", "do": "search"}).content.decode()
    assert "Grace Hopper" in page
    assert (checked(page, ada), checked(page, bob)) == ("absent", "attended")
    assert "Your answers are not saved yet" in page
    assert set(session.session_learners.values_list("status", flat=True)) == {Status.REGISTERED}
    assert not StatusChange.objects.exists()


def test_adding_a_go_show_from_the_results_keeps_the_answers_not_saved_yet(during_the_session, client, session):
    (ada,) = enrol(session, 1)
    grace = make_learner(first_name="Grace", last_name="Hopper")
    page = client.post(page_url(session), {f"learner_{ada.pk}": "absent", "go_show": grace.pk}).content.decode()
    assert "Grace Hopper was added as a go show." in page
    added = session.session_learners.get(learner=grace)
    assert added.status == Status.GO_SHOW
    assert (checked(page, ada), checked(page, added)) == ("absent", "attended")
    ada.refresh_from_db()
    assert ada.status == Status.REGISTERED  # shown, not saved: the trainer saves when done
    # The trainer then saves: the kept answer is recorded.
    client.post(page_url(session), {f"learner_{ada.pk}": "absent", f"learner_{added.pk}": "attended", "do": "save"})
    ada.refresh_from_db()
    assert ada.status == Status.ABSENT


def test_a_trainer_adds_a_walk_in_who_is_not_yet_a_learner_inactive_until_reviewed(
    during_the_session, client, session, trainer
):
    (ada,) = enrol(session, 1)
    walk_in = {"walk_in-first_name": "Marie", "walk_in-last_name": "Curie", "walk_in-email": "marie@example.org"}
    page = client.post(page_url(session), {f"learner_{ada.pk}": "absent", "do": "walk_in", **walk_in}).content.decode()
    assert "Marie Curie was added as a go show; an administrator will review the new learner." in page
    marie = Learner.objects.get(email="marie@example.org")
    assert (marie.is_active, marie.needs_review, marie.consent_given_at) == (False, True, None)
    added = session.session_learners.get(learner=marie)
    assert added.status == Status.GO_SHOW
    assert StatusChange.objects.get(session_learner=added).actor == trainer
    assert checked(page, ada) == "absent" and checked(page, added) == "attended"
    assert "New, to be reviewed" in page
    dispatch_outbox()
    assert not [m for m in mail.outbox if "marie@example.org" in m.to]  # no consent yet: nothing is sent to her


def test_a_walk_in_whose_address_is_known_is_refused_without_naming_the_learner(during_the_session, client, session):
    """issue 16: the trainer finds a learner by name, never by address; typing an address names nobody."""
    make_learner(first_name="Grace", last_name="Hopper", email="grace@navy.example.com")
    walk_in = {"walk_in-first_name": "G", "walk_in-last_name": "H", "walk_in-email": "GRACE@navy.example.com"}
    page = client.post(page_url(session), {"do": "walk_in", **walk_in}).content.decode()
    assert "This e-mail address is already known: search for the learner by name" in page
    assert "Hopper" not in page
    assert Learner.objects.count() == 1 and not session.session_learners.exists()


def test_a_walk_in_with_a_missing_name_or_a_bad_address_is_refused_and_creates_nobody(
    during_the_session, client, session
):
    (ada,) = enrol(session, 1)
    walk_in = {"walk_in-first_name": "Marie", "walk_in-last_name": "", "walk_in-email": "not an address"}
    response = client.post(page_url(session), {f"learner_{ada.pk}": "attended", "do": "walk_in", **walk_in})
    page = response.content.decode()
    assert response.status_code == 200 and "The walk-in was not added: see the fields below." in page
    assert checked(page, ada) == "attended"
    assert Learner.objects.count() == 1 and session.session_learners.count() == 1


@pytest.fixture
def two_hours_before_the_session(time_machine):
    time_machine.move_to(STARTS - timedelta(hours=2), tick=False)


def test_a_walk_in_for_a_session_not_taking_attendance_creates_nobody(two_hours_before_the_session, client, session):
    """issue 16: attendance and go-shows only from 15 minutes before the start; a walk-in is no way around it."""
    walk_in = {"walk_in-first_name": "Marie", "walk_in-last_name": "Curie", "walk_in-email": "marie@example.org"}
    page = client.post(page_url(session), {"do": "walk_in", **walk_in}).content.decode()
    assert "15 minutes before it starts" in page
    assert not Learner.objects.exists() and not session.session_learners.exists()


def test_another_trainer_cannot_add_a_walk_in_to_a_session_they_do_not_train(during_the_session, client, trainer):
    session = make_session(status=LiveSession.Status.READY)
    session.trainers.add(make_user("other"))
    walk_in = {"walk_in-first_name": "Marie", "walk_in-last_name": "Curie", "walk_in-email": "marie@example.org"}
    assert client.post(page_url(session), {"do": "walk_in", **walk_in}).status_code == 403
    assert client.post(page_url(session), {"go_show": make_learner().pk}).status_code == 403
    assert not Learner.objects.filter(email="marie@example.org").exists() and not session.session_learners.exists()


def test_the_session_page_and_the_learners_list_flag_walk_ins_and_an_administrator_activates_them(
    during_the_session, client, session, admin_user
):
    walk_in = {"walk_in-first_name": "Marie", "walk_in-last_name": "Curie", "walk_in-email": "marie@example.org"}
    client.post(page_url(session), {"do": "walk_in", **walk_in})
    regular = make_learner(first_name="Ada", last_name="Regular")
    marie = Learner.objects.get(email="marie@example.org")
    client.force_login(admin_user)
    session_page = client.get(reverse("admin:live_sessions_livesession_change", args=[session.pk])).content.decode()
    assert "1 walk-in added by a trainer is a new, inactive learner awaiting review." in session_page
    assert "walk-in to review" in session_page
    changelist = reverse("admin:learners_learner_changelist")
    listed = client.get(changelist, {"needs_review__exact": "1"}).content.decode()
    assert "Marie Curie" in listed and regular.full_name not in listed
    response = client.post(
        changelist, {"action": "review_walk_ins", "_selected_action": [marie.pk, regular.pk]}, follow=True
    )
    assert "1 walk-in activated." in response.content.decode()
    marie.refresh_from_db()
    assert (marie.is_active, marie.needs_review) == (True, False)
    session_page = client.get(reverse("admin:live_sessions_livesession_change", args=[session.pk])).content.decode()
    assert "awaiting review" not in session_page


def test_an_administrator_without_the_change_permission_cannot_activate_walk_ins(client, session):
    from django.contrib.auth.models import Permission

    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_learner"))
    marie = Learner.objects.create(
        email="m@example.org", first_name="M", last_name="C", is_active=False, needs_review=True
    )
    client.force_login(viewer)
    client.post(
        reverse("admin:learners_learner_changelist"), {"action": "review_walk_ins", "_selected_action": [marie.pk]}
    )
    marie.refresh_from_db()
    assert (marie.is_active, marie.needs_review) == (False, True)


@pytest.mark.parametrize(
    "language, words",
    [("fr", "Ajouter un participant imprévu"), ("pl", "Dodaj osobę bez zapisu")],
)
def test_the_walk_in_part_of_the_form_speaks_the_trainers_language(client, session, language, words):
    from django.utils import translation

    with translation.override(translation.get_language()):
        page = client.get(page_url(session), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert words in page
