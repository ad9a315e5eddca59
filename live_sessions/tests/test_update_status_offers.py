"""Issue 18: "When an administrator sets a registered learner to Cancelled (Update status), the freed place is
offered to nobody" — now it is offered, and the administrator is told so: after Update status frees places,
the admin message says how many waiting learners were offered a place, and who (the first few names)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from live_sessions.models import SessionLearner

from .test_waiting_list_trust import queue_up, statuses

S = SessionLearner.Status
pytestmark = pytest.mark.django_db


def update_status(client, session_learners, status):
    response = client.post(
        reverse("admin:live_sessions_sessionlearner_changelist"),
        {
            "action": "update_status",
            ACTION_CHECKBOX_NAME: [sl.pk for sl in session_learners],
            "status": status,
            "apply": "1",
        },
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_update_status_that_frees_a_place_says_which_waiting_learner_was_offered_it(admin_user, client):
    _session, registered, queue = queue_up(capacity=1, waiting=2)
    client.force_login(admin_user)

    said = update_status(client, registered, S.CANCELLED)

    assert statuses(queue) == [S.INVITED, S.WAITING_LIST]
    offered = [m for m in said if "waiting list" in m]
    assert offered == [f"1 learner of the waiting list was offered a freed place: {queue[0].learner.full_name}."]
    assert queue[1].learner.full_name not in " ".join(said)


def test_update_status_freeing_many_places_names_the_first_five_offered_and_counts_the_others(admin_user, client):
    _session, registered, queue = queue_up(capacity=7, waiting=8)
    client.force_login(admin_user)

    said = update_status(client, registered, S.CANCELLED)

    [offered] = [m for m in said if "waiting list" in m]
    names = ", ".join(sl.learner.full_name for sl in queue[:5])
    assert offered == f"7 learners of the waiting list were offered a freed place: {names} and 2 others."
    assert statuses(queue)[-1] == S.WAITING_LIST


def test_update_status_that_frees_no_place_says_nothing_about_the_waiting_list(admin_user, client):
    _session, registered, queue = queue_up(capacity=1, waiting=1)
    client.force_login(admin_user)

    said = update_status(client, queue, S.CANCELLED)

    assert said and not [m for m in said if "offered" in m]
    assert statuses(registered) == [S.REGISTERED]
