"""The learner's timeline (issue 20 "The learner's timeline"): "Why did (or didn't) Chloé get a message?" answered
on one page, newest first, filterable and paginated, in a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from lms_notify.bench_data import ENTRIES_PER_EACH, history, learner
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def timeline_url(someone, **query):
    url = reverse("admin:learners_learner_timeline", args=[someone.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def chloe():
    return learner()


def rows(response):
    return re.findall(r'<tr class="entry entry-(\w+)', response.content.decode())


def test_the_learner_page_links_to_her_timeline(admin_client, chloe):
    response = admin_client.get(reverse("admin:learners_learner_change", args=[chloe.pk]))
    assert timeline_url(chloe) in response.content.decode()


def test_the_timeline_lists_every_kind_of_record_newest_first_with_reasons_in_words(admin_client, chloe):
    history(chloe, each=1)
    response = admin_client.get(timeline_url(chloe))
    text = response.content.decode()

    assert response.status_code == 200
    assert sorted(set(rows(response))) == ["invitation", "message", "notify", "request", "session"]
    assert len(rows(response)) == ENTRIES_PER_EACH
    # The why in the one vocabulary (notifications.reasons), not the stored codes.
    assert "Omitted: the learner has not consented to receive messages" in text
    assert "already notified recently" in text
    assert "no_consent" not in text and "rate_limited" not in text
    assert "copy to the guardian Anne Martin" in text
    assert "Refused" in text and "Accepted" in text and "Registered from the learner interface" in text
    whens = re.findall(r'<td class="when">([^<]+)</td>', text)
    assert len(whens) == ENTRIES_PER_EACH
    # Links to the detail pages: the message, the Notify run, the session.
    message = Notification.objects.filter(recipient_learner=chloe).first()
    assert reverse("admin:notifications_notification_change", args=[message.pk]) in text
    assert "/admin/notifications/notifyrun/" in text and "/admin/live_sessions/livesession/" in text


def test_the_timeline_is_newest_first(admin_client, chloe):
    history(chloe, each=2)
    page = admin_client.get(timeline_url(chloe)).context["page"]
    moments = [entry.at for entry in page.entries]
    assert moments == sorted(moments, reverse=True)


@pytest.mark.parametrize(
    "query, kinds",
    [
        ({"kind": "message"}, {"message"}),
        ({"kind": "session"}, {"session"}),
        ({"channel": "sms"}, set()),
        ({"status": "omitted"}, {"message", "notify"}),
        ({"status": "sent"}, {"message"}),
    ],
)
def test_the_timeline_filters_by_kind_channel_and_status(admin_client, chloe, query, kinds):
    history(chloe, each=3)
    assert set(rows(admin_client.get(timeline_url(chloe, **query)))) == kinds


def test_the_timeline_filters_by_date_range(admin_client, chloe):
    history(chloe, each=2, start=timezone.now() - timedelta(days=400))
    recent = timezone.localdate() - timedelta(days=10)
    assert rows(admin_client.get(timeline_url(chloe, since=recent))) == []
    assert len(rows(admin_client.get(timeline_url(chloe, until=recent)))) == 2 * ENTRIES_PER_EACH


def test_a_bad_filter_is_answered_in_words_and_shows_everything(admin_client, chloe):
    """Project rule: bad input gets a clear message and changes nothing; never a 500."""
    history(chloe, each=1)
    for query in ({"since": "2026-13-45"}, {"kind": "<script>"}, {"since": "2026-05-01", "until": "2026-01-01"}):
        response = admin_client.get(timeline_url(chloe, **query), follow=True)
        assert response.status_code == 200
        assert "The filter was not applied" in response.content.decode()
        assert len(rows(response)) == ENTRIES_PER_EACH


def test_the_timeline_is_paginated_fifty_per_page_and_a_page_past_the_end_shows_the_last(admin_client, chloe):
    history(chloe, each=7)  # 63 entries
    first = admin_client.get(timeline_url(chloe))
    second = admin_client.get(timeline_url(chloe, page=2))
    beyond = admin_client.get(timeline_url(chloe, page=999))
    nonsense = admin_client.get(timeline_url(chloe, page="99999999999999999999999"))

    assert len(rows(first)) == 50 and len(rows(second)) == 13
    assert first.context["page"].total == 63
    first_seen = {(e.at, e.kind, e.order) for e in first.context["page"].entries}
    assert not first_seen & {(e.at, e.kind, e.order) for e in second.context["page"].entries}
    assert beyond.status_code == 200 and len(rows(beyond)) == 13
    assert "page=2" in first.content.decode()
    assert nonsense.status_code == 200 and len(rows(nonsense)) == 50


@pytest.mark.parametrize("each", [1, 40])
def test_the_timeline_page_costs_a_fixed_number_of_queries(admin_client, chloe, django_assert_max_num_queries, each):
    """Issue 20 "Done when": the learner page keeps a fixed number of queries (same bound at two sizes):
    session, user, learner, then two per source (count, page) and the messages' Notify runs."""
    history(chloe, each=each)
    with django_assert_max_num_queries(16):
        response = admin_client.get(timeline_url(chloe, page=1 if each == 1 else 3))
    assert response.status_code == 200


def test_someone_who_may_not_view_learners_cannot_open_a_timeline(client, chloe):
    """The attack: a staff user without the learners' view permission types the timeline's address."""
    history(chloe, each=1)
    user = get_user_model().objects.create_user("intern", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(user)
    response = client.get(timeline_url(chloe))
    assert response.status_code == 403


def test_the_timeline_shows_only_the_records_the_user_may_view(client, chloe):
    """A learner viewer who may not read messages sees her sessions and requests, not her messages."""
    history(chloe, each=1)
    user = get_user_model().objects.create_user("coordinator", password="pw", is_staff=True)
    for codename in ("view_learner", "view_statuschange", "view_invitation"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    response = client.get(timeline_url(chloe))
    assert set(rows(response)) == {"session", "invitation"}
    assert "not consented" not in response.content.decode()


def test_an_unknown_learner_number_is_a_404_not_a_500(admin_client):
    assert admin_client.get("/admin/learners/learner/99999999/timeline/").status_code == 404
    assert admin_client.get("/admin/learners/learner/abc/timeline/").status_code == 404


def test_a_notify_runs_omitted_learners_link_to_their_timelines(admin_client, chloe):
    """Issue 20: "A Notify run's omitted learners link to their timelines" (run page and outcomes list)."""
    history(chloe, each=1)
    run = chloe.notify_outcomes.get().run
    run_page = admin_client.get(reverse("admin:notifications_notifyrun_change", args=[run.pk])).content.decode()
    outcomes = admin_client.get(reverse("admin:notifications_notifyoutcome_changelist")).content.decode()

    assert timeline_url(chloe) in run_page and "already notified recently" in run_page
    assert timeline_url(chloe) in outcomes
