"""The admin home page says what needs attention (issue 20 "A home page that says what needs attention"): each
figure links to the filtered list, only what the user may view is shown, in a fixed number of queries."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from learners.models import Learner
from live_sessions.models import LiveSession, SessionLearner
from lms_notify.bench_data import learner
from notifications.models import Notification, TriggerScan

pytestmark = pytest.mark.django_db


def panel(response) -> dict[str, tuple[str, str]]:
    """{row label: (figure, link)} of the attention panel."""
    html = response.content.decode()
    match = re.search(r'<div class="module" id="attention">(.*?)</div>', html, re.S)
    if match is None:
        return {}
    rows = re.findall(
        r'<th scope="row">(.*?)</th>\s*<td>(?:<a href="([^"]*)">)?(.*?)(?:</a>)?</td>', match.group(1), re.S
    )
    return {unescape(label.strip()): (unescape(value.strip()), unescape(url)) for label, url, value in rows}


def message(status, n):
    someone = learner(email=f"m{n}@example.com")
    return Notification.objects.create(
        event="program.assigned", channel="email", status=status, recipient_learner=someone, dedupe_key=f"a{n}"
    )


def session(starts_at, capacity, registered, waiting):
    live = LiveSession.objects.create(
        title="First aid",
        status="ready",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=capacity,
    )
    for i in range(registered + waiting):
        someone = learner(email=f"s{live.pk}-{i}@example.com")
        SessionLearner.objects.create(
            session=live, learner=someone, status="registered" if i < registered else "waiting_list"
        )
    return live


def test_the_home_page_counts_messages_to_confirm_and_failed_with_links_to_the_filtered_lists(admin_client):
    for n in range(3):
        message("awaiting_confirmation", n)
    message("failed", 9)
    rows = panel(admin_client.get("/admin/"))

    assert rows["Messages awaiting confirmation"] == (
        "3",
        "/admin/notifications/notification/?status__exact=awaiting_confirmation",
    )
    assert rows["Failed messages"] == ("1", "/admin/notifications/notification/?status__exact=failed")
    # The linked list is the one with the confirm action, filtered to those three.
    listed = admin_client.get(rows["Messages awaiting confirmation"][1])
    assert listed.context["cl"].result_count == 3


def test_the_home_page_says_when_the_trigger_scan_never_ran_or_is_late(admin_client):
    rows = panel(admin_client.get("/admin/"))
    assert "never ran" in rows["Date-based triggers"][0]

    long_ago = timezone.now() - timedelta(hours=2)
    TriggerScan.objects.create(status="done", window_start=long_ago, window_end=long_ago, finished_at=long_ago)
    rows = panel(admin_client.get("/admin/"))
    assert "silent for 120 minutes" in rows["Date-based triggers"][0]


def test_the_home_page_shows_todays_and_this_weeks_sessions_with_fill_rate_and_waiting_list(admin_client):
    now = timezone.now()
    session(now + timedelta(minutes=1), capacity=4, registered=3, waiting=2)
    rows = panel(admin_client.get("/admin/"))

    assert rows["Today's sessions"] == (
        "1 session, 3 of 4 places taken (75%), 2 on waiting lists",
        "/admin/live_sessions/livesession/?when=today",
    )
    assert rows["This week's sessions"][0].startswith("1 session, 3 of 4")
    assert admin_client.get(rows["Today's sessions"][1]).context["cl"].result_count == 1


def test_the_home_page_counts_active_learners_without_consent_and_links_to_them(admin_client):
    learner(email="yes@example.com")
    learner(email="no@example.com", consent_given_at=None)
    learner(email="gone@example.com", consent_given_at=None, is_active=False)
    value, url = panel(admin_client.get("/admin/"))["Active learners without consent (nothing reaches them)"]

    assert value == "1"
    assert [r.email for r in admin_client.get(url).context["cl"].result_list] == ["no@example.com"]


def test_the_panel_shows_only_what_the_user_may_view(client):
    """The attack: a staff user who may only view learners reads the home page; no message or session figure."""
    message("failed", 1)
    user = get_user_model().objects.create_user("coordinator", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_learner"))
    client.force_login(user)
    rows = panel(client.get("/admin/"))

    assert list(rows) == ["Active learners without consent (nothing reaches them)"]


def test_a_bad_period_in_the_sessions_filter_shows_every_session(admin_client):
    session(timezone.now() + timedelta(days=30), capacity=4, registered=0, waiting=0)
    response = admin_client.get("/admin/live_sessions/livesession/?when=<script>")
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("size", [1, 30])
def test_the_home_page_costs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries, size):
    """Issue 20 "Done when": the home panel keeps a fixed number of queries (same bound at two sizes): session,
    user, messages, trigger scan (3), sessions, learners, recent actions."""
    now = timezone.now()
    for n in range(size):
        message("failed", n)
        Learner.objects.create(email=f"x{n}@example.com", first_name="X", last_name="Y")
    session(now + timedelta(minutes=5), capacity=size, registered=size, waiting=1)
    with django_assert_max_num_queries(9):
        assert admin_client.get("/admin/").status_code == 200
