"""The four Notify buttons in the admin (seed 000): preview first, send on confirmation."""

import re
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from learners.models import GroupMembership, Invitation, Learner, LearnerGroup
from notifications.models import Notification, NotifyOutcome, NotifyRun
from notifications.tasks import notify_learners_task
from programs.models import Assignment, Program

pytestmark = pytest.mark.django_db

PREVIEW = "admin:notifications_notify_preview"


@pytest.fixture
def team():
    """A warehouse group: one invited learner, one missing training, one without consent."""
    program = Program.objects.create(title="Workplace safety")
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(program)
    now = timezone.now()
    invited = Learner.objects.create(email="ann@example.com", first_name="Ann", last_name="A", consent_given_at=now)
    missing = Learner.objects.create(email="bob@example.com", first_name="Bob", last_name="B", consent_given_at=now)
    silent = Learner.objects.create(email="cy@example.com", first_name="Cy", last_name="C")
    Invitation.objects.create(learner=invited)
    for learner in (invited, missing, silent):
        GroupMembership.objects.create(learner=learner, group=group)
    return {"group": group, "program": program, "invited": invited, "missing": missing, "silent": silent}


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_notify_all_learners_button_is_on_learner_group_and_program_lists(admin_client):
    """Seed 000: "Notify All Learners" is found on many pages."""
    for name in ("learners_learner", "learners_learnergroup", "programs_program", "notifications_notifyrun"):
        response = admin_client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200
        assert "Notify all learners" in response.content.decode(), name
        assert "scope=all_learners" in response.content.decode()


def test_preview_shows_counts_and_sends_nothing(admin_client, team):
    """Seed 000: a click first shows what would happen; nothing is sent before confirmation."""
    response = admin_client.get(reverse(PREVIEW), {"scope": "all_learners"})

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["actions"] == {"invitation": 1, "missing_training": 1}
    assert preview["omitted"] == {"no_consent": 1}
    page = response.content.decode()
    assert "Ann A" in page and "Bob B" in page and "No consent to receive messages" in page
    assert Notification.objects.count() == 0
    assert NotifyRun.objects.count() == 0
    assert not Assignment.objects.exists()


def test_the_preview_shows_the_real_email_once_per_language_in_scope_and_writes_nothing(admin_client, team):
    """Issue 20: Notify's preview showed counts and five names but never the email itself. One learner per
    language, rendered through the run's own path; her invitation link masked (a bearer token)."""
    Learner.objects.filter(pk=team["missing"].pk).update(language="fr")

    response = admin_client.get(reverse(PREVIEW), {"scope": "all_learners"})

    emails = response.context["preview"]["emails"]
    assert [(e.language, e.recipient_learner) for e in emails] == [("en", team["invited"]), ("fr", team["missing"])]
    assert "Workplace safety" in emails[1].body
    page = response.content.decode()
    assert emails[0].subject in page and emails[1].subject in page
    shown = page.split('id="notify-preview-emails"')[1]
    assert "/a/…/" in shown and not re.search(r"/a/[^…\s]", shown)
    assert Notification.objects.count() == 0 and NotifyRun.objects.count() == 0


def test_confirming_sends_and_reports_sent_and_omitted(admin_client, team):
    """Seed 000: after confirmation the administrator reads N queued (by kind), M omitted (by reason) (issue 20)."""
    next_url = reverse("admin:learners_learner_changelist")
    response = admin_client.post(reverse(PREVIEW), {"scope": "all_learners", "next": next_url})

    assert response.status_code == 302 and response.url == next_url
    assert messages_of(response) == [
        "2 queued (1 invitation, 1 missing training), 1 omitted (1 no consent), "
        "1 assignment created (1 for missing required training)"
    ]
    run = NotifyRun.objects.get()
    assert (run.scope, run.status, run.total) == ("all_learners", "done", 3)
    assert Notification.objects.filter(status="queued").count() == 2
    assert Assignment.objects.filter(learner=team["missing"], group=team["group"]).exists()


