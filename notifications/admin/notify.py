"""Admin of the Notify buttons (seed 000).

Every button leads to the same preview page (GET: what a click would do,
computed by the same decision code, nothing written) and only a POST from
that page sends. Scopes larger than settings.NOTIFY_SYNC_LIMIT run as a
django-q2 task and the administrator watches a progress page instead of a
request that could time out.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from learners.models import Learner, LearnerGroup
from lms_notify.admin_base import ReadOnlyAdmin
from lms_notify.parsing import parse_id

from .. import selectors
from ..models import NotifyOutcome, NotifyRun
from ..notify import selectors as notify_selectors
from ..notify.engine import notify_learners, preview_ids, start_run
from ..notify.pages import notify_url
from ..notify.summary import ACTION_WORDS, ASSIGNMENT_WORDS, REASON_WORDS, counts_text, describe_run
from ..reasons import reason_in_words
from ..tasks import start_notify_task

Scope = NotifyRun.Scope


class OutcomeActionFilter(admin.SimpleListFilter):
    title = _("queued or omitted")
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("yes", _("Queued")), ("no", _("Omitted"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(action=NotifyOutcome.Action.OMITTED)
        if self.value() == "no":
            return queryset.filter(action=NotifyOutcome.Action.OMITTED)
        return queryset


@admin.register(NotifyOutcome)
class NotifyOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "learner_link", "action", "reason_words", "message_link", "run_link")
    list_filter = ("action", "reason", OutcomeActionFilter, "run__scope", "created_at")
    search_fields = ("learner__email", "learner__first_name", "learner__last_name")
    list_select_related = ("learner", "run")
    raw_id_fields = ("run", "learner", "notification")
    date_hierarchy = "created_at"

    @admin.display(description=_("learner"), ordering="learner")
    def learner_link(self, obj):
        # From an outcome straight to everything else that happened to this learner.
        return format_html('<a href="{}">{}</a>', _timeline_url(obj.learner_id), obj.learner.full_name)

    @admin.display(description=_("reason"), ordering="reason")
    def reason_words(self, obj):
        return reason_in_words(obj.reason)

    @admin.display(description=_("message"))
    def message_link(self, obj):
        if not obj.notification_id:
            return ""
        url = reverse("admin:notifications_notification_change", args=[obj.notification_id])
        return format_html('<a href="{}">#{}</a>', url, obj.notification_id)

    @admin.display(description=_("run"), ordering="run")
    def run_link(self, obj):
        url = reverse("admin:notifications_notifyrun_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, obj.run.get_scope_display())


@admin.register(NotifyRun)
class NotifyRunAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "actor",
        "scope_label",
        "status",
        "progress",
        "sent_counts",
        "omitted_counts",
        "assigned_counts",
    )
    list_filter = ("status", "scope", "created_at")
    search_fields = ("actor__username", "group__name", "learner__email")
    list_select_related = ("actor", "group", "learner")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "finished_at",
        "actor",
        "scope_label",
        "status",
        "progress",
        "sent_counts",
        "omitted_counts",
        "assigned_counts",
        "outcomes_link",
        "omitted_learners",
        "error",
    )
    readonly_fields = fields
    change_list_template = "admin/notifications/notifyrun/change_list.html"

    @admin.display(description=_("scope"), ordering="scope")
    def scope_label(self, obj):
        if obj.scope == Scope.GROUP and obj.group_id:
            return f"{obj.get_scope_display()}: {obj.group}"
        if obj.scope == Scope.LEARNER and obj.learner_id:
            return f"{obj.get_scope_display()}: {obj.learner.full_name}"
        return obj.get_scope_display()

    @admin.display(description=_("processed"))
    def progress(self, obj):
        if obj.status in (NotifyRun.Status.PENDING, NotifyRun.Status.RUNNING):
            url = reverse("admin:notifications_notifyrun_progress", args=[obj.pk])
            return format_html('<a href="{}">{} / {}</a>', url, obj.processed, obj.total)
        return f"{obj.processed} / {obj.total}"

    @admin.display(description=_("queued"))
    def sent_counts(self, obj):
        return _counts_text((obj.summary or {}).get("sent", {}), ACTION_WORDS)

    @admin.display(description=_("omitted"))
    def omitted_counts(self, obj):
        return _counts_text((obj.summary or {}).get("omitted", {}), REASON_WORDS)

    @admin.display(description=_("assignments created"))
    def assigned_counts(self, obj):
        return _counts_text((obj.summary or {}).get("assigned", {}), ASSIGNMENT_WORDS)

    @admin.display(description=_("outcomes"))
    def outcomes_link(self, obj):
        url = reverse("admin:notifications_notifyoutcome_changelist") + f"?run__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("See each learner's outcome"))

    @admin.display(description=_("omitted learners"))
    def omitted_learners(self, obj):
        """The first omitted learners, each linked to her timeline; the outcomes list has them all."""
        omitted = list(
            NotifyOutcome.objects.filter(run=obj, action=NotifyOutcome.Action.OMITTED)
            .select_related("learner")
            .order_by("pk")[: OMITTED_SHOWN + 1]
        )
        if not omitted:
            return "—"
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a>: {}</li>',
            (
                (_timeline_url(o.learner_id), o.learner.full_name, reason_in_words(o.reason))
                for o in omitted[:OMITTED_SHOWN]
            ),
        )
        more = ""
        if len(omitted) > OMITTED_SHOWN:
            url = reverse("admin:notifications_notifyoutcome_changelist") + f"?run__id__exact={obj.pk}&sent=no"
            more = format_html('<li><a href="{}">{}</a></li>', url, _("all omitted learners"))
        return format_html("<ul style='margin:0;padding-left:1.2em'>{}{}</ul>", items, more)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("notify/", view(self.notifications_view), name="notifications_notify"),
            path("notify/preview/", view(self.preview_view), name="notifications_notify_preview"),
            path("<int:run_id>/progress/", view(self.progress_view), name="notifications_notifyrun_progress"),
            path(
                "<int:run_id>/progress.json",
                view(self.progress_json_view),
                name="notifications_notifyrun_progress_json",
            ),
            *super().get_urls(),
        ]

    # --- views ---------------------------------------------------------------------------

    def _check_can_notify(self, request):
        if not (request.user.is_active and request.user.has_perm("notifications.add_notifyrun")):
            raise PermissionDenied

    def _check_can_follow(self, request):
        # Whoever may press a Notify button is sent to this page after a large click.
        if not (self.has_view_permission(request) or request.user.has_perm("notifications.add_notifyrun")):
            raise PermissionDenied

    def notifications_view(self, request):
        """The Notifications page: groups with their completion, Notify All Groups, Notify Group per row."""
        self._check_can_notify(request)
        groups = selectors.group_completion_figures()
        here = request.get_full_path()
        for group in groups:
            group.notify_url = notify_url(Scope.GROUP, group=group, next_url=here)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Notifications"),
            "opts": self.model._meta,
            "groups": groups,
            "notify_all_groups_url": notify_url(Scope.ALL_GROUPS, next_url=here),
            "notify_all_learners_url": notify_url(Scope.ALL_LEARNERS, next_url=here),
            "recent_runs": NotifyRun.objects.select_related("actor", "group", "learner")[:10],
        }
        return TemplateResponse(request, "admin/notifications/notify_page.html", context)

    def _parse_scope(self, data):
        """(scope, group, learner) from the button's parameters, or an error message."""
        scope = data.get("scope", "")
        if scope not in Scope.values:
            return None, _("Unknown Notify button.")
        group = learner = None
        try:
            if scope == Scope.GROUP:
                group = LearnerGroup.objects.get(pk=parse_id(data.get("group")))
            elif scope == Scope.LEARNER:
                learner = Learner.objects.get(pk=parse_id(data.get("learner")))
        except (LearnerGroup.DoesNotExist, Learner.DoesNotExist):
            return None, _("That group or learner does not exist (any more).")
        return (scope, group, learner), None

    def _next_url(self, request, data):
        candidate = data.get("next", "")
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return reverse("admin:notifications_notify")

    def preview_view(self, request):
        self._check_can_notify(request)
        data = request.POST if request.method == "POST" else request.GET
        parsed, error = self._parse_scope(data)
        next_url = self._next_url(request, data)
        if error:
            messages.error(request, error)
            return redirect(next_url)
        scope, group, learner = parsed
        ids = notify_selectors.scope_learner_ids(scope=scope, group=group, learner=learner)
        if request.method == "POST":
            return self._confirm(request, scope, group, learner, ids, next_url)
        preview = preview_ids(ids)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Notify %(who)s: preview") % {"who": _scope_words(scope, group, learner)},
            "opts": self.model._meta,
            "scope": scope,
            "group": group,
            "learner": learner,
            "next_url": next_url,
            "preview": preview,
            "action_rows": [
                (ACTION_WORDS.get(k, k), n, preview["samples"].get(k, [])) for k, n in preview["actions"].items()
            ],
            "assignment_rows": [(ASSIGNMENT_WORDS.get(k, k), n) for k, n in preview.get("assignments", {}).items()],
            "omitted_rows": [
                (NotifyOutcome.Reason(k).label, n, preview["samples"].get(k, [])) for k, n in preview["omitted"].items()
            ],
            "runs_as_task": len(ids) > settings.NOTIFY_SYNC_LIMIT,
        }
        return TemplateResponse(request, "admin/notifications/notify_preview.html", context)

    def _confirm(self, request, scope, group, learner, ids, next_url):
        if not ids:
            messages.warning(request, _("Nobody to notify: no active learner in this scope."))
            return redirect(next_url)
        if len(ids) > settings.NOTIFY_SYNC_LIMIT:
            run = start_run(actor=request.user, scope=scope, group=group, learner=learner, total=len(ids))
            start_notify_task(run.pk)
            text = _("Notifying %(n)d learners in the background; this page follows its progress.")
            messages.info(request, text % {"n": len(ids)})
            return redirect("admin:notifications_notifyrun_progress", run_id=run.pk)
        run = notify_learners(ids, actor=request.user, scope=scope, group=group, learner=learner)
        messages.success(request, describe_run(run.summary))
        return redirect(next_url)

    def progress_view(self, request, run_id):
        self._check_can_follow(request)
        run = get_object_or_404(NotifyRun.objects.select_related("actor", "group", "learner"), pk=run_id)
        finished = run.status in (NotifyRun.Status.DONE, NotifyRun.Status.FAILED)
        summary = run.summary or {}
        context = {
            **self.admin_site.each_context(request),
            "title": _("Notify %(who)s: progress") % {"who": _scope_words(run.scope, run.group, run.learner)},
            "opts": self.model._meta,
            "run": run,
            "finished": finished,
            "percent": round(100 * run.processed / run.total) if run.total else (100 if finished else 0),
            "summary_text": describe_run(summary),
            "json_url": reverse("admin:notifications_notifyrun_progress_json", args=[run.pk]),
        }
        return TemplateResponse(request, "admin/notifications/notify_progress.html", context)

    def progress_json_view(self, request, run_id):
        self._check_can_follow(request)
        run = get_object_or_404(NotifyRun, pk=run_id)
        summary = run.summary or {}
        return JsonResponse(
            {
                "status": run.status,
                "processed": run.processed,
                "total": run.total,
                "summary": summary,
                "text": describe_run(summary),
            }
        )


# The run's page lists this many omitted learners; the outcomes list has all of them.
OMITTED_SHOWN = 20


def _timeline_url(learner_id):
    return reverse("admin:learners_learner_timeline", args=[learner_id])


def _counts_text(counts, words):
    return counts_text(counts, words) or "—"


def _scope_words(scope, group, learner):
    if scope == Scope.GROUP and group is not None:
        return _("group %(name)s") % {"name": group}
    if scope == Scope.LEARNER and learner is not None:
        return learner.full_name
    return Scope(scope).label.lower()
