"""Issue 7, attacked from the admin: every action and every custom page checks the permission it needs.

A staff user who may only look (view permissions) changes nothing, whatever they POST; the Notifier
group (created by migration) may press the Notify buttons and confirm messages, and nothing more.
"""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django_q.models import Task

from learners.models import GroupMembership, Learner, LearnerGroup
from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification, NotificationRule, NotifyRun, UndeliverableAddress
from programs.models import Assignment, AssignmentException, Course, Program, TrainingRequest

pytestmark = pytest.mark.django_db

APPS = ("learners", "programs", "live_sessions", "notifications", "django_q")


def custom_actions():
    found = []
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        for func, name, _description in model_admin._get_base_actions():
            if name != "delete_selected":
                found.append((model, name, func))
    return found


CUSTOM_ACTIONS = custom_actions()
ACTION_IDS = [f"{model._meta.label}.{name}" for model, name, _func in CUSTOM_ACTIONS]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff_with(django_user_model, username, codenames=(), groups=()):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    if codenames == "all view":
        user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    else:
        for codename in codenames:
            app_label, code = codename.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=code))
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def rows():
    """A row of every state the actions act on: messages, rules, assignments, requests, exceptions, tasks."""
    now = timezone.now()
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", last_name="L", consent_given_at=now)
    Learner.objects.create(email="bob@example.com", first_name="Bob", last_name="B", consent_given_at=now)
    program = Program.objects.create(title="Safety")
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(program)
    GroupMembership.objects.create(learner=learner, group=group)
    open_assignment = Assignment.objects.create(learner=learner, program=program)
    AssignmentException.objects.create(assignment=open_assignment)
    TrainingRequest.objects.create(learner=learner, course=Course.objects.create(title="First aid"))
    for i, status in enumerate(["awaiting_confirmation", "queued", "failed", "sent", "omitted"]):
        Notification.objects.create(
            event="program.due",
            channel="email",
            recipient_learner=learner,
            to=learner.email,
            subject=f"Row {i}",
            status=status,
            dedupe_key=f"perm-test:{i}",
        )
    NotificationRule.objects.create(event="program.due", channels=["email"], is_enabled=False)
    NotificationRule.objects.create(event="program.completed", channels=["email"], is_enabled=True)
    session = LiveSession.objects.create(title="Workshop", starts_at=now, ends_at=now + timedelta(hours=2))
    LiveSession.objects.create(title="Second date", starts_at=now, ends_at=now + timedelta(hours=2))
    SessionLearner.objects.create(session=session, learner=learner, status="registered")
    # Issue 19: an address marked undeliverable (the "Clear" action's rows).
    UndeliverableAddress.objects.create(address="bob@example.com", cause="bounce", status_code="5.1.1")
    for success in (True, False):
        Task.objects.create(
            id=f"task-{success}",
            name=f"notify-{success}",
            func="notifications.tasks.notify_learners_task",
            args=(1,),
            started=now,
            stopped=now,
            success=success,
        )


