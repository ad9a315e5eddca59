"""Admin of session learners (seed 003 "Manage Learners"): the list and the actions on selected learners
(update status, send email, export, copy, and the journey actions of seed 002)."""

import uuid
from collections import Counter

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lms_notify.admin_base import refuse_bad_ids
from lms_notify.parsing import parse_id

from .. import selectors, services
from ..emails import EmailType
from ..models import LiveSession, SessionLearner, StatusChange
from .common import (
    REFUSALS,
    XLSX_TYPE,
    SessionStatus,
    Status,
    fill_rate_text,
    learners_changelist_url,
    refusal_text,
    safe_next,
    status_badge,
)
from .forms import CopyForm, EmailTextForm, EmailTypeForm, UpdateStatusForm
from .history import StatusChangeInline
from .journey import LearnerJourneyActions


class SessionStatusFilter(admin.SimpleListFilter):
    title = _("session status")
    parameter_name = "session_status"

    def lookups(self, request, model_admin):
        return SessionStatus.choices

    def queryset(self, request, queryset):
        if self.value() in SessionStatus.values:
            return queryset.filter(session__status=self.value())
        return queryset


@admin.register(SessionLearner)
class SessionLearnerAdmin(LearnerJourneyActions, admin.ModelAdmin):
    list_display = ["learner_name", "learner_email", "status_badge", "status_changed_at", "session"]
    list_filter = ["status", SessionStatusFilter]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "session__title"]
    list_select_related = ["learner", "session"]
    list_per_page = 100
    fields = ["session", "learner", "status_badge", "created_at", "status_changed_at"]
    readonly_fields = ["session", "learner", "status_badge", "created_at", "status_changed_at"]
    date_hierarchy = "status_changed_at"
    inlines = [StatusChangeInline]
    actions = [
        "update_status",
        "send_email",
        "export_xlsx",
        "copy_to_session",
        "notify_convocation",
        "ask_to_choose_a_date",
        "mark_survey_answered",
    ]
    change_list_template = "admin/live_sessions/sessionlearner/change_list.html"

    class Media:
        css = {"all": ["live_sessions/admin.css"]}

    # Learners join a session only through "Add learners" (live_sessions.services.add_learners).
    def has_add_permission(self, request):
        return False

    def has_update_status_permission(self, request):
        return request.user.has_perm("live_sessions.change_sessionlearner")

    def has_send_email_permission(self, request):
        return request.user.has_perm("live_sessions.change_sessionlearner")

    def has_export_permission(self, request):
        # Like every action, not for staff who may only look: the export carries contact details out of the app.
        return request.user.has_perm("live_sessions.change_sessionlearner")

    def has_copy_permission(self, request):
        return request.user.has_perm("live_sessions.add_sessionlearner")

    def get_search_fields(self, request):
        if "session__id__exact" in request.GET:
            # Within one session a search names learners only, so "every learner matching" never widens to the
            # whole session because a word also appears in its title.
            return ["learner__email", "learner__first_name", "learner__last_name"]
        return super().get_search_fields(request)

    @admin.display(description=_("learner"), ordering="learner__last_name")
    def learner_name(self, obj):
        return obj.learner.full_name

    @admin.display(description=_("email"), ordering="learner__email")
    def learner_email(self, obj):
        return obj.learner.email

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status)

    def changelist_view(self, request, extra_context=None):
        refused = refuse_bad_ids(request, "session__id__exact", "learner__id__exact")
        if refused:
            return refused
        extra_context = extra_context or {}
        session_id = parse_id(request.GET.get("session__id__exact"))
        if session_id is not None:
            session = LiveSession.objects.filter(pk=session_id).first()
            if session is not None:
                summary = selectors.session_summary(session)
                counts = summary["counts"]
                extra_context["session_header"] = {
                    "session": session,
                    "fill_rate": fill_rate_text(summary["filled"], session.capacity),
                    "counts": [
                        (label, counts[value], learners_changelist_url(session, status__exact=value))
                        for value, label in Status.choices
                        if counts.get(value)
                    ],
                    "session_url": reverse("admin:live_sessions_livesession_change", args=[session.pk]),
                    "add_url": reverse("admin:live_sessions_livesession_add_learners", args=[session.pk]),
                    "can_add": request.user.has_perm("live_sessions.add_sessionlearner"),
                }
        return super().changelist_view(request, extra_context)

    # Removing learners frees their places, which go to the waiting list in order (the service).
    def delete_model(self, request, obj):
        services.remove_learners([obj], actor=request.user)

    def delete_queryset(self, request, queryset):
        services.remove_learners(list(queryset.values_list("pk", flat=True)), actor=request.user)

    def get_deleted_objects(self, objs, request):
        # A learner's status history goes with her: nobody edits it, and it needs no permission of its own.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(StatusChange._meta.verbose_name)
        return deleted, counts, perms_needed, protected

        # --- action plumbing --------------------------------------------------------------------------------------

    def _action_page(self, request, queryset, action, title, template, **context):
        """An intermediate page that posts the same selection back to the same action."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "action": action,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "count": context.pop("count", None),
            "next": safe_next(request),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        }
        return TemplateResponse(request, f"admin/live_sessions/sessionlearner/{template}", context)

    def _done(self, request):
        """Back where the administrator started (the session page), else the list."""
        target = safe_next(request)
        return redirect(target) if target else None

    def _one_session(self, request, queryset):
        session_ids = list(queryset.order_by().values_list("session_id", flat=True).distinct()[:2])
        if len(session_ids) != 1:
            messages.error(request, _t("Select learners of one session only for this action."))
            return None
        return LiveSession.objects.get(pk=session_ids[0])

    # --- actions ----------------------------------------------------------------------------------------------

    @admin.action(description=_("Update status"), permissions=["update_status"])
    def update_status(self, request, queryset):
        """Seed 003 "Update Learner Status": any status, recorded as a manual change."""
        form = UpdateStatusForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            status = form.cleaned_data["status"]
            selected = list(queryset.values_list("pk", flat=True))
            try:
                update = services.update_status(selected, status, actor=request.user)
            except REFUSALS as error:
                messages.error(request, refusal_text(error))
                return self._done(request)
            changed = update.changed
            label = Status(status).label.lower()
            messages.success(
                request,
                ngettext(
                    "%(n)d learner is now %(status)s (recorded as a manual change).",
                    "%(n)d learners are now %(status)s (recorded as a manual change).",
                    changed,
                )
                % {"n": changed, "status": label},
            )
            if changed < len(selected):
                unchanged = len(selected) - changed
                messages.info(
                    request,
                    ngettext(
                        "%(n)d learner already was %(status)s.", "%(n)d learners already were %(status)s.", unchanged
                    )
                    % {"n": unchanged, "status": label},
                )
            if update.offered:
                messages.info(request, offered_in_words(update.offered))
            return self._done(request)
        return self._action_page(
            request,
            queryset,
            "update_status",
            _t("Update the status of the selected learners"),
            "update_status.html",
            form=form,
            count=queryset.count(),
            # Whom it changes, as they are now: the names, the first PREVIEW_NAMES of them.
            learners_shown=list(
                queryset.select_related("learner", "session").order_by(
                    "learner__last_name", "learner__first_name", "pk"
                )[:PREVIEW_NAMES]
            ),
        )

    @admin.action(description=_("Send email"), permissions=["send_email"])
    def send_email(self, request, queryset):
        """Seed 003 "Communicate with Learners": choose a type, preview who gets it, edit, send."""
        session = self._one_session(request, queryset)
        if session is None:
            return self._done(request)
        type_form = EmailTypeForm(request.POST if "email_type" in request.POST else None, email_types=EmailType.choices)
        if not type_form.is_valid():
            return self._action_page(
                request,
                queryset,
                "send_email",
                _t("Send an email to the selected learners"),
                "send_email_type.html",
                form=type_form,
                session=session,
                count=queryset.count(),
                email_types=email_type_descriptions(),
            )
        email_type = type_form.cleaned_data["email_type"]
        session_learners = list(queryset)
        submitted = "send" in request.POST or "refresh" in request.POST
        text_form = EmailTextForm(request.POST if submitted else None)
        edited = text_form.cleaned_data if submitted and text_form.is_valid() else {}
        if "send" in request.POST and edited:
            try:
                result = services.send_email(
                    session,
                    session_learners,
                    email_type,
                    actor=request.user,
                    subject=edited["subject"],
                    body=edited["body"],
                    send_id=edited["send_id"],
                )
            except REFUSALS as error:
                text_form.add_error(None, refusal_text(error))
            else:
                report_email_result(request, EmailType(email_type).label, result)
                return self._done(request)
        try:
            preview = services.preview_email(
                session, session_learners, email_type, subject=edited.get("subject"), body=edited.get("body")
            )
        except REFUSALS as error:
            text_form.add_error(None, refusal_text(error))
            preview = services.preview_email(session, session_learners, email_type)
        if not submitted:
            text_form = EmailTextForm(
                initial={
                    "subject": preview.subject_template,
                    "body": preview.body_template,
                    "send_id": uuid.uuid4().hex,
                }
            )
        return self._action_page(
            request,
            queryset,
            "send_email",
            _t("%(type)s: preview") % {"type": EmailType(email_type).label},
            "send_email_preview.html",
            form=text_form,
            session=session,
            email_type=email_type,
            email_type_label=EmailType(email_type).label,
            preview=preview,
            recipients_shown=preview.recipients[:PREVIEW_NAMES],
            skipped_groups=group_skipped(preview.skipped),
        )

    @admin.action(description=_("Export to Excel (.xlsx)"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        """Seed 003 "Export the list of learners": an .xlsx download of the selected learners."""
        session = self._one_session(request, queryset)
        if session is None:
            return self._done(request)
        workbook = services.export_learners(session, list(queryset.select_related("learner")))
        response = HttpResponse(workbook, content_type=XLSX_TYPE)
        filename = f"{slugify(session.title) or 'session'}-{session.starts_at:%Y-%m-%d}-learners.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description=_("Copy to another session"), permissions=["copy"])
    def copy_to_session(self, request, queryset):
        """Seed 003 "Copy Learners": choose the target session and status; say what happened to each learner."""
        source_ids = list(queryset.order_by().values_list("session_id", flat=True).distinct())
        form = CopyForm(request.POST if "apply" in request.POST else None, exclude_session_ids=source_ids)
        if not form.is_valid():
            return self._action_page(
                request,
                queryset,
                "copy_to_session",
                _t("Copy the selected learners to another session"),
                "copy.html",
                form=form,
                count=queryset.count(),
            )
        target, status = form.cleaned_data["target"], form.cleaned_data["status"]
        try:
            outcomes = services.copy_learners_with_outcomes(list(queryset), target, status=status, actor=request.user)
        except REFUSALS as error:
            messages.error(request, refusal_text(error))
            return self._done(request)
        copied = [o for o in outcomes if o.session_learner is not None and o.outcome != "already_in_session"]
        summary = ngettext(
            "%(n)d of %(total)d learner copied to %(session)s; each one's outcome is listed.",
            "%(n)d of %(total)d learners copied to %(session)s; each one's outcome is listed.",
            len(outcomes),
        ) % {"n": len(copied), "total": len(outcomes), "session": target}
        if len(copied) == len(outcomes):
            messages.success(request, summary)
        else:
            # "0 of 3 learners copied" is not a success; the reasons come with it.
            messages.warning(request, f"{summary} {not_copied_words(outcomes)}")
        context = {
            **self.admin_site.each_context(request),
            "title": _t("Copied to %(session)s") % {"session": target},
            "opts": self.model._meta,
            "target": target,
            "outcomes": [
                (
                    outcome.source.learner,
                    status_badge(outcome.session_learner.status) if outcome.session_learner else "—",
                    outcome.message,
                )
                for outcome in outcomes
            ],
            "target_url": reverse("admin:live_sessions_livesession_change", args=[target.pk]),
            "back_url": safe_next(request) or reverse("admin:live_sessions_sessionlearner_changelist"),
        }
        return TemplateResponse(request, "admin/live_sessions/sessionlearner/copy_result.html", context)


PREVIEW_NAMES = 50
OFFERED_NAMES = 5


def offered_in_words(offered) -> str:
    """Who the freed places went to: how many waiting learners were offered one, and the first few names."""
    names = ", ".join(sl.learner.full_name for sl in offered[:OFFERED_NAMES])
    more = len(offered) - OFFERED_NAMES
    if more > 0:
        names = ngettext("%(names)s and %(n)d other", "%(names)s and %(n)d others", more) % {"names": names, "n": more}
    return ngettext(
        "%(n)d learner of the waiting list was offered a freed place: %(names)s.",
        "%(n)d learners of the waiting list were offered a freed place: %(names)s.",
        len(offered),
    ) % {"n": len(offered), "names": names}


NOT_COPIED = {
    "already_in_session": _("already in the target session"),
    "refused_full": _("refused for lack of a place (full, no waiting list)"),
}


def not_copied_words(outcomes) -> str:
    """ "Not copied: 2 already in the target session, 1 refused for lack of a place …" from the outcomes."""
    counts = Counter(o.outcome for o in outcomes if o.outcome in NOT_COPIED)
    reasons = ", ".join(f"{n} {NOT_COPIED[code]}" for code, n in counts.most_common())
    return _t("Not copied: %(reasons)s.") % {"reasons": reasons}


def email_type_descriptions():
    """Each email type with the condition a learner must meet, in words (seed 003 "Email Types")."""
    conditions = {
        EmailType.REGISTRATION_FORM: _("The session needs a registration form."),
        EmailType.ATTENDANCE_REMINDER: _("Registered learners; includes Confirm / Decline buttons."),
        EmailType.FOLLOW_UP: _("Learners who attended or came as a go show."),
        EmailType.FEEDBACK_FORM: _("Attended or go show, in a session with a feedback form."),
        EmailType.FEEDBACK_FORM_REMINDER: _("Attended or go show, sent the feedback form and not answered it yet."),
        EmailType.CUSTOM: _("Any learner of the session; you write the subject and body."),
        EmailType.WAITING_LEARNERS_INVITATION: _("Learners on the waiting list."),
    }
    return [(value, label, conditions.get(value, "")) for value, label in EmailType.choices]


def group_skipped(skipped):
    """[(reason, count, first names)] so 2,000 skipped learners read as a few lines."""
    groups = {}
    for sl, reason in skipped:
        group = groups.setdefault(str(reason), [0, []])
        group[0] += 1
        if len(group[1]) < 10:
            group[1].append(sl.learner.full_name)
    return [(reason, n, names) for reason, (n, names) in groups.items()]


def report_email_result(request, type_label, result):
    if result.sent:
        messages.success(
            request,
            ngettext("%(type)s sent to %(n)d learner.", "%(type)s sent to %(n)d learners.", len(result.sent))
            % {"type": type_label, "n": len(result.sent)},
        )
    else:
        messages.warning(request, _t("%(type)s: nobody to send it to.") % {"type": type_label})
    for reason, n, names in group_skipped(result.skipped):
        more = f" (+{n - len(names)})" if n > len(names) else ""
        messages.warning(
            request,
            ngettext("Skipped %(n)d learner: %(reason)s", "Skipped %(n)d learners: %(reason)s", n)
            % {"n": n, "reason": reason}
            + f" — {', '.join(names)}{more}",
        )
