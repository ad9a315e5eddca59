"""Staff accounts in the admin: whoever may change users cannot raise anyone's rights.

Django's own UserAdmin lets any holder of `auth.change_user` tick "superuser", add themselves to any group
or give themselves any permission, and set another staff member's password. Only a superuser does those:
for everyone else those fields are read-only (a forged POST of them is ignored), a superuser's account is
read-only, and another staff member's password page is refused.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

RIGHTS = ("is_superuser", "groups", "user_permissions")


class StaffUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [name for name in RIGHTS if name not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, admin.utils.unquote(id))
        if (
            user is not None
            and not request.user.is_superuser
            and user.pk != request.user.pk
            and (user.is_staff or user.is_superuser)
        ):
            # Setting another staff member's password is signing in as them.
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class StaffGroupAdmin(GroupAdmin):
    """A group's permissions are its members' rights: only a superuser changes them."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser and "permissions" not in fields:
            fields.append("permissions")
        return fields


def register(site):
    for model, model_admin in ((get_user_model(), StaffUserAdmin), (Group, StaffGroupAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