def snapshot():
    """Every row of the project's own tables: what an action could change, anywhere."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for label in APPS
        for model in apps.get_app_config(label).get_models()
    }


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_admin_action_declares_the_permission_it_needs():
    assert CUSTOM_ACTIONS, "the project has admin actions"
    undeclared = [
        f"{m._meta.label}.{n}" for m, n, func in CUSTOM_ACTIONS if not getattr(func, "allowed_permissions", ())
    ]
    assert undeclared == []


@pytest.mark.parametrize("model, name, func", CUSTOM_ACTIONS, ids=ACTION_IDS)
def test_a_view_only_staff_users_post_of_each_admin_action_changes_nothing(
    client, django_user_model, rows, model, name, func
):
    viewer = staff_with(django_user_model, "viewer", "all view")
    client.force_login(viewer)
    pks = list(model._default_manager.values_list("pk", flat=True))
    assert pks, f"{model._meta.label} has rows to act on"
    before = snapshot()

    response = client.post(changelist(model), {"action": name, "_selected_action": pks, "index": 0})

    assert response.status_code in (200, 302)
    assert snapshot() == before
    assert not (response.status_code == 302 and "/notify/preview/" in response["Location"])
    request = response.wsgi_request
    assert name not in admin.site._registry[model].get_actions(request)


def test_view_only_staff_cannot_confirm_retry_or_cancel_messages_nor_switch_rules(client, django_user_model, rows):
    """The holes of the issue, one by one: view permission on messages and rules is not enough."""
    client.force_login(staff_with(django_user_model, "viewer", "all view"))
    messages = list(Notification.objects.values_list("pk", flat=True))
    before = sorted(Notification.objects.values_list("pk", "status"))
    for action in ("confirm_and_send", "retry_now", "cancel"):
        client.post(changelist(Notification), {"action": action, "_selected_action": messages})
    assert sorted(Notification.objects.values_list("pk", "status")) == before
    rules = list(NotificationRule.objects.values_list("pk", flat=True))
    switched = sorted(NotificationRule.objects.values_list("pk", "is_enabled"))
    for action in ("enable_rules", "disable_rules"):
        client.post(changelist(NotificationRule), {"action": action, "_selected_action": rules})
    assert sorted(NotificationRule.objects.values_list("pk", "is_enabled")) == switched


def test_the_permission_each_action_declares_is_enough_to_run_it(client, django_user_model, rows):
    """Not a test that cannot fail: with the named permission the same POSTs do act."""
    client.force_login(
        staff_with(
            django_user_model, "operator", ["notifications.view_notification", "notifications.change_notification"]
        )
    )
    failed = Notification.objects.get(status="failed")
    client.post(changelist(Notification), {"action": "retry_now", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "queued"
    queued = Notification.objects.filter(status="queued", claimed_until__isnull=True).exclude(pk=failed.pk).first()
    client.post(changelist(Notification), {"action": "cancel", "_selected_action": [queued.pk]})
    queued.refresh_from_db()
    assert queued.status == "cancelled"


def test_the_notifier_group_has_exactly_the_permissions_of_the_notify_buttons_and_confirmation():
    group = Group.objects.get(name="Notifier")
    assert sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()) == [
        "learners.view_learner",
        "learners.view_learnergroup",
        "notifications.add_notifyrun",
        "notifications.confirm_notification",
        "notifications.view_notification",
        "notifications.view_notifyoutcome",
        "notifications.view_notifyrun",
    ]


def test_a_notifier_presses_the_notify_buttons_and_confirms_but_cannot_cancel_retry_or_switch_rules(
    client, django_user_model, rows, mailoutbox
):
    notifier = staff_with(django_user_model, "notifier", groups=["Notifier"])
    client.force_login(notifier)
    group = LearnerGroup.objects.first()

    assert "Notify all learners" in client.get(changelist(Learner)).content.decode()
    assert client.get(reverse("admin:notifications_notify")).status_code == 200
    response = client.post(changelist(LearnerGroup), {"action": "notify_group", "_selected_action": [group.pk]})
    assert response.status_code == 302 and "/notify/preview/" in response["Location"]
    response = client.post(reverse("admin:notifications_notify_preview"), {"scope": "group", "group": group.pk})
    assert response.status_code == 302 and NotifyRun.objects.filter(actor=notifier, group=group).exists()

    waiting = Notification.objects.get(status="awaiting_confirmation")
    client.post(changelist(Notification), {"action": "confirm_and_send", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert waiting.status in ("queued", "sent") and waiting.confirmed_by == notifier

    before = sorted(Notification.objects.values_list("pk", "status"))
    others = [pk for pk, _status in before]
    for action in ("cancel", "retry_now"):
        client.post(changelist(Notification), {"action": action, "_selected_action": others})
    assert sorted(Notification.objects.values_list("pk", "status")) == before
    rule = NotificationRule.objects.filter(is_enabled=False).first()
    client.post(changelist(NotificationRule), {"action": "enable_rules", "_selected_action": [rule.pk]})
    rule.refresh_from_db()
    assert not rule.is_enabled


def test_staff_without_the_notify_permission_see_no_notify_button_and_cannot_press_one(client, django_user_model, rows):
    client.force_login(staff_with(django_user_model, "viewer", "all view"))
    for model in (Learner, LearnerGroup):
        assert "Notify all learners" not in client.get(changelist(model)).content.decode()
    learner = Learner.objects.first()
    page = client.get(reverse("admin:learners_learner_change", args=[learner.pk])).content.decode()
    assert "Notify learner" not in page
    preview = reverse("admin:notifications_notify_preview")
    assert client.get(reverse("admin:notifications_notify")).status_code == 403
    assert client.get(preview, {"scope": "all_learners"}).status_code == 403
    assert client.post(preview, {"scope": "all_learners"}).status_code == 403
    assert not NotifyRun.objects.exists()


STANDARD_VIEWS = ("_changelist", "_add", "_history", "_delete", "_change", "_autocomplete")


def custom_views():
    found = []
    for _model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        for pattern in model_admin.get_urls():
            name = pattern.name or ""
            if name and not name.endswith(STANDARD_VIEWS):
                found.append((name, sorted(pattern.pattern.converters)))
    return found


CUSTOM_VIEWS = custom_views()


@pytest.mark.parametrize("name, arguments", CUSTOM_VIEWS, ids=[name for name, _args in CUSTOM_VIEWS])
def test_every_custom_admin_view_refuses_a_staff_user_without_its_permission(
    client, django_user_model, name, arguments
):
    """Notify preview and confirm, the Notifications page, run progress and its JSON, template previews."""
    run = NotifyRun.objects.create(scope="all_learners", total=1)
    client.force_login(staff_with(django_user_model, "nobody"))
    url = reverse(f"admin:{name}", kwargs={arg: run.pk for arg in arguments})
    assert client.get(url).status_code == 403
    assert client.post(url, {"scope": "all_learners"}).status_code == 403
    assert NotifyRun.objects.count() == 1


def test_custom_views_answer_those_with_the_permission(client, django_user_model):
    run = NotifyRun.objects.create(scope="all_learners", total=1)
    client.force_login(staff_with(django_user_model, "watcher", ["notifications.view_notifyrun"]))
    assert client.get(reverse("admin:notifications_notifyrun_progress", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:notifications_notifyrun_progress_json", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:notifications_notify")).status_code == 403
    client.force_login(staff_with(django_user_model, "presser", ["notifications.add_notifyrun"]))
    assert client.get(reverse("admin:notifications_notifyrun_progress", args=[run.pk])).status_code == 200
