"""The admin is usable on realistic data and stays cheap with many learners (foundation issue)."""

from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learners.models import GroupMembership, Learner, LearnerGroup
from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification, NotificationRule
from programs.models import Assignment, Course, Program, TrainingRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # seed_demo sets real passwords; the production hasher would make these tests slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=[m._meta.label for m, _a in REGISTERED])
def test_every_admin_page_opens_with_demo_data(staff_client, superuser, demo, model, model_admin, rf):
    """Every registered model: its list, its add form and the change form of one row answer 200."""
    assert staff_client.get(url(model, "changelist")).status_code == 200
    request = rf.get("/")
    request.user = superuser
    if model_admin.has_add_permission(request):
        assert staff_client.get(url(model, "add")).status_code == 200
    obj = model_admin.get_queryset(request).first()
    if obj is not None:
        assert staff_client.get(url(model, "change", obj.pk)).status_code == 200


def test_the_learner_page_shows_guardians_groups_assignments_and_invitations(staff_client, demo):
    learner = Learner.objects.filter(guardians__isnull=False, assignments__isnull=False).first()
    response = staff_client.get(url(Learner, "change", learner.pk))
    assert response.status_code == 200
    content = response.content.decode()
    for heading in ["Guardians", "Group memberships", "Assignments", "Invitations"]:
        assert heading in content


def make_learners(n, *, start):
    group, _ = LearnerGroup.objects.get_or_create(name="Everyone")
    other, _ = LearnerGroup.objects.get_or_create(name="Others")
    boss, _ = Learner.objects.get_or_create(email="boss@example.com", defaults={"first_name": "B", "last_name": "B"})
    learners = Learner.objects.bulk_create(
        Learner(
            email=f"l{start + i}@example.com",
            first_name="L",
            last_name=str(start + i),
            manager=boss,
            consent_given_at=timezone.now() if i % 2 else None,
        )
        for i in range(n)
    )
    GroupMembership.objects.bulk_create(
        [GroupMembership(learner=x, group=group) for x in learners]
        + [GroupMembership(learner=x, group=other) for x in learners[::2]]
    )


