"""Issue 16 (Low), attacked through the admin's forms: `auth.change_user` does not let a staff user raise
anyone's rights. Only a superuser changes "superuser", groups and permissions, or another staff member's
password."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user_manager(django_user_model):
    """A staff member who may view and change staff accounts and permission groups, and nothing else."""
    user = django_user_model.objects.create_user("mallory", "mallory@example.com", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="auth", codename__in=["view_user", "change_user", "view_group", "change_group"]
        )
    )
    return django_user_model.objects.get(pk=user.pk)


def change_form_data(user, **overrides):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "08:00:00",
    }
    data.update(overrides)
    return data


def test_a_staff_user_who_may_change_users_cannot_make_itself_superuser(client, user_manager):
    everything = Group.objects.create(name="Everything")
    everything.permissions.set(Permission.objects.all())
    client.force_login(user_manager)
    url = reverse("admin:auth_user_change", args=[user_manager.pk])
    response = client.post(
        url,
        change_form_data(
            user_manager,
            first_name="Mallory",
            is_superuser="on",
            groups=[everything.pk],
            user_permissions=list(Permission.objects.values_list("pk", flat=True)),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user_manager.refresh_from_db()
    assert user_manager.first_name == "Mallory"  # the rest of the form is saved
    assert not user_manager.is_superuser
    assert not user_manager.groups.exists() and user_manager.user_permissions.count() == 4


def test_a_staff_user_cannot_give_a_permission_group_more_rights(client, user_manager):
    notifier = Group.objects.get(name="Notifier")
    before = set(notifier.permissions.values_list("pk", flat=True))
    client.force_login(user_manager)
    client.post(
        reverse("admin:auth_group_change", args=[notifier.pk]),
        {"name": "Notifier", "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )
    assert set(notifier.permissions.values_list("pk", flat=True)) == before


def test_a_staff_user_cannot_set_another_staff_members_password_nor_touch_a_superuser(
    client, user_manager, django_user_model
):
    colleague = django_user_model.objects.create_user("colleague", password="colleague-pw", is_staff=True)
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "boss-pw")
    client.force_login(user_manager)
    for target in (colleague, boss):
        url = reverse("admin:auth_user_password_change", args=[target.pk])
        assert client.get(url).status_code == 403
        response = client.post(url, {"password1": "Taken-over-42!", "password2": "Taken-over-42!"})
        assert response.status_code == 403
    colleague.refresh_from_db()
    boss.refresh_from_db()
    assert colleague.check_password("colleague-pw") and boss.check_password("boss-pw")

    response = client.post(
        reverse("admin:auth_user_change", args=[boss.pk]), change_form_data(boss, is_active="", email="m@evil.test")
    )
    boss.refresh_from_db()
    assert response.status_code == 403 and boss.is_active and boss.email == "boss@example.com"


def test_a_superuser_still_grants_rights_and_sets_passwords(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "boss-pw")
    colleague = django_user_model.objects.create_user("colleague", password="colleague-pw", is_staff=True)
    notifier = Group.objects.get(name="Notifier")
    client.force_login(boss)
    response = client.post(
        reverse("admin:auth_user_change", args=[colleague.pk]), change_form_data(colleague, groups=[notifier.pk])
    )
    assert response.status_code == 302
    assert list(colleague.groups.all()) == [notifier]
    url = reverse("admin:auth_user_password_change", args=[colleague.pk])
    client.post(url, {"password1": "New-pass-word-42!", "password2": "New-pass-word-42!", "usable_password": "true"})
    colleague.refresh_from_db()
    assert colleague.check_password("New-pass-word-42!")
