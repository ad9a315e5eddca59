"""The status history (read-only audit trail) and the date-choice requests (seed 002 §III-B)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lms_notify.admin_base import ReadOnlyAdmin

from .. import services
from ..models import ParticipationRequest, StatusChange
from .common import trigger_words
from .forms import ParticipationRequestForm


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "from_status", "to_status", "cause", "actor"]
    verbose_name_plural = _("status history")

    @admin.display(description=_("trigger"))
    def cause(self, obj):
        return trigger_words(obj.trigger)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    """The audit trail: read-only."""

    list_display = ["at", "session_learner", "from_status", "to_status", "cause", "actor"]
    list_filter = ["to_status", "from_status", "trigger"]

    @admin.display(description=_("trigger"), ordering="trigger")
    def cause(self, obj):
        return trigger_words(obj.trigger)

    search_fields = ["session_learner__learner__email", "session_learner__session__title", "trigger"]
    list_select_related = ["session_learner__learner", "session_learner__session", "actor"]
    date_hierarchy = "at"


@admin.register(ParticipationRequest)
class ParticipationRequestAdmin(admin.ModelAdmin):
    list_display = ["learner", "status", "chosen_session", "created_at", "responded_at"]
    list_filter = ["status"]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name"]
    autocomplete_fields = ["learner", "sessions", "chosen_session"]
    raw_id_fields = ["training_request"]
    list_select_related = ["learner", "chosen_session"]
    readonly_fields = ["created_at", "responded_at", "created_by"]
    date_hierarchy = "created_at"
    form = ParticipationRequestForm

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # Seed 002 §III-B: a new date choice goes through the service, which emails the learner.
        created = services.request_participation(
            obj.learner, form.cleaned_data["sessions"], actor=request.user, training_request=obj.training_request
        )
        obj.pk, obj.created_at, obj.created_by = created.pk, created.created_at, created.created_by
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
