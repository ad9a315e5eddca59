"""Trainer pages: my sessions and the attendance form (seed 003 "Registered -> Attended / Absent", "- -> Go Show")."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from learners.models import Learner
from live_sessions.models import LiveSession, SessionLearner, StatusChange
from live_sessions.trainers import TRAINERS_GROUP, trainers_group

from .conftest import STARTS, make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def trainer():
    user = make_user("trainer")
    # get_or_create: a transactional test run earlier may have flushed the group the migration made.
    user.groups.add(trainers_group())
    return user


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


def attendance_url(session):
    return reverse("trainer:attendance", args=[session.pk])


def enrol(session, *statuses):
    return [
        SessionLearner.objects.create(session=session, learner=make_learner(), status=status) for status in statuses
    ]


def test_the_trainers_group_exists_after_migrating():
    assert Group.objects.filter(name=TRAINERS_GROUP).exists()


def test_a_trainer_signs_in_with_the_login_page_and_lands_on_their_sessions(client, trainer):
    """Trainers are not staff: they sign in on Django's login page, not the admin's."""
    assert not trainer.is_staff
    response = client.get(reverse("trainer:sessions"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("trainer:login"))
    response = client.post(reverse("trainer:login"), {"username": "trainer", "password": "x"})
    assert response.status_code == 302 and response["Location"] == reverse("trainer:sessions")
    assert client.get(reverse("trainer:sessions")).status_code == 200


@time_machine.travel(STARTS - timedelta(hours=2), tick=False)
def test_a_trainer_sees_only_their_sessions_today_first(client, trainer):
    client.force_login(trainer)  # signed in at the travelled time, so the session cookie is fresh
    today_later = make_session(title="Today, later", starts_at=STARTS, ends_at=STARTS + timedelta(hours=2))
    tomorrow = make_session(
        title="Tomorrow", starts_at=STARTS + timedelta(days=1), ends_at=STARTS + timedelta(days=1, hours=2)
    )
    last_week = make_session(
        title="Last week", starts_at=STARTS - timedelta(days=7), ends_at=STARTS - timedelta(days=7, hours=-2)
    )
    someone_elses = make_session(title="Someone else's")
    for session in (today_later, tomorrow, last_week):
        session.trainers.add(trainer)
    someone_elses.trainers.add(make_user("other"))
    page = client.get(reverse("trainer:sessions")).content.decode()
    assert "Someone else&#x27;s" not in page
    assert page.index("Today, later") < page.index("Tomorrow") < page.index("Last week")
    assert "Mon 4 Mar 2030, 09:00–11:00 (Europe/Paris)" in page  # the session's own time zone


def test_the_attendance_form_is_put_forward_from_15_minutes_before_the_start(client, trainer):
    """A convenience of the list only: the form itself opens at any time."""
    session = make_session()
    session.trainers.add(trainer)
    trainer_client = client
    with time_machine.travel(STARTS - timedelta(minutes=16), tick=False):
        client.force_login(trainer)
        page = trainer_client.get(reverse("trainer:sessions")).content.decode()
        assert "Take attendance" not in page and "Roster" in page
        assert trainer_client.get(attendance_url(session)).status_code == 200
    with time_machine.travel(STARTS - timedelta(minutes=15), tick=False):
        page = trainer_client.get(reverse("trainer:sessions")).content.decode()
        assert "Take attendance" in page


def test_the_attendance_form_lists_registered_learners_and_records_attended_and_absent(
    during_the_session, trainer_client, trainer
):
    """seed 003: Registered -> Attended / Absent "when a trainer marks the attendance from Attendance form"."""
    session = make_session(status=LiveSession.Status.READY)
    session.trainers.add(trainer)
    present, missing, invited = enrol(session, Status.REGISTERED, Status.REGISTERED, Status.INVITED)
    page = trainer_client.get(attendance_url(session)).content.decode()
    assert present.learner.full_name in page and missing.learner.full_name in page
    assert invited.learner.full_name not in page
    answers = {f"learner_{present.pk}": "attended", f"learner_{missing.pk}": "absent"}
    response = trainer_client.post(attendance_url(session), answers, follow=True)
    assert "Attendance saved: 2 changes." in response.content.decode()
    present.refresh_from_db()
    missing.refresh_from_db()
    assert (present.status, missing.status) == (Status.ATTENDED, Status.ABSENT)
    change = StatusChange.objects.get(session_learner=present)
    assert (change.from_status, change.to_status, change.trigger, change.actor) == (
        "registered",
        "attended",
        "attendance",
        trainer,
    )


def test_saving_the_attendance_form_twice_is_harmless(during_the_session, trainer_client, trainer):
    session = make_session(status=LiveSession.Status.READY)
    session.trainers.add(trainer)
    (sl,) = enrol(session, Status.REGISTERED)
    answers = {f"learner_{sl.pk}": "attended"}
    trainer_client.post(attendance_url(session), answers)
    response = trainer_client.post(attendance_url(session), answers, follow=True)
    assert "Attendance saved: 0 changes." in response.content.decode()
    assert StatusChange.objects.filter(session_learner=sl).count() == 1
    page = trainer_client.get(attendance_url(session)).content.decode()
    radios = re.findall(rf'<input[^>]*name="learner_{sl.pk}"[^>]*>', page)
    assert [("checked" in radio, 'value="attended"' in radio) for radio in radios] == [(True, True), (False, False)]


def test_another_trainers_session_answers_403_and_changes_nothing(trainer_client):
    session = make_session()
    session.trainers.add(make_user("other"))
    (sl,) = enrol(session, Status.REGISTERED)
    learner = make_learner()
    assert trainer_client.get(attendance_url(session)).status_code == 403
    assert trainer_client.post(attendance_url(session), {f"learner_{sl.pk}": "attended"}).status_code == 403
    go_show = reverse("trainer:go_show", args=[session.pk])
    assert trainer_client.post(go_show, {"learner": learner.pk}).status_code == 403
    sl.refresh_from_db()
    assert sl.status == Status.REGISTERED and session.session_learners.count() == 1


def test_a_trainer_finds_a_learner_who_came_unregistered_and_adds_them_as_go_show(
    during_the_session, trainer_client, trainer
):
    """seed 003: "- -> Go Show" when the trainer adds a learner without registration from the attendance form."""
    session = make_session(status=LiveSession.Status.READY)
    session.trainers.add(trainer)
    walk_in = make_learner(first_name="Grace", last_name="Hopper")
    (already_present,) = enrol(session, Status.ATTENDED)
    page = trainer_client.get(attendance_url(session), {"q": "grace hop"}).content.decode()
    assert walk_in.full_name in page
    page = trainer_client.get(attendance_url(session), {"q": already_present.learner.last_name}).content.decode()
    assert f"No learner matches “{already_present.learner.last_name}”" in page
    response = trainer_client.post(reverse("trainer:go_show", args=[session.pk]), {"learner": walk_in.pk}, follow=True)
    assert "Grace Hopper was added as a go show." in response.content.decode()
    added = session.session_learners.get(learner=walk_in)
    assert added.status == Status.GO_SHOW
    assert StatusChange.objects.get(session_learner=added).actor == trainer
    # The go show is on the form now, marked present.
    assert walk_in.full_name in trainer_client.get(attendance_url(session)).content.decode()


def test_a_tampered_go_show_learner_gets_a_clear_message(trainer_client, trainer):
    session = make_session()
    session.trainers.add(trainer)
    response = trainer_client.post(reverse("trainer:go_show", args=[session.pk]), {"learner": "x"}, follow=True)
    assert "That learner does not exist (any more)." in response.content.decode()
    assert not session.session_learners.exists()


def test_a_refused_attendance_is_reported_in_words_not_a_500(trainer_client, trainer):
    session = make_session()
    session.trainers.add(trainer)
    (sl,) = enrol(session, Status.REGISTERED)
    form = trainer_client.get(attendance_url(session))
    assert form.status_code == 200
    # The learner cancels while the trainer has the form open.
    SessionLearner.objects.filter(pk=sl.pk).update(status=Status.CANCELLED)
    response = trainer_client.post(attendance_url(session), {f"learner_{sl.pk}": "attended"}, follow=True)
    assert response.status_code == 200
    expected = f"Not recorded, no longer registered for this session: {sl.learner.full_name} (cancelled)."
    assert expected in response.content.decode()
    sl.refresh_from_db()
    assert sl.status == Status.CANCELLED


def test_the_attendance_form_costs_the_same_queries_for_2000_learners_as_for_5(
    during_the_session, trainer_client, trainer, django_assert_max_num_queries
):
    """seed 003: reading and saving the form are set-based."""

    def roster_of(n):
        session = make_session(title=f"S{n}", capacity=0, status=LiveSession.Status.READY)
        session.trainers.add(trainer)
        start = Learner.objects.count()
        learners = Learner.objects.bulk_create(
            Learner(email=f"t{start + i}@example.com", first_name="T", last_name=f"{start + i:05d}") for i in range(n)
        )
        SessionLearner.objects.bulk_create(
            SessionLearner(session=session, learner=x, status=Status.REGISTERED) for x in learners
        )
        answers = {f"learner_{pk}": "attended" for pk in session.session_learners.values_list("pk", flat=True)}
        return session, answers

    small, small_answers = roster_of(5)
    with CaptureQueriesContext(connection) as read_small:
        trainer_client.get(attendance_url(small))
    with CaptureQueriesContext(connection) as save_small:
        trainer_client.post(attendance_url(small), small_answers)
    large, large_answers = roster_of(2000)
    with django_assert_max_num_queries(len(read_small)):
        assert trainer_client.get(attendance_url(large)).status_code == 200
    with django_assert_max_num_queries(len(save_small)):
        assert trainer_client.post(attendance_url(large), large_answers).status_code == 302
    assert large.session_learners.filter(status=Status.ATTENDED).count() == 2000


@pytest.mark.parametrize("language, words", [("fr", "Enregistrer les présences"), ("pl", "Zapisz obecność")])
def test_the_attendance_form_speaks_the_trainers_language(trainer_client, trainer, language, words):
    session = make_session()
    session.trainers.add(trainer)
    enrol(session, Status.REGISTERED)
    # LocaleMiddleware leaves the request's language active in this thread: restore it for the next tests.
    with translation.override(translation.get_language()):
        page = trainer_client.get(attendance_url(session), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert words in page


def test_the_demo_trainer_is_a_trainer_and_sees_the_demo_sessions(client):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    trainer = get_user_model().objects.get(username="trainer")
    assert trainer.groups.filter(name=TRAINERS_GROUP).exists()
    assert client.login(username="trainer", password="trainer")
    page = client.get(reverse("trainer:sessions")).content.decode()
    assert page.count("data-session=") == LiveSession.objects.filter(trainers=trainer).count() > 0


def test_the_demo_trainer_has_the_trainer_pages_and_no_admin_even_on_a_database_seeded_before(client):
    """issue 16 (Low): the seeded `trainer` was staff with change rights on every session. A trainer is a
    member of the Trainers group, not staff: tried over HTTP, the admin refuses the demo trainer."""
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    trainer = get_user_model().objects.get(username="trainer")
    # A database seeded by the former seed: the next run takes the rights back.
    trainer.is_staff = True
    trainer.save()
    call_command("seed_demo", stdout=StringIO())
    trainer.refresh_from_db()
    assert not trainer.is_staff and not trainer.user_permissions.exists()

    session = LiveSession.objects.filter(trainers=trainer).first()
    response = client.post("/admin/login/", {"username": "trainer", "password": "trainer"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(reverse("trainer:login"), {"username": "trainer", "password": "trainer"})
    assert response.status_code == 302 and client.get(reverse("trainer:sessions")).status_code == 200
    change = reverse("admin:live_sessions_livesession_change", args=[session.pk])
    assert client.get(change).status_code == 302
    client.post(change, {"title": "Taken over", "status": "cancelled"})
    session.refresh_from_db()
    assert session.title != "Taken over"