def test_notifications_page_lists_groups_with_completion(admin_client, team):
    """Seed 000: the Notifications page holds "Notify All Groups" and a row menu with "Notify Group"."""
    Assignment.objects.create(learner=team["invited"], program=team["program"], completed_at=timezone.now())
    Assignment.objects.create(learner=team["missing"], program=team["program"])

    response = admin_client.get(reverse("admin:notifications_notify"))

    assert response.status_code == 200
    [group] = response.context["groups"]
    assert (group.member_count, group.complete_count, group.incomplete_count, group.percent_complete) == (3, 1, 1, 50)
    page = response.content.decode()
    assert "Notify all groups" in page and "scope=all_groups" in page
    assert "Notify group" in page and f"group={team['group'].pk}" in page


def test_notify_all_groups_reaches_group_members_only(admin_client, team):
    """Seed 000: "Notify All Groups" concerns learners who belong to a group."""
    loner = Learner.objects.create(
        email="dee@example.com", first_name="Dee", last_name="D", consent_given_at=timezone.now()
    )
    Invitation.objects.create(learner=loner)

    admin_client.post(reverse(PREVIEW), {"scope": "all_groups"})

    run = NotifyRun.objects.get()
    assert run.total == 3
    assert not NotifyOutcome.objects.filter(learner=loner).exists()


def test_notify_group_from_the_row_menu(admin_client, team):
    """Seed 000: "Notify Group" notifies the members of one group."""
    group = team["group"]
    response = admin_client.get(reverse(PREVIEW), {"scope": "group", "group": group.pk})
    assert response.status_code == 200 and response.context["preview"]["total"] == 3

    response = admin_client.post(reverse(PREVIEW), {"scope": "group", "group": group.pk})

    run = NotifyRun.objects.get()
    assert (run.scope, run.group) == ("group", group)
    assert "2 queued" in messages_of(response)[0]


def test_notify_group_admin_action_opens_the_preview(admin_client, team):
    """Seed 000: "Notify Group" is also an action on the groups list; it previews before sending."""
    url = reverse("admin:learners_learnergroup_changelist")
    response = admin_client.post(url, {"action": "notify_group", "_selected_action": [team["group"].pk]})

    assert response.status_code == 302
    assert response.url.startswith(reverse(PREVIEW)) and f"group={team['group'].pk}" in response.url
    assert Notification.objects.count() == 0


def test_notify_group_admin_action_needs_exactly_one_group(admin_client, team):
    other = LearnerGroup.objects.create(name="Office")
    url = reverse("admin:learners_learnergroup_changelist")
    response = admin_client.post(url, {"action": "notify_group", "_selected_action": [team["group"].pk, other.pk]})

    assert "Select exactly one group" in " ".join(messages_of(response))
    assert NotifyRun.objects.count() == 0


def test_notify_learner_button_and_history_on_the_learner_page(admin_client, team):
    """Seed 000: "Notify Learner" in the learner view; omitted notifications are labelled with the reason."""
    silent = team["silent"]
    url = reverse("admin:learners_learner_change", args=[silent.pk])
    response = admin_client.get(url)
    page = response.content.decode()
    assert "Notify learner" in page and f"learner={silent.pk}" in page
    assert "has not been notified" in page

    admin_client.post(reverse(PREVIEW), {"scope": "learner", "learner": silent.pk, "next": url})

    page = admin_client.get(url).content.decode()
    assert "Notify history" in page
    # Issue 20: the reason in the one vocabulary the messages list and the timeline use too.
    assert "Omitted" in page and "the learner has not consented to receive messages" in page
    assert NotifyRun.objects.get().learner == silent


def test_tampered_button_parameters_get_a_clear_message(admin_client, team):
    """House rule: bad input gets a clear message and changes nothing, never a 500."""
    for params in ({"scope": "everyone"}, {"scope": "group", "group": "x"}, {"scope": "learner", "learner": 999999}):
        response = admin_client.post(reverse(PREVIEW), params)
        assert response.status_code == 302
        assert messages_of(response)
    response = admin_client.get(reverse(PREVIEW), {"scope": "all_learners", "next": "https://evil.example/"})
    assert response.context["next_url"] == reverse("admin:notifications_notify")
    assert NotifyRun.objects.count() == 0


