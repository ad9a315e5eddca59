"""Admin for live sessions, their learners and the status history (seed 003).

Every status change made here goes through live_sessions.services, which
records the StatusChange history.
"""

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from lms_notify.admin_base import ReadOnlyAdmin

from . import services
from .models import LiveSession, ParticipationRequest, SessionLearner, StatusChange

FILLING_STATUSES = [
    SessionLearner.Status.REGISTERED,
    SessionLearner.Status.GO_SHOW,
    SessionLearner.Status.ATTENDED,
]


def _record_status(session_learners, status, *, actor):
    """Set a status by hand (seed 003 "Update Learner Status"); the service keeps the history."""
    services.set_status(session_learners, status, actor=actor)


def _add(session, learner, status, *, actor):
    """Add through the service (the session's automation applies), then apply the status chosen by hand."""
    (session_learner,) = services.add_learners(session, [learner], actor=actor)
    if status and session_learner.status != status:
        services.set_status([session_learner], status, actor=actor)
    return session_learner


class SessionLearnerInline(admin.TabularInline):
    model = SessionLearner
    extra = 0
    fields = ["learner", "status", "status_changed_at"]
    readonly_fields = ["status_changed_at"]
    autocomplete_fields = ["learner"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("learner", "session")


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "status", "capacity", "fill_rate", "location"]
    list_filter = ["status", "course", "requires_approval", "waiting_list_enabled", "calendar_integration"]
    search_fields = ["title", "location", "course__title"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["course", "approver", "trainers"]
    list_select_related = ["course"]
    readonly_fields = ["calendar_sequence", "created_at"]
    fieldsets = [
        (None, {"fields": ["title", "course", "status"]}),
        (_("When and where"), {"fields": [("starts_at", "ends_at"), "timezone", "location"]}),
        (
            _("Registration"),
            {"fields": ["capacity", "waiting_list_enabled", "requires_approval", "approver", "calendar_integration"]},
        ),
        (_("People and forms"), {"fields": ["trainers", "registration_form_url", "feedback_form_url"]}),
        (_("Audit"), {"fields": ["calendar_sequence", "created_at"]}),
    ]
    inlines = [SessionLearnerInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(filled_count=Count("session_learners", filter=Q(session_learners__status__in=FILLING_STATUSES)))
        )

    @admin.display(description=_("fill rate"), ordering="filled_count")
    def fill_rate(self, obj):
        """Registered + go show + attended over capacity (seed 003 "Fill Rate")."""
        if not obj.capacity:
            return f"{obj.filled_count} / —"
        return f"{obj.filled_count}/{obj.capacity} ({obj.filled_count / obj.capacity:.0%})"

    def save_formset(self, request, form, formset, change):
        if formset.model is not SessionLearner:
            return super().save_formset(request, form, formset, change)
        changed_status = [
            (f.instance, f.initial.get("status"), f.cleaned_data["status"])
            for f in formset.initial_forms
            if f.has_changed() and "status" in f.changed_data and not formset._should_delete_form(f)
        ]
        # Restore the old status so the transition (and its history) is made by the status service.
        for sl, old, _new in changed_status:
            sl.status = old
        new_rows = [
            (f.cleaned_data["learner"], f.cleaned_data.get("status"))
            for f in formset.extra_forms
            if f.has_changed() and not formset._should_delete_form(f) and f.cleaned_data.get("learner")
        ]
        for f in formset.extra_forms:
            # New learners are added by the service below, not saved by the formset.
            f.instance.pk = None
            f.has_changed = lambda: False
        formset.save()
        for learner, status in new_rows:
            _add(form.instance, learner, status, actor=request.user)
        for sl, _old, new in changed_status:
            _record_status([sl], new, actor=request.user)


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "from_status", "to_status", "trigger", "actor"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(SessionLearner)
class SessionLearnerAdmin(admin.ModelAdmin):
    list_display = ["learner", "session", "status", "status_changed_at"]
    list_filter = ["status", "session__status"]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "session__title"]
    autocomplete_fields = ["session", "learner"]
    list_select_related = ["learner", "session"]
    readonly_fields = ["created_at", "status_changed_at"]
    date_hierarchy = "status_changed_at"
    inlines = [StatusChangeInline]

    def save_model(self, request, obj, form, change):
        if not change:
            added = _add(obj.session, obj.learner, obj.status, actor=request.user)
            obj.pk, obj.status = added.pk, added.status
            return
        if "status" in form.changed_data:
            new = obj.status
            obj.status = form.initial["status"]
            super().save_model(request, obj, form, change)
            _record_status([obj], new, actor=request.user)
        else:
            super().save_model(request, obj, form, change)


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    """The audit trail: read-only."""

    list_display = ["at", "session_learner", "from_status", "to_status", "trigger", "actor"]
    list_filter = ["to_status", "from_status", "trigger"]
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


# Seed 002 actions (convocation "Notify", survey answers, new dates with confirmation).
from . import admin_journey  # noqa: E402

admin_journey.install(LiveSessionAdmin, SessionLearnerAdmin)
