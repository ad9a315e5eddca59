"""A session that is over takes no answers (issue 16, Low: "respond() registers an invited learner in a completed
session; a trainer adds a go-show to a cancelled session or one twelve days ahead").

Answers (an invitation, a registration, a date choice, a freed place, an approval) count only for a ready
session that is not over; attendance and go-shows only for a ready session, from 15 minutes before it starts
(Totara's default) to settings.ATTENDANCE_WINDOW_DAYS_AFTER days after it ends.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from live_sessions import messages, services
from live_sessions.flow import LiveSessionError
from live_sessions.models import LiveSession, ParticipationRequest, SessionLearner
from live_sessions.trainers import trainers_group

from .conftest import STARTS, make_learner, make_session, make_user
from .test_links import link

pytestmark = pytest.mark.django_db

S = SessionLearner.Status
Ready, Completed, Cancelled = LiveSession.Status.READY, LiveSession.Status.COMPLETED, LiveSession.Status.CANCELLED
ENDS = STARTS + timedelta(hours=3)


def invited_to(session, **learner_fields):
    (sl,) = services.add_learners(session, [make_learner(**learner_fields)])
    services.set_status([sl], S.INVITED, actor=None)
    sl.refresh_from_db()
    return sl


def status_of(sl):
    return SessionLearner.objects.get(pk=sl.pk).status


# --- Answers -------------------------------------------------------------------------------------


def test_an_invited_learner_cannot_accept_a_completed_session():
    sl = invited_to(make_session(status=Ready))
    LiveSession.objects.filter(pk=sl.session_id).update(status=Completed)
    with pytest.raises(LiveSessionError, match="not open for registration"):
        services.respond(sl, accept=True)
    assert status_of(sl) == S.INVITED


def test_an_invited_learner_cannot_accept_a_ready_session_once_it_has_ended(time_machine):
    sl = invited_to(make_session(status=Ready))
    time_machine.move_to(ENDS + timedelta(minutes=1), tick=False)
    with pytest.raises(LiveSessionError, match="is over: it takes no more answers"):
        services.respond(sl, accept=True)
    assert status_of(sl) == S.INVITED


def test_a_learner_cannot_register_for_a_session_that_is_over(time_machine):
    session = make_session(status=Ready)
    time_machine.move_to(ENDS, tick=False)
    with pytest.raises(LiveSessionError, match="is over"):
        services.register(session, make_learner())
    assert not session.session_learners.exists()


def test_a_date_choice_for_a_session_that_is_over_is_refused(time_machine):
    session = make_session(status=Ready)
    learner = make_learner()
    request = services.request_participation(learner, [session])
    time_machine.move_to(ENDS + timedelta(days=1), tick=False)
    with pytest.raises(LiveSessionError, match="is over"):
        services.choose_date(request, session=session)
    assert ParticipationRequest.objects.get(pk=request.pk).status == ParticipationRequest.Status.PENDING
    assert not session.session_learners.exists()


def test_the_invitation_link_of_a_completed_session_says_so_in_the_learners_language_and_registers_nobody(client):
    sl = invited_to(make_session(status=Ready), language="fr")
    url = link(messages.INVITATION_PURPOSE, sl)
    LiveSession.objects.filter(pk=sl.session_id).update(status=Completed)
    with translation.override("en"):
        page = client.get(url).content.decode()
        assert "pas ouverte aux inscriptions" in page and 'value="accept"' not in page
        response = client.post(url, {"decision": "accept"})
    assert response.status_code == 200
    assert "pas ouverte aux inscriptions" in response.content.decode()
    assert status_of(sl) == S.INVITED


def test_the_invitation_link_after_the_end_says_the_session_is_over(client, time_machine):
    sl = invited_to(make_session(status=Ready), language="pl")
    time_machine.move_to(ENDS + timedelta(hours=1), tick=False)
    url = link(messages.INVITATION_PURPOSE, sl)
    with translation.override("en"):
        response = client.post(url, {"decision": "accept"})
    assert "już się zakończyła: nie przyjmuje już odpowiedzi" in response.content.decode()
    assert status_of(sl) == S.INVITED


# --- Attendance and go-shows -------------------------------------------------------------------------


@pytest.fixture
def trainer():
    user = make_user("trainer")
    user.groups.add(trainers_group())
    return user


def go_show_page(client, trainer, session):
    session.trainers.add(trainer)
    client.force_login(trainer)
    learner = make_learner(first_name="Walk", last_name="In")
    response = client.post(reverse("trainer:go_show", args=[session.pk]), {"learner": learner.pk}, follow=True)
    return response.content.decode()


def test_a_trainer_cannot_add_a_go_show_to_a_cancelled_session(client, trainer, during_the_session):
    session = make_session(status=Cancelled)
    page = go_show_page(client, trainer, session)
    assert "Walk In: Attendance is only taken for a session that takes place" in page
    assert not session.session_learners.exists()


def test_a_trainer_cannot_add_a_go_show_twelve_days_ahead(client, trainer, time_machine):
    time_machine.move_to(STARTS - timedelta(days=12), tick=False)
    session = make_session(status=Ready)
    page = go_show_page(client, trainer, session)
    assert "Walk In: Attendance for “First aid workshop” opens on 4 Mar 2030, 08:45" in page
    assert not session.session_learners.exists()


def test_attendance_opens_15_minutes_before_the_start_and_closes_the_set_days_after_the_end(
    time_machine, settings, trainer
):
    settings.ATTENDANCE_WINDOW_DAYS_AFTER = 7
    session = make_session(status=Ready)
    walk_in = make_learner()
    (sl,) = services.add_learners(session, [make_learner()])
    services.set_status([sl], S.REGISTERED, actor=None)
    time_machine.move_to(STARTS - timedelta(minutes=16), tick=False)
    with pytest.raises(LiveSessionError, match="opens on"):
        services.add_go_show(session, walk_in, actor=trainer)
    time_machine.move_to(STARTS - timedelta(minutes=15), tick=False)
    assert services.add_go_show(session, walk_in, actor=trainer).status == S.GO_SHOW
    time_machine.move_to(ENDS + timedelta(days=7), tick=False)
    services.mark_attendance_many(session, {sl.pk: False}, actor=trainer)
    time_machine.move_to(ENDS + timedelta(days=7, seconds=1), tick=False)
    with pytest.raises(LiveSessionError, match="closed on"):
        services.mark_attendance_many(session, {sl.pk: True}, actor=trainer)
    with pytest.raises(LiveSessionError, match="closed on"):
        services.mark_attendance(sl, attended=True, actor=trainer)
    assert status_of(sl) == S.ABSENT


def test_the_attendance_form_of_a_completed_session_refuses_in_the_trainers_words(client, trainer, during_the_session):
    session = make_session(status=Ready)
    session.trainers.add(trainer)
    (sl,) = services.add_learners(session, [make_learner()])
    services.set_status([sl], S.REGISTERED, actor=None)
    LiveSession.objects.filter(pk=session.pk).update(status=Completed)
    client.force_login(trainer)
    with translation.override(translation.get_language()):
        response = client.post(
            reverse("trainer:attendance", args=[session.pk]),
            {f"learner_{sl.pk}": "attended"},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    assert "Les présences ne se prennent que pour une session qui a lieu" in response.content.decode()
    assert status_of(sl) == S.REGISTERED
