"""Admin for courses, programs, certifications, assignments and training requests.

Creating an assignment or an exception, completing, unassigning and refusing
go through programs.services so the notification rules hear about them.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from live_sessions.models import LiveSession
from live_sessions.services import approve_with_date_choice

from . import selectors, services
from .models import (
    Assignment,
    AssignmentException,
    Course,
    CourseSet,
    CourseSetCompletion,
    ELearningEnrollment,
    Program,
    TrainingRequest,
)


def _run_each(modeladmin, request, objects, call, done_message):
    """Apply one service to each selected object; report successes and each refusal clearly."""
    done = 0
    for obj in objects:
        try:
            call(obj)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{obj}: {' '.join(exc.messages)}", messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)


class ServiceCheckedForm(forms.ModelForm):
    """Runs the service's own precondition check on add, so a refusal is a form error, not a 500."""

    def service_check(self, data):
        pass

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                self.service_check(data)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return data


class AssignmentForm(ServiceCheckedForm):
    def service_check(self, data):
        services.check_can_assign(data["learner"], data["program"])


class TrainingRequestForm(ServiceCheckedForm):
    def service_check(self, data):
        services.check_can_request_training(data["learner"], data["course"])


class ApproveForm(forms.Form):
    sessions = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Next step: dates the learner chooses from"),
        help_text=_("Leave empty to approve without offering a date now."),
    )

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = sessions
        self.fields["sessions"].label_from_instance = self.option_label

    @staticmethod
    def option_label(session):
        from live_sessions.selectors import free_places

        label = f"{session.title} — {timezone.localtime(session.starts_at):%Y-%m-%d %H:%M} ({session.course})"
        free = free_places(session)
        # The approver sees which dates are full before offering them.
        if free == 0:
            waiting = _("waiting list") if session.waiting_list_enabled else _("no waiting list")
            return f"{label} — {_('full')} ({waiting})"
        if free is not None:
            return f"{label} — " + ngettext("%d place left", "%d places left", free) % free
        return label


class AssignmentExceptionForm(ServiceCheckedForm):
    def service_check(self, data):
        if data["assignment"].unassigned_at is not None:
            raise ValidationError("This learner was unassigned: there is nothing to report.")


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "kind"]
    list_filter = ["kind"]
    search_fields = ["title"]


class CourseSetInline(admin.StackedInline):
    model = CourseSet
    extra = 0
    fields = [("title", "position"), "courses", "due_at"]
    autocomplete_fields = ["courses"]
    ordering = ["position"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "validity_days",
        "recertification_window_days",
        "course_sets_count",
        "open_assignments_count",
    ]
    list_filter = ["kind"]
    search_fields = ["title"]
    fieldsets = [
        (None, {"fields": ["title", "kind"]}),
        (_("Certification"), {"fields": ["validity_days", "recertification_window_days"]}),
    ]
    inlines = [CourseSetInline]

    def get_queryset(self, request):
        return selectors.programs_with_counts(super().get_queryset(request))

    @admin.display(description=_("course sets"), ordering="course_sets_count")
    def course_sets_count(self, obj):
        return obj.course_sets_count

    @admin.display(description=_("open assignments"), ordering="open_assignments_count")
    def open_assignments_count(self, obj):
        return obj.open_assignments_count

    def save_model(self, request, obj, form, change):
        if obj.kind != Program.Kind.CERTIFICATION:
            obj.validity_days = obj.recertification_window_days = None
        super().save_model(request, obj, form, change)


@admin.register(CourseSet)
class CourseSetAdmin(admin.ModelAdmin):
    list_display = ["title", "program", "position", "due_at"]
    list_filter = ["program__kind", "program"]
    search_fields = ["title", "program__title"]
    autocomplete_fields = ["program", "courses"]
    list_select_related = ["program"]
    date_hierarchy = "due_at"

    def save_model(self, request, obj, form, change):
        new_due_at = obj.due_at
        if change and "due_at" in form.changed_data:
            obj.due_at = form.initial.get("due_at")
            super().save_model(request, obj, form, change)
            services.change_course_set_due_date(obj, due_at=new_due_at, actor=request.user)
            return
        super().save_model(request, obj, form, change)


class AssignmentStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return selectors.AssignmentState.choices

    def queryset(self, request, queryset):
        if self.value() in dict(selectors.AssignmentState.choices):
            return queryset.filter(selectors.state_q(self.value()))
        return queryset


class CourseSetCompletionInline(admin.TabularInline):
    model = CourseSetCompletion
    extra = 0
    fields = ["course_set", "completed_at"]
    autocomplete_fields = ["course_set"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("course_set__program", "assignment")


class AssignmentExceptionInline(admin.TabularInline):
    model = AssignmentException
    extra = 0
    fields = ["kind", "reported_at", "resolved_at"]
    readonly_fields = ["reported_at"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    form = AssignmentForm
    list_display = [
        "learner",
        "program",
        "state",
        "group",
        "assigned_at",
        "due_at",
        "completed_at",
        "expires_at",
        "unassigned_at",
    ]
    list_filter = [AssignmentStateFilter, "program__kind", "program", "group"]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "program__title"]
    autocomplete_fields = ["learner", "program", "group"]
    list_select_related = ["learner", "program", "group"]
    date_hierarchy = "assigned_at"
    readonly_fields = ["completed_at", "expires_at", "unassigned_at"]
    inlines = [CourseSetCompletionInline, AssignmentExceptionInline]
    actions = ["complete_selected", "unassign_selected"]

    def get_queryset(self, request):
        return selectors.with_state(super().get_queryset(request))

    @admin.display(description=_("state"), ordering="state")
    def state(self, obj):
        return dict(selectors.AssignmentState.choices).get(obj.state, obj.state)

    def save_model(self, request, obj, form, change):
        if change:
            new_due_at = obj.due_at
            if "due_at" in form.changed_data:
                # Through the service: reminders still waiting for the old date are cancelled (seed 001).
                obj.due_at = form.initial.get("due_at")
                super().save_model(request, obj, form, change)
                services.change_due_date(obj, due_at=new_due_at, actor=request.user)
                return None
            return super().save_model(request, obj, form, change)
        # A new assignment goes through the service so program.assigned rules fire.
        assignment = services.assign(obj.learner, obj.program, due_at=obj.due_at, group=obj.group, actor=request.user)
        obj.pk, obj.assigned_at = assignment.pk, assignment.assigned_at

    @admin.action(description=_("Mark selected assignments completed"), permissions=["change"])
    def complete_selected(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda a: services.complete(a, actor=request.user),
            lambda n: ngettext("%d assignment completed.", "%d assignments completed.", n) % n,
        )

    @admin.action(description=_("Unassign selected learners from their program"), permissions=["change"])
    def unassign_selected(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda a: services.unassign(a, actor=request.user),
            lambda n: ngettext("%d assignment unassigned.", "%d assignments unassigned.", n) % n,
        )


@admin.register(CourseSetCompletion)
class CourseSetCompletionAdmin(admin.ModelAdmin):
    list_display = ["assignment", "course_set", "completed_at"]
    list_filter = ["course_set__program"]
    search_fields = ["assignment__learner__email", "assignment__learner__last_name", "course_set__title"]
    autocomplete_fields = ["assignment", "course_set"]
    list_select_related = ["assignment__learner", "assignment__program", "course_set__program"]
    date_hierarchy = "completed_at"


@admin.register(AssignmentException)
class AssignmentExceptionAdmin(admin.ModelAdmin):
    form = AssignmentExceptionForm
    list_display = ["assignment", "kind", "reported_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), "assignment__program"]
    search_fields = ["assignment__learner__email", "assignment__learner__last_name", "assignment__program__title"]
    autocomplete_fields = ["assignment"]
    list_select_related = ["assignment__learner", "assignment__program"]
    readonly_fields = ["reported_at", "resolved_at"]
    date_hierarchy = "reported_at"
    actions = ["resolve_selected"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # Reported through the service so the program.exception rules tell the site administrators.
        exception = services.report_exception(obj.assignment, kind=obj.kind, actor=request.user)
        obj.pk, obj.reported_at = exception.pk, exception.reported_at

    @admin.action(description=_("Mark selected exceptions resolved"), permissions=["change"])
    def resolve_selected(self, request, queryset):
        _run_each(
            self,
            request,
            queryset,
            lambda e: services.resolve_exception(e, actor=request.user),
            lambda n: ngettext("%d exception resolved.", "%d exceptions resolved.", n) % n,
        )


@admin.register(TrainingRequest)
class TrainingRequestAdmin(admin.ModelAdmin):
    form = TrainingRequestForm
    list_display = ["learner", "course", "status", "requested_by", "created_at", "decided_at", "decided_by"]
    list_filter = ["status", "course"]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "course__title"]
    autocomplete_fields = ["learner", "course", "requested_by"]
    list_select_related = ["learner", "course", "requested_by", "decided_by"]
    readonly_fields = ["status", "created_at", "decided_at", "decided_by"]
    date_hierarchy = "created_at"
    actions = [
        "approve",
        "refuse_notify_learner",
        "refuse_notify_learner_and_manager",
        "refuse_notify_manager",
        "refuse_silently",
    ]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # Submitted through the service so the learner gets the confirmation (seed 002 §II-A).
        created = services.request_training(obj.learner, obj.course, requested_by=obj.requested_by or request.user)
        obj.pk, obj.created_at = created.pk, created.created_at

    def _refuse(self, request, queryset, *, notify_learner, notify_manager):
        _run_each(
            self,
            request,
            queryset.select_related("learner"),
            lambda r: services.refuse_training_request(
                r, actor=request.user, notify_learner=notify_learner, notify_manager=notify_manager
            ),
            lambda n: ngettext("%d request refused.", "%d requests refused.", n) % n,
        )

    @admin.action(description=_("Approve selected requests"), permissions=["change"])
    def approve(self, request, queryset):
        """Seed 002 §II: approving offers the next step — dates of the course's sessions for the learner to
        choose from (one date or several), or none."""
        from live_sessions.selectors import with_free_places

        queryset = queryset.select_related("learner", "course")
        submitted = [r for r in queryset if r.status == TrainingRequest.Status.SUBMITTED]
        sessions = (
            with_free_places(LiveSession.objects.select_related("course"))
            .filter(
                course__in={r.course_id for r in submitted},
                status=LiveSession.Status.READY,
                starts_at__gt=timezone.now(),
            )
            .order_by("starts_at")
        )
        form = ApproveForm(request.POST if "confirm" in request.POST else None, sessions=sessions)
        if "confirm" not in request.POST or not form.is_valid():
            return TemplateResponse(
                request,
                "admin/programs/trainingrequest/approve.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Approve training requests"),
                    "opts": self.model._meta,
                    "requests": list(queryset),
                    "form": form,
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                },
            )
        chosen = list(form.cleaned_data["sessions"])
        _run_each(
            self,
            request,
            queryset,
            lambda r: approve_with_date_choice(
                r, [s for s in chosen if s.course_id == r.course_id], actor=request.user
            ),
            lambda n: (
                (
                    ngettext(
                        "%d request approved; the learner is asked to choose a date.",
                        "%d requests approved; the learners are asked to choose a date.",
                        n,
                    )
                    if chosen
                    else ngettext("%d request approved.", "%d requests approved.", n)
                )
                % n
            ),
        )
        return None

    @admin.action(description=_("Refuse and notify the learner"), permissions=["change"])
    def refuse_notify_learner(self, request, queryset):
        self._refuse(request, queryset, notify_learner=True, notify_manager=False)

    @admin.action(description=_("Refuse and notify the learner and their manager"), permissions=["change"])
    def refuse_notify_learner_and_manager(self, request, queryset):
        self._refuse(request, queryset, notify_learner=True, notify_manager=True)

    @admin.action(description=_("Refuse and notify the manager only"), permissions=["change"])
    def refuse_notify_manager(self, request, queryset):
        self._refuse(request, queryset, notify_learner=False, notify_manager=True)

    @admin.action(description=_("Refuse without notifying anyone"), permissions=["change"])
    def refuse_silently(self, request, queryset):
        self._refuse(request, queryset, notify_learner=False, notify_manager=False)


@admin.register(ELearningEnrollment)
class ELearningEnrollmentAdmin(admin.ModelAdmin):
    list_display = ["learner", "course", "starts_on", "ends_on", "completed_at"]
    list_filter = ["course", ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "course__title"]
    autocomplete_fields = ["learner", "course"]
    list_select_related = ["learner", "course"]
    date_hierarchy = "ends_on"
