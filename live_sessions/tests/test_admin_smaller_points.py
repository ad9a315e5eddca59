"""Issue 18, "Smaller": "the Update status form pre-selects “Not invited” and does not say whom it changes;
“0 of 3 learners copied” is shown as a green success; the approve page's date options do not say which are
full". Each through the real admin pages."""

import re
from datetime import timedelta

import pytest
from django.contrib import messages as django_messages
from django.urls import reverse
from django.utils import timezone

from live_sessions.models import LiveSession, SessionLearner, StatusChange
from programs import services as programs_services
from programs.models import Course

from .conftest import make_learner, make_session

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status
CHANGELIST = reverse("admin:live_sessions_sessionlearner_changelist")


@pytest.fixture
def boss(client, admin_user):
    client.force_login(admin_user)
    return client


def enrol(session, statuses, **fields):
    return [SessionLearner.objects.create(session=session, learner=make_learner(**fields), status=s) for s in statuses]


def act(client, action, rows, **data):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [sl.pk for sl in rows], **data})


def test_the_update_status_form_chooses_no_status_in_advance_and_names_whom_it_changes(boss):
    session = make_session(title="Fire safety")
    ada, bob = enrol(session, [Status.REGISTERED, Status.CANCELLED])
    page = act(boss, "update_status", [ada, bob]).content.decode()
    select = re.search(r'<select name="status".*?</select>', page, re.S).group(0)
    # Only the empty "---------" is chosen: "Not invited" (the first status) no longer is.
    assert re.findall(r'<option value="([^"]*)"[^>]*selected', select) == [""]
    assert "required" in select
    assert "2 learners selected." in page
    changed = re.search(r'<table id="learners-changed">.*?</table>', page, re.S).group(0)
    for sl, status in ((ada, "Registered"), (bob, "Cancelled")):
        assert sl.learner.full_name in changed and status in changed
    assert "Fire safety" in changed


def test_applying_update_status_without_choosing_a_status_changes_nothing(boss):
    (ada,) = enrol(make_session(), [Status.REGISTERED])
    response = act(boss, "update_status", [ada], apply="1", status="")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    ada.refresh_from_db()
    assert ada.status == Status.REGISTERED and not StatusChange.objects.exists()


def test_copying_nobody_is_a_warning_with_the_reasons_not_a_success(boss):
    source = make_session(title="Monday")
    target = make_session(title="Tuesday", capacity=1)
    (already,) = enrol(target, [Status.REGISTERED])
    cancelled_a, cancelled_b = enrol(source, [Status.CANCELLED, Status.CANCELLED])
    (again,) = [SessionLearner.objects.create(session=source, learner=already.learner, status=Status.CANCELLED)]
    response = act(
        boss, "copy_to_session", [cancelled_a, cancelled_b, again], apply="1", target=target.pk, status="registered"
    )
    (message,) = list(response.context["messages"])
    assert message.level == django_messages.WARNING
    assert str(message) == (
        "0 of 3 learners copied to Tuesday (2030-03-04 09:00 Europe/Paris); each one's outcome is listed. "
        "Not copied: 2 refused for lack of a place (full, no waiting list), 1 already in the target session."
    )
    assert target.session_learners.count() == 1


def test_copying_everyone_stays_a_success(boss):
    source, target = make_session(title="Monday"), make_session(title="Tuesday")
    rows = enrol(source, [Status.CANCELLED, Status.CANCELLED])
    response = act(boss, "copy_to_session", rows, apply="1", target=target.pk, status="not_invited")
    (message,) = list(response.context["messages"])
    assert message.level == django_messages.SUCCESS
    assert str(message) == (
        "2 of 2 learners copied to Tuesday (2030-03-04 09:00 Europe/Paris); each one's outcome is listed."
    )


def test_the_approve_page_says_which_date_options_are_full(boss):
    course = Course.objects.create(title="Excel")
    starts = timezone.now() + timedelta(days=20)
    dates = {
        name: LiveSession.objects.create(
            title=name,
            course=course,
            status="ready",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=capacity,
            waiting_list_enabled=waiting,
        )
        for name, capacity, waiting in (
            ("Full A", 1, True),
            ("Full B", 1, False),
            ("Roomy", 3, False),
            ("Open", 0, False),
        )
    }
    for name in ("Full A", "Full B", "Roomy"):
        enrol(dates[name], [Status.REGISTERED])
    request = programs_services.request_training(make_learner(), course, requested_by=None)
    page = boss.post(
        reverse("admin:programs_trainingrequest_changelist"), {"action": "approve", "_selected_action": [request.pk]}
    )
    labels = {name: re.search(rf"{name} — [^<]*", page.content.decode()).group(0).strip() for name in dates}
    assert labels["Full A"].endswith("— full (waiting list)")
    assert labels["Full B"].endswith("— full (no waiting list)")
    assert labels["Roomy"].endswith("— 2 places left")
    assert "full" not in labels["Open"] and "left" not in labels["Open"]