def test_large_scope_runs_as_a_task_with_a_progress_page(admin_client, team, settings):
    """Seed 000 at scale: beyond NOTIFY_SYNC_LIMIT the click is queued and the admin follows its progress."""
    settings.NOTIFY_SYNC_LIMIT = 2
    with mock.patch("notifications.tasks.async_task") as async_task:
        response = admin_client.post(reverse(PREVIEW), {"scope": "all_learners"})

    run = NotifyRun.objects.get()
    async_task.assert_called_once_with("notifications.tasks.notify_learners_task", run.pk, group="notify")
    assert response.url == reverse("admin:notifications_notifyrun_progress", args=[run.pk])
    assert (run.status, run.total, run.actor.is_superuser) == ("pending", 3, True)
    assert Notification.objects.count() == 0

    page = admin_client.get(response.url)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh"' in page.content.decode()
    assert "0 of 3 learners processed" in page.content.decode()

    with mock.patch("notifications.tasks.async_task"):
        notify_learners_task(run.pk)
        notify_learners_task(run.pk)  # a duplicated task does nothing

    run.refresh_from_db()
    assert (run.status, run.processed) == ("done", 3)
    assert Notification.objects.count() == 2
    page = admin_client.get(response.url).content.decode()
    assert '<meta http-equiv="refresh"' not in page
    assert (
        "2 queued (1 invitation, 1 missing training), 1 omitted (1 no consent), "
        "1 assignment created (1 for missing required training)"
    ) in page
    progress = admin_client.get(reverse("admin:notifications_notifyrun_progress_json", args=[run.pk])).json()
    assert (progress["status"], progress["processed"], progress["total"]) == ("done", 3, 3)


def test_run_and_outcome_lists_are_useful(admin_client, team):
    """Seed 000: every click is recorded with what was sent and what was omitted."""
    admin_client.post(reverse(PREVIEW), {"scope": "all_learners"})
    run = NotifyRun.objects.get()

    page = admin_client.get(reverse("admin:notifications_notifyrun_changelist")).content.decode()
    assert "1 invitation, 1 missing training" in page and "1 no consent" in page
    assert admin_client.get(reverse("admin:notifications_notifyrun_change", args=[run.pk])).status_code == 200
    outcomes = reverse("admin:notifications_notifyoutcome_changelist")
    response = admin_client.get(outcomes, {"reason": "no_consent"})
    assert list(response.context["cl"].result_list) == [NotifyOutcome.objects.get(reason="no_consent")]
    response = admin_client.get(outcomes, {"q": "bob@example.com"})
    assert [o.learner for o in response.context["cl"].result_list] == [team["missing"]]


def test_the_preview_says_which_assignments_the_run_will_create_and_creates_none(admin_client, team):
    """Seed 000: besides the emails, the administrator sees the assignments a click will create (missing
    training, renewals) before confirming; the preview itself assigns nothing."""
    response = admin_client.get(reverse(PREVIEW), {"scope": "all_learners"})

    assert response.context["preview"]["assignments"] == {"missing_training": 1}
    page = response.content.decode()
    assert "It will also create 1 assignment" in page and "1 for missing required training" in page
    assert not Assignment.objects.filter(learner=team["missing"]).exists()

    admin_client.post(reverse(PREVIEW), {"scope": "all_learners"})

    assert Assignment.objects.filter(learner=team["missing"], program=team["program"]).count() == 1
    # The run says what it did in the preview's words, on its page as in the message after the click.
    run = NotifyRun.objects.get()
    assert run.summary["assigned"] == {"missing_training": 1}
    page = admin_client.get(reverse("admin:notifications_notifyrun_change", args=[run.pk])).content.decode()
    assert "assignments created" in page.lower() and "1 for missing required training" in page