def test_the_learner_list_costs_the_same_number_of_queries_for_5_or_50_learners(
    staff_client, django_assert_max_num_queries
):
    """Learner columns (manager, consent, groups count) are joined or annotated, never queried per row."""
    make_learners(5, start=0)
    with CaptureQueriesContext(connection) as small:
        response = staff_client.get(url(Learner, "changelist"))
    assert response.status_code == 200
    make_learners(45, start=5)
    with django_assert_max_num_queries(len(small)):
        response = staff_client.get(url(Learner, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 51
    row = next(x for x in response.context["cl"].result_list if x.email == "l0@example.com")
    assert row.groups_count == 2


def test_the_session_list_shows_the_fill_rate_in_constant_queries(staff_client, django_assert_max_num_queries):
    """seed 003: fill rate = (registered + go show + attended) / capacity."""
    now = timezone.now()
    learners = Learner.objects.bulk_create(
        Learner(email=f"s{i}@example.com", first_name="S", last_name=str(i)) for i in range(8)
    )
    statuses = ["registered", "go_show", "attended", "cancelled", "waiting_list", "absent", "invited", "registered"]

    def make_session(title):
        session = LiveSession.objects.create(title=title, starts_at=now, ends_at=now, capacity=8)
        SessionLearner.objects.bulk_create(
            SessionLearner(session=session, learner=x, status=s) for x, s in zip(learners, statuses, strict=True)
        )

    make_session("One")
    with CaptureQueriesContext(connection) as small:
        staff_client.get(url(LiveSession, "changelist"))
    for i in range(10):
        make_session(f"More {i}")
    with django_assert_max_num_queries(len(small)):
        response = staff_client.get(url(LiveSession, "changelist"))
    assert "4/8 (50%)" in response.content.decode()


def test_adding_an_assignment_in_the_admin_goes_through_assign_and_its_rules(staff_client):
    """seed 001: "Learner assigned in program" fires whoever assigns, the admin included."""
    learner = Learner.objects.create(
        email="a@example.com", first_name="A", last_name="A", consent_given_at=timezone.now()
    )
    program = Program.objects.create(title="Safety")
    NotificationRule.objects.create(event="program.assigned", channels=["email"], requires_confirmation=False)
    response = staff_client.post(
        url(Assignment, "add"),
        {
            "learner": learner.pk,
            "program": program.pk,
            "assigned_at_0": "2026-01-01",
            "assigned_at_1": "09:00",
            "course_set_completions-TOTAL_FORMS": 0,
            "course_set_completions-INITIAL_FORMS": 0,
            "exceptions-TOTAL_FORMS": 0,
            "exceptions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Assignment.objects.filter(learner=learner, program=program).count() == 1
    assert Notification.objects.filter(event="program.assigned", recipient_learner=learner).count() == 1


def test_an_inactive_learner_gets_a_form_error_not_a_crash(staff_client):
    learner = Learner.objects.create(email="x@example.com", first_name="X", last_name="X", is_active=False)
    program = Program.objects.create(title="Safety")
    response = staff_client.post(
        url(Assignment, "add"),
        {
            "learner": learner.pk,
            "program": program.pk,
            "assigned_at_0": "2026-01-01",
            "assigned_at_1": "09:00",
            "course_set_completions-TOTAL_FORMS": 0,
            "course_set_completions-INITIAL_FORMS": 0,
            "exceptions-TOTAL_FORMS": 0,
            "exceptions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "inactive" in response.content.decode()
    assert not Assignment.objects.exists()


def test_refusing_from_the_admin_reports_each_refusal_clearly(staff_client):
    """seed 002 §II-B: refuse and notify the learner; an already refused request is reported, not changed."""
    learner = Learner.objects.create(
        email="r@example.com", first_name="R", last_name="R", consent_given_at=timezone.now()
    )
    course = Course.objects.create(title="Excel")
    fresh = TrainingRequest.objects.create(learner=learner, course=course)
    done = TrainingRequest.objects.create(learner=learner, course=course, status="refused")
    response = staff_client.post(
        url(TrainingRequest, "changelist"),
        {"action": "refuse_notify_learner", "_selected_action": [fresh.pk, done.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("1 request refused" in m for m in messages)
    assert any("already refused" in m for m in messages)
    assert Notification.objects.filter(event="training_request.refused").count() == 1


def test_a_huge_group_page_shows_only_the_latest_members_and_still_saves(staff_client):
    """With 100,000 learners a group page must not render every membership; editing still works."""
    from learners.admin import MEMBERS_SHOWN

    group = LearnerGroup.objects.create(name="Everyone")
    learners = Learner.objects.bulk_create(
        Learner(email=f"m{i}@example.com", first_name="M", last_name=str(i)) for i in range(MEMBERS_SHOWN + 20)
    )
    start = timezone.now() - timezone.timedelta(days=365)
    GroupMembership.objects.bulk_create(
        GroupMembership(learner=x, group=group, joined_at=start + timezone.timedelta(days=i))
        for i, x in enumerate(learners)
    )
    response = staff_client.get(url(LearnerGroup, "change", group.pk))
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.model is GroupMembership)
    shown = [form.instance.learner for form in formset.formset.initial_forms]
    assert len(shown) == MEMBERS_SHOWN and learners[-1] in shown and learners[0] not in shown

    # A row posted back is found even when it no longer ranks among the latest (someone joined meanwhile).
    oldest = GroupMembership.objects.get(learner=learners[0])
    data = {"name": "Everyone", "description": "", "memberships-TOTAL_FORMS": 1, "memberships-INITIAL_FORMS": 1}
    data.update({"memberships-0-id": oldest.pk, "memberships-0-group": group.pk, "memberships-0-DELETE": "on"})
    data.update({"memberships-0-learner": learners[0].pk, "memberships-0-joined_at_0": "2026-01-01"})
    data["memberships-0-joined_at_1"] = "09:00"
    response = staff_client.post(url(LearnerGroup, "change", group.pk), data)
    assert response.status_code == 302
    assert GroupMembership.objects.filter(group=group).count() == MEMBERS_SHOWN + 19
    assert not GroupMembership.objects.filter(pk=oldest.pk).exists()


def test_admin_index_leads_to_the_notify_page_and_messages_awaiting_confirmation(admin_client):
    """Seed 000 / seed 004: the Notifications page and the confirmation queue are one click from home."""
    from django.urls import reverse

    page = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:notifications_notify") in page
    assert "status__exact=awaiting_confirmation" in page
    queue = admin_client.get(
        reverse("admin:notifications_notification_changelist") + "?status__exact=awaiting_confirmation"
    )
    assert queue.status_code == 200  # an unknown filter would redirect with ?e=1


def test_an_invitation_added_in_the_admin_is_sent_through_invite(staff_client, superuser):
    """Seed 002 §I (issue 8): the admin's add form calls learners.services.invite, which emails it."""
    from learners.models import Invitation

    NotificationRule.objects.all().delete()
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())

    response = staff_client.post(
        url(Invitation, "add"), {"learner": learner.pk, "source": "manual", "send_email": "on"}
    )

    assert response.status_code == 302
    invitation = Invitation.objects.get(learner=learner)
    assert invitation.created_by == superuser and invitation.sent_at is not None
    assert Notification.objects.filter(event="invitation.sent", recipient_learner=learner).count() == 1


def test_an_existing_invitation_cannot_be_answered_in_the_admin(staff_client):
    """Seed 002 §I: the learner answers through their link; the admin only shows the answer."""
    from learners.models import Invitation

    learner = Learner.objects.create(email="ada@example.com", first_name="Ada")
    invitation = Invitation.objects.create(learner=learner)

    staff_client.post(url(Invitation, "change", invitation.pk), {"status": "accepted", "source": "manual"})

    invitation.refresh_from_db()
    assert invitation.status == "pending"
