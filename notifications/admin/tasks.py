"""django-q2's task admin, with its one action behind a permission.

django-q2 registers "Resubmit selected tasks to queue" for successful and
failed tasks without any permission: a staff user who may only look at the
task lists could run a Notify task again. Every admin action of the site
declares the permission it needs, this one included.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_q import admin as q_admin
from django_q.models import Failure, Success


@admin.action(description=_("Resubmit selected tasks to queue"), permissions=["change"])
def resubmit_task(modeladmin, request, queryset):
    return q_admin.resubmit_task(modeladmin, request, queryset)


class SuccessAdmin(q_admin.TaskAdmin):
    actions = [resubmit_task]


class FailureAdmin(q_admin.FailAdmin):
    actions = [resubmit_task]


for model, model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
