"""Odd input answers in words, never a 500 (issue 16, Low: "500s: ?session__id__exact=%C2%B2 on session learners,
?notify_run=%C2%B2 on messages, memberships-0-id=² on a group, a trainer's learner_²=attended, change-dates with
starts_at=0001-01-01T00:00:00+14:00, a session on 9999-12-31 in Pacific/Kiritimati").

"²".isdigit() is True and int("²") raises: each attack below answered 500 before.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from learners.models import GroupMembership, Learner, LearnerGroup
from live_sessions.models import LiveSession, SessionLearner
from live_sessions.tests.conftest import make_learner, make_session, make_user, session_form_data
from live_sessions.trainers import trainers_group
from lms_notify.parsing import parse_id

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "²"


@pytest.fixture
def trainer_client(client):
    trainer = make_user("trainer")
    trainer.groups.add(trainers_group())
    client.force_login(trainer)
    return client, trainer


def test_an_id_is_read_with_int_under_try_and_bounded_to_a_database_id():
    assert SUPERSCRIPT_TWO.isdigit()  # why isdigit() is no guard
    assert [parse_id(v) for v in ("12", " 7 ", 5, SUPERSCRIPT_TWO, "١٢", "x", "", None, "0", "-3", True)] == [
        12,
        7,
        5,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert parse_id(str(2**63)) is None and parse_id("9" * 5000) is None


def test_a_superscript_session_id_on_the_session_learners_list_is_a_400_in_words(admin_client):
    url = reverse("admin:live_sessions_sessionlearner_changelist")
    response = admin_client.get(url, {"session__id__exact": SUPERSCRIPT_TWO})
    assert response.status_code == 400
    assert "must be the number of a record" in response.content.decode()
    assert admin_client.get(url, {"session__id__exact": make_session().pk}).status_code == 200


def test_a_superscript_notify_run_on_the_messages_list_is_a_400_in_words(admin_client):
    url = reverse("admin:notifications_notification_changelist")
    response = admin_client.get(url, {"notify_run": SUPERSCRIPT_TWO})
    assert response.status_code == 400
    assert "“notify_run” must be the number of a record" in response.content.decode()


def test_a_superscript_membership_id_posted_on_a_group_is_a_form_error(admin_client):
    group = LearnerGroup.objects.create(name="Everyone")
    learner = Learner.objects.create(email="m@example.com", first_name="M", last_name="One")
    membership = GroupMembership.objects.create(learner=learner, group=group)
    data = {"name": "Everyone", "description": "", "memberships-TOTAL_FORMS": 1, "memberships-INITIAL_FORMS": 1}
    data.update({"memberships-0-id": SUPERSCRIPT_TWO, "memberships-0-group": group.pk})
    data.update({"memberships-0-learner": learner.pk, "memberships-0-joined_at_0": "2026-01-01"})
    data["memberships-0-joined_at_1"] = "09:00"
    response = admin_client.post(reverse("admin:learners_learnergroup_change", args=[group.pk]), data)
    assert response.status_code == 200
    assert response.context["errors"]  # the admin's "Please correct the error below."
    assert list(GroupMembership.objects.filter(group=group).values_list("pk", "joined_at")) == [
        (membership.pk, membership.joined_at)
    ]


def test_a_superscript_learner_in_a_trainers_attendance_post_changes_nothing(trainer_client):
    client, trainer = trainer_client
    session = make_session()
    session.trainers.add(trainer)
    registered = SessionLearner.objects.create(session=session, learner=make_learner(), status="registered")
    url = reverse("trainer:attendance", args=[session.pk])
    response = client.post(url, {f"learner_{SUPERSCRIPT_TWO}": "attended"}, follow=True)
    assert response.status_code == 200
    assert "Attendance saved: 0 changes." in response.content.decode()
    registered.refresh_from_db()
    assert registered.status == "registered"


def test_a_change_dates_page_proposing_year_1_at_plus_14_shows_the_current_dates(admin_client):
    session = make_session()
    url = reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    response = admin_client.get(url, {"starts_at": "0001-01-01T00:00:00+14:00", "ends_at": "9999-12-31T23:59:00-14:00"})
    assert response.status_code == 200
    assert 'value="2030-03-04"' in response.content.decode()


def test_new_dates_outside_the_century_are_a_form_error(admin_client):
    session = make_session()
    url = reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    data = {"starts_at_0": "0001-01-01", "starts_at_1": "00:00", "ends_at_0": "9999-12-31", "ends_at_1": "23:00"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "A session takes place between the years 2000 and 2099." in response.content.decode()
    session.refresh_from_db()
    assert session.starts_at.year == 2030


def test_a_session_on_9999_12_31_in_kiritimati_is_refused_by_the_session_form(admin_client):
    unsaved = LiveSession(
        title="End of time",
        starts_at=datetime(9999, 12, 31, 12, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 13, tzinfo=UTC),
        timezone="Pacific/Kiritimati",
        capacity=5,
    )
    data = session_form_data(unsaved)
    response = admin_client.post(reverse("admin:live_sessions_livesession_add"), data)
    assert response.status_code == 200
    assert "A session takes place between the years 2000 and 2099." in response.content.decode()
    assert not LiveSession.objects.exists()


def test_a_trainers_list_with_a_session_stored_on_9999_12_31_in_kiritimati_still_opens(trainer_client):
    client, trainer = trainer_client
    far = LiveSession.objects.create(
        title="End of time",
        starts_at=datetime(9999, 12, 31, 12, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 13, tzinfo=UTC),
        timezone="Pacific/Kiritimati",
    )
    soon = make_session(title="Next week", starts_at=datetime.now(UTC) + timedelta(days=7))
    soon.ends_at = soon.starts_at + timedelta(hours=2)
    soon.save()
    for session in (far, soon):
        session.trainers.add(trainer)
    response = client.get(reverse("trainer:sessions"))
    assert response.status_code == 200
    assert "Next week" in response.content.decode()
