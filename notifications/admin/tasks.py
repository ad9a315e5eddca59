"""django-q2's task admin, with its one action behind a permission, and its schedules read-only.

django-q2 registers "Resubmit selected tasks to queue" for successful and
failed tasks without any permission: a staff user who may only look at the
task lists could run a Notify task again. Every admin action of the site
declares the permission it needs, this one included.

The project creates its schedules itself (notifications.schedules, CONTRACT.md: never by hand): in the admin
they are a list to look at, with no add, change or delete for anyone, superusers included.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_q import admin as q_admin
from django_q.models import Failure, Schedule, Success


@admin.action(description=_("Resubmit selected tasks to queue"), permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    return q_admin.resubmit_task(modeladmin, request, queryset)


class SuccessAdmin(q_admin.TaskAdmin):
    actions = [resubmit_task]


class FailureAdmin(q_admin.FailAdmin):
    actions = [resubmit_task]


class ScheduleAdmin(q_admin.ScheduleAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model, model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin), (Schedule, ScheduleAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
