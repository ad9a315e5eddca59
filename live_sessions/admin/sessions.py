"""Admin of live sessions: the session form, publishing, the Session Learners card, "Add learners" and
"Change the dates" (seed 003, seed 002 §IV)."""

import zoneinfo

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lms_notify import zones

from .. import selectors, services
from ..flow import FILLING_STATUSES
from ..models import LiveSession, SessionLearner
from ..trainers import TRAINERS_GROUP
from .common import (
    LEARNERS_SHOWN,
    REFUSALS,
    SessionStatus,
    Status,
    change_dates_url,
    date_field_labels,
    fill_rate_text,
    learners_changelist_url,
    posted_sequence,
    proposed_instant,
    refusal_text,
    safe_next,
    status_badge,
    status_field_label,
)
from .forms import AddLearnersForm, LiveSessionForm, RescheduleForm
from .journey import SessionJourneyActions
from .sending import CANCEL, PUBLISH, MassSendPages, sending_url

SERVICE_FIELDS = ["status", "capacity", "starts_at", "ends_at"]


def _aware(moment, zone):
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, zone)


CLOSED = (SessionStatus.CANCELLED, SessionStatus.COMPLETED)


class SessionPeriodFilter(admin.SimpleListFilter):
    """Today's and this week's sessions, in the administrator's time zone (the home page links here)."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("week", _("This week"))]

    def queryset(self, request, queryset):
        bounds = selectors.period_bounds(self.value())
        if bounds is None:
            return queryset
        return queryset.filter(starts_at__gte=bounds[0], starts_at__lt=bounds[1])


@admin.register(LiveSession)
class LiveSessionAdmin(MassSendPages, SessionJourneyActions, admin.ModelAdmin):
    form = LiveSessionForm
    list_display = ["title", "local_start", "status", "capacity", "fill_rate", "waiting_count", "learners_link"]
    list_filter = [
        SessionPeriodFilter,
        "status",
        "course",
        "requires_approval",
        "waiting_list_enabled",
        "calendar_integration",
    ]
    search_fields = ["title", "location", "course__title"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["course", "approver"]
    filter_horizontal = ["trainers"]
    list_select_related = ["course"]
    readonly_fields = ["fill_rate", "calendar_sequence", "created_at"]
    fieldsets = [
        (None, {"fields": ["title", "course", "status"]}),
        (_("When and where"), {"fields": [("starts_at", "ends_at"), "timezone", "location"]}),
        (
            _("Registration"),
            {
                "fields": [
                    ("capacity", "fill_rate"),
                    "waiting_list_enabled",
                    "requires_approval",
                    "approver",
                    "calendar_integration",
                ]
            },
        ),
        (_("People and forms"), {"fields": ["trainers", "registration_form_url", "feedback_form_url"]}),
        (_("Audit"), {"fields": ["calendar_sequence", "created_at"]}),
    ]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_form_template = "admin/live_sessions/livesession/change_form.html"
    actions = ["publish_sessions", "cancel_sessions", "change_dates"]

    class Media:
        css = {"all": ["live_sessions/admin.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                filled_count=Count("session_learners", filter=Q(session_learners__status__in=FILLING_STATUSES)),
                waiting_total=Count("session_learners", filter=Q(session_learners__status=Status.WAITING_LIST)),
                learners_total=Count("session_learners"),
            )
        )

    def save_model(self, request, obj, form, change):
        """Status, dates and capacity of an existing session change through the services (seed 003 flow).

        New dates that learners must hear about are not applied here: `response_change` takes the
        administrator to the "Change the dates" page to confirm them (seed 002 §IV)."""
        if not change:
            return super().save_model(request, obj, form, change)
        wanted = {name: getattr(obj, name) for name in SERVICE_FIELDS}
        for name in SERVICE_FIELDS:
            setattr(obj, name, form.initial[name])
        if (form.initial["status"], wanted["status"]) == (SessionStatus.READY, SessionStatus.COMPLETED):
            obj.status = wanted["status"]  # nothing to tell anyone: a plain field change
        super().save_model(request, obj, form, change)
        try:
            self._apply_through_services(request, obj, wanted, form.initial)
        except REFUSALS as error:
            messages.error(request, refusal_text(error))

    def _apply_through_services(self, request, session, wanted, before):
        actor = request.user
        if (wanted["starts_at"], wanted["ends_at"]) != (before["starts_at"], before["ends_at"]):
            self._new_dates_from_form(request, session, wanted)
        if wanted["capacity"] != before["capacity"]:
            offered = services.set_capacity(session, capacity=wanted["capacity"], actor=actor)
            if offered:
                messages.info(
                    request,
                    ngettext(
                        "%(n)d learner of the waiting list was offered a free place.",
                        "%(n)d learners of the waiting list were offered a free place.",
                        len(offered),
                    )
                    % {"n": len(offered)},
                )
        # Publishing and cancelling tell learners: the administrator looks at who first, on the page
        # `response_change` leads to; the rest of the form is saved.
        move = (before["status"], wanted["status"])
        if move == (SessionStatus.DRAFT, SessionStatus.READY):
            session.sending_to_confirm = PUBLISH
        elif wanted["status"] == SessionStatus.CANCELLED and before["status"] != SessionStatus.CANCELLED:
            session.sending_to_confirm = CANCEL

    def _new_dates_from_form(self, request, session, wanted):
        if wanted["status"] in CLOSED:
            messages.warning(
                request, _t("The new dates were not saved: a cancelled or completed session cannot be rescheduled.")
            )
        elif selectors.reached_by_new_dates(session):
            # Learners hold the calendar invitation: the administrator confirms first, and may add a message.
            session.dates_to_confirm = (wanted["starts_at"], wanted["ends_at"])
        else:
            services.reschedule(session, starts_at=wanted["starts_at"], ends_at=wanted["ends_at"], actor=request.user)
            messages.info(
                request, _t("New dates saved: no learner has the calendar invitation yet, so nobody is told.")
            )

    def construct_change_message(self, request, form, formsets, add=False):
        changes = super().construct_change_message(request, form, formsets, add)
        waiting = set()
        if getattr(form.instance, "dates_to_confirm", None):
            waiting.update(date_field_labels())
        if getattr(form.instance, "sending_to_confirm", None):
            waiting.add(status_field_label())
        if waiting:
            # Not changed yet: the history records them when they are confirmed.
            for change in changes:
                if "changed" in change:
                    change["changed"]["fields"] = [f for f in change["changed"]["fields"] if f not in waiting]
            changes = [c for c in changes if "changed" not in c or c["changed"]["fields"]]
        return changes

    def response_change(self, request, obj):
        sending = getattr(obj, "sending_to_confirm", None)
        if sending:
            messages.info(
                request,
                _t("The session is saved except its status: look at who will be told below, then confirm.")
                if sending == PUBLISH
                else _t(
                    "The session is saved except its status: give the reason for the cancellation, look at who "
                    "will be told below, then confirm."
                ),
            )
            return redirect(sending_url(obj, sending))
        dates = getattr(obj, "dates_to_confirm", None)
        if not dates:
            return super().response_change(request, obj)
        messages.info(
            request,
            _t(
                "The session is saved except its new dates: confirm them below, with an extra message for the "
                "learners if you wish, or cancel to keep the current dates."
            ),
        )
        query = {"starts_at": dates[0].isoformat(), "ends_at": dates[1].isoformat()}
        return redirect(change_dates_url(obj, **query))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "trainers":
            # Trainers are the members of the Trainers group (and whoever already trains a session).
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(Q(groups__name=TRAINERS_GROUP) | Q(trained_sessions__isnull=False))
                .distinct()
                .order_by("username")
            )
            kwargs.setdefault("help_text", _("Users of the Trainers group; they take attendance at /trainer/."))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("starts at"), ordering="starts_at")
    def local_start(self, obj):
        """As the session's clock reads it, with its zone ("2030-01-14 14:00 Europe/Warsaw")."""
        return zones.labelled(obj.starts_at, obj.timezone)

    @admin.display(description=_("fill rate"), ordering="filled_count")
    def fill_rate(self, obj):
        if obj.pk is None:
            return "—"
        return fill_rate_text(obj.filled_count, obj.capacity)

    @admin.display(description=_("waiting list"), ordering="waiting_total")
    def waiting_count(self, obj):
        return obj.waiting_total

    @admin.display(description=_("learners"), ordering="learners_total")
    def learners_link(self, obj):
        return format_html('<a href="{}">{}</a>', learners_changelist_url(obj), obj.learners_total)

    # --- the Session Learners card ----------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        session = self.get_object(request, object_id)
        if session is not None:
            extra_context["learners_card"] = self._learners_card(request, session)
        return super().change_view(request, object_id, form_url, extra_context)

    def _learners_card(self, request, session):
        status_filter = request.GET.get("learner_status", "")
        if status_filter not in Status.values:
            status_filter = ""
        search = request.GET.get("learner_q", "").strip()[:100]
        summary = selectors.session_summary(session)
        counts, total, filled = summary["counts"], summary["total"], summary["filled"]
        shown = session.session_learners.select_related("learner").order_by("-status_changed_at", "-pk")
        if status_filter:
            shown = shown.filter(status=status_filter)
        if search:
            for word in search.split():
                shown = shown.filter(
                    Q(learner__first_name__icontains=word)
                    | Q(learner__last_name__icontains=word)
                    | Q(learner__email__icontains=word)
                )
        rows = list(shown[: LEARNERS_SHOWN + 1])
        last = selectors.last_messages(session, rows[:LEARNERS_SHOWN])
        sl_admin = self.admin_site._registry.get(SessionLearner)
        action_choices = sl_admin.get_action_choices(request, default_choices=[]) if sl_admin else []
        return {
            "session": session,
            "total": total,
            "filled": filled,
            "fill_rate": fill_rate_text(filled, session.capacity),
            "fill_percent": min(100, round(100 * filled / session.capacity)) if session.capacity else 0,
            "counts": [
                (value, label, counts.get(value, 0), learners_changelist_url(session, status__exact=value))
                for value, label in Status.choices
            ],
            "rows": [
                (sl, status_badge(sl.status), selectors.last_message_words(last.get(sl.pk)))
                for sl in rows[:LEARNERS_SHOWN]
            ],
            "waiting": selectors.waiting_list_with_positions(session, limit=LEARNERS_SHOWN),
            "more": len(rows) > LEARNERS_SHOWN,
            "shown_cap": LEARNERS_SHOWN,
            "status_filter": status_filter,
            "search": search,
            "status_choices": Status.choices,
            "all_url": learners_changelist_url(session, status__exact=status_filter, q=search),
            "action_url": learners_changelist_url(session, status__exact=status_filter, q=search),
            "action_choices": action_choices,
            "can_add": request.user.has_perm("live_sessions.add_sessionlearner"),
            "add_url": reverse("admin:live_sessions_livesession_add_learners", args=[session.pk]),
            "next": request.get_full_path(),
            "walk_ins_to_review": selectors.walk_ins_to_review(session),
            "walk_ins_url": reverse("admin:learners_learner_changelist") + "?needs_review__exact=1",
        }

    # --- Add learners -----------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:session_id>/add-learners/",
                view(self.add_learners_view),
                name="live_sessions_livesession_add_learners",
            ),
            path(
                "<int:session_id>/change-dates/",
                view(self.change_dates_view),
                name="live_sessions_livesession_change_dates",
            ),
            *self.sending_urls(),
            *super().get_urls(),
        ]

    # --- Change the dates (seed 002 §IV) ----------------------------------------------------------------------

    def change_dates_view(self, request, session_id):
        """New dates, confirmed with an optional extra message, then one reschedule: every learner holding the
        calendar invitation gets it updated (same UID, higher SEQUENCE). The session form, its "Change the
        dates…" button and the "Change the dates" action all lead here."""
        # Refused before looking the session up: without the permission, no page says which sessions exist.
        if not self.has_change_permission(request):
            raise PermissionDenied
        session = get_object_or_404(LiveSession, pk=session_id)
        session_url = reverse("admin:live_sessions_livesession_change", args=[session.pk])
        back = safe_next(request) or session_url
        if session.status in CLOSED:
            messages.error(request, _t("A cancelled or completed session cannot be rescheduled."))
            return redirect(back)
        posted = request.method == "POST"
        zone = zoneinfo.ZoneInfo(session.timezone)
        # The form reads and shows times in the session's own time zone, whoever the administrator is: the
        # proposed dates are shown as wall-clock times there (naive, so rendering converts nothing).
        with timezone.override(zone):
            form = RescheduleForm(
                request.POST if posted else None,
                initial={
                    name: timezone.make_naive(proposed_instant(request.GET, name) or getattr(session, name), zone)
                    for name in ("starts_at", "ends_at")
                },
            )
            valid = posted and form.is_valid()
        informed = selectors.reached_by_new_dates(session)
        if valid:
            starts_at, ends_at = form.cleaned_data["starts_at"], form.cleaned_data["ends_at"]
            if (starts_at, ends_at) == (session.starts_at, session.ends_at):
                messages.info(request, _t("These are the session's dates already: nothing was changed or sent."))
                return redirect(back)
            try:
                services.reschedule(
                    session,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    actor=request.user,
                    message=form.cleaned_data["message"],
                    expected_sequence=posted_sequence(request),
                )
            except REFUSALS as error:
                form.add_error(None, refusal_text(error))
            else:
                self.log_change(request, session, [{"changed": {"fields": date_field_labels()}}])
                messages.success(
                    request,
                    ngettext(
                        "New dates saved; %(n)d learner gets the updated calendar invitation.",
                        "New dates saved; %(n)d learners get the updated calendar invitation.",
                        informed,
                    )
                    % {"n": informed},
                )
                return redirect(back)
        # Who will get what: the dates and message as posted, else as proposed.
        shown = form.cleaned_data if valid else {**form.initial, "message": ""}
        with timezone.override(zone):
            lookahead = services.reschedule_lookahead(
                session,
                starts_at=_aware(shown["starts_at"], zone),
                ends_at=_aware(shown["ends_at"], zone),
                message=shown.get("message", ""),
            )
        context = {
            **self.admin_site.each_context(request),
            "lookahead": lookahead,
            "title": _t("New dates for “%(title)s”") % {"title": session.title},
            "opts": self.model._meta,
            "original": session,
            "session": session,
            "informed": informed,
            "form": form,
            "media": self.media + form.media,
            "next": safe_next(request),
            "back_url": back,
        }
        return TemplateResponse(request, "admin/live_sessions/livesession/change_dates.html", context)

    def add_learners_view(self, request, session_id):
        if not request.user.has_perm("live_sessions.add_sessionlearner"):
            raise PermissionDenied
        session = get_object_or_404(LiveSession, pk=session_id)
        back = reverse("admin:live_sessions_livesession_change", args=[session.pk]) + "#session-learners"
        form = AddLearnersForm(request.POST if request.method == "POST" else None, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            chosen = form.chosen_learners()
            already = set(session.session_learners.filter(learner__in=chosen).values_list("learner_id", flat=True))
            try:
                newcomers = [learner for learner in chosen if learner.pk not in already]
                added = services.add_learners(session, newcomers, actor=request.user)
            except REFUSALS as error:
                messages.error(request, refusal_text(error))
                return redirect(back)
            by_status = {}
            for sl in added:
                by_status[sl.status] = by_status.get(sl.status, 0) + 1
            if added:
                detail = ", ".join(f"{n} {Status(status).label.lower()}" for status, n in sorted(by_status.items()))
                messages.success(
                    request,
                    ngettext(
                        "%(n)d learner added to %(session)s (%(detail)s).",
                        "%(n)d learners added to %(session)s (%(detail)s).",
                        len(added),
                    )
                    % {"n": len(added), "session": session.title, "detail": detail},
                )
            if already:
                messages.info(
                    request,
                    ngettext(
                        "%(n)d learner was already in this session and was left as they were.",
                        "%(n)d learners were already in this session and were left as they were.",
                        len(already),
                    )
                    % {"n": len(already)},
                )
            if not added and not already:
                messages.warning(request, _t("Nobody to add: the group has no active member."))
            return redirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _t("Add learners to %(session)s") % {"session": session},
            "opts": self.model._meta,
            "original": session,
            "session": session,
            "form": form,
            "media": self.media + form.media,
            "back_url": back,
        }
        return TemplateResponse(request, "admin/live_sessions/livesession/add_learners.html", context)
