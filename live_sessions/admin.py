"""Admin of live sessions and their learners (seed 003 "Manage Learners").

The session page carries the Session Learners card: fill rate, counts per
status, the most recent learners with status badges, filter and search, and
the actions on selected learners (add, update status, send email, export,
copy). Every status change goes through live_sessions.services, which records
the StatusChange rows; nothing here writes a status or its history itself.

Everything shown costs a fixed number of queries whatever the number of
learners: counts come from one aggregate query, lists are capped or paginated.
"""

import uuid
import zoneinfo
from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from learners.models import Learner, LearnerGroup
from lms_notify.admin_base import ReadOnlyAdmin, refuse_bad_ids
from lms_notify.parsing import parse_id

from . import admin_journey_forms, selectors, services
from .flow import FILLING_STATUSES, Trigger
from .models import LiveSession, ParticipationRequest, SessionLearner, StatusChange, session_dates_problem
from .trainers import TRAINERS_GROUP

Status = SessionLearner.Status

# The session page lists this many learners; the full, paginated list is the Session learners page.
LEARNERS_SHOWN = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a service raises when the flow refuses a change: shown as a message, never a 500.
REFUSALS = (ValidationError, ValueError)


def status_badge(status):
    label = Status(status).label if status in Status.values else status
    return format_html('<span class="sl-badge sl-badge-{}">{}</span>', status, label)


def refusal_text(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def trigger_words(trigger):
    """What caused a status change, in words (the flow table's trigger labels)."""
    return Trigger(trigger).label if trigger in Trigger.values else trigger


def fill_rate_text(filled, capacity):
    """Registered + go show + attended over capacity (seed 003 "Fill Rate")."""
    if not capacity:
        return f"{filled} / —"
    return f"{filled}/{capacity} ({filled / capacity:.0%})"


def learners_changelist_url(session, **filters):
    params = {"session__id__exact": session.pk, **{k: v for k, v in filters.items() if v}}
    return reverse("admin:live_sessions_sessionlearner_changelist") + "?" + urlencode(params)


def change_dates_url(session, **query):
    """The "Change the dates" page of a session (seed 002 §IV), proposing `starts_at`/`ends_at` if given."""
    url = reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    return f"{url}?{urlencode(query)}" if query else url


def proposed_instant(params, name):
    """An aware datetime proposed in the query string (ISO 8601), else None: a bad value proposes nothing."""
    try:
        value = datetime.fromisoformat(params.get(name, ""))
    except ValueError:
        return None
    if not timezone.is_aware(value) or session_dates_problem(value, None):
        # Year 1 at +14:00 would overflow when shown in the session's time zone.
        return None
    return value


def date_field_labels():
    """The date fields' labels as the admin history stores them: untranslated, translated when read."""
    with translation.override(None):
        return [str(capfirst(LiveSession._meta.get_field(name).verbose_name)) for name in ("starts_at", "ends_at")]


def posted_sequence(request):
    """The calendar sequence the confirmation page was shown with, if it sent one."""
    value = request.POST.get("sequence", "")
    try:
        return int(value) if value.isascii() else None
    except ValueError:
        return None


def safe_next(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


# --- Live sessions ---------------------------------------------------------------------------------------------


class AddLearnersForm(forms.Form):
    """Seed 003 "Add Learners": learners found by search, or every active member of a group, or both."""

    learners = forms.ModelMultipleChoiceField(
        queryset=Learner.objects.filter(is_active=True), required=False, label=_("Learners")
    )
    group = forms.ModelChoiceField(
        queryset=LearnerGroup.objects.order_by("name"),
        required=False,
        label=_("or a whole group"),
        help_text=_("Every active member of the group is added."),
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["learners"]
        field.widget = AutocompleteSelectMultiple(SessionLearner._meta.get_field("learner"), admin_site)
        field.widget.choices = field.choices

    def clean(self):
        data = super().clean()
        if not data.get("learners") and not data.get("group"):
            raise ValidationError(_("Choose learners, a group, or both."))
        return data

    def chosen_learners(self):
        chosen = {learner.pk: learner for learner in self.cleaned_data.get("learners") or []}
        group = self.cleaned_data.get("group")
        if group is not None:
            for learner in Learner.objects.filter(memberships__group=group, is_active=True):
                chosen.setdefault(learner.pk, learner)
        return list(chosen.values())


SessionStatus = LiveSession.Status
# Session status changes an administrator makes on the session form; each is carried out by a service.
SESSION_MOVES = {
    (SessionStatus.DRAFT, SessionStatus.READY),  # publish: every not-invited learner is invited
    (SessionStatus.DRAFT, SessionStatus.CANCELLED),
    (SessionStatus.READY, SessionStatus.CANCELLED),  # the learners get METHOD:CANCEL
    (SessionStatus.READY, SessionStatus.COMPLETED),
}
SERVICE_FIELDS = ["status", "capacity", "starts_at", "ends_at"]
CLOSED = (SessionStatus.CANCELLED, SessionStatus.COMPLETED)


def _https_urls(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class LiveSessionForm(forms.ModelForm):
    class Meta:
        model = LiveSession
        formfield_callback = _https_urls
        fields = [
            "title",
            "course",
            "status",
            "starts_at",
            "ends_at",
            "timezone",
            "location",
            "capacity",
            "waiting_list_enabled",
            "requires_approval",
            "approver",
            "calendar_integration",
            "trainers",
            "registration_form_url",
            "feedback_form_url",
        ]

    def clean(self):
        data = super().clean()
        status = data.get("status")
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The session must end after it starts."))
        if self.instance.pk is None:
            if status not in (SessionStatus.DRAFT, SessionStatus.READY):
                self.add_error("status", _("A new session is a draft or ready."))
            return data
        before = self.initial.get("status")
        if status and status != before and (before, status) not in SESSION_MOVES:
            self.add_error(
                "status",
                _("A %(before)s session cannot become %(after)s.")
                % {
                    "before": SessionStatus(before).label.lower(),
                    "after": SessionStatus(status).label.lower(),
                },
            )
        moved = any(name in self.changed_data for name in ("starts_at", "ends_at"))
        if moved and before in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            self.add_error("starts_at", _("A cancelled or completed session cannot be rescheduled."))
        return data


class SessionPeriodFilter(admin.SimpleListFilter):
    """Today's and this week's sessions, in the administrator's time zone (the home page links here, issue 20)."""

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
class LiveSessionAdmin(admin.ModelAdmin):
    form = LiveSessionForm
    list_display = ["title", "starts_at", "status", "capacity", "fill_rate", "waiting_count", "learners_link"]
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
    actions = ["publish_sessions"]

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
        move = (before["status"], wanted["status"])
        if move == (SessionStatus.DRAFT, SessionStatus.READY):
            to_invite = session.session_learners.filter(status=Status.NOT_INVITED).count()
            services.publish(session, actor=actor)
            messages.success(
                request,
                ngettext("Published: %(n)d learner invited.", "Published: %(n)d learners invited.", to_invite)
                % {"n": to_invite},
            )
        elif wanted["status"] == SessionStatus.CANCELLED and before["status"] != SessionStatus.CANCELLED:
            services.cancel_session(session, actor=actor)
            messages.warning(request, _t("Session cancelled: its learners are cancelled and informed."))

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
        if getattr(form.instance, "dates_to_confirm", None):
            # The dates are not changed yet: the history records them when they are confirmed.
            dates = set(date_field_labels())
            for change in changes:
                if "changed" in change:
                    change["changed"]["fields"] = [f for f in change["changed"]["fields"] if f not in dates]
            changes = [c for c in changes if "changed" not in c or c["changed"]["fields"]]
        return changes

    def response_change(self, request, obj):
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

    @admin.action(description=_("Publish (draft to ready): invite their learners"), permissions=["change"])
    def publish_sessions(self, request, queryset):
        """Seed 003 "Not invited -> Invited": publishing invites every learner not invited yet."""
        published, refused = [], []
        skipped = queryset.exclude(status=SessionStatus.DRAFT).count()
        for session in queryset.filter(status=SessionStatus.DRAFT).order_by("starts_at"):
            try:
                services.publish(session, actor=request.user)
            except REFUSALS as error:
                refused.append(f"{session}: {refusal_text(error)}")
            else:
                published.append(session)
        if published:
            messages.success(
                request,
                ngettext("%(n)d session published.", "%(n)d sessions published.", len(published))
                % {"n": len(published)},
            )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(n)d session was not a draft and was left as it was.",
                    "%(n)d sessions were not drafts and were left as they were.",
                    skipped,
                )
                % {"n": skipped},
            )
        for text in refused:
            messages.error(request, text)

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
            "rows": [(sl, status_badge(sl.status)) for sl in rows[:LEARNERS_SHOWN]],
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
            form = admin_journey_forms.RescheduleForm(
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
        context = {
            **self.admin_site.each_context(request),
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


# --- Session learners ------------------------------------------------------------------------------------------


class UpdateStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices, label=_("New status"))


class EmailTypeForm(forms.Form):
    email_type = forms.ChoiceField(label=_("Email type"), widget=forms.RadioSelect)

    def __init__(self, *args, email_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_type"].choices = email_types


class EmailTextForm(forms.Form):
    # One id per preview page: a double click on Send queues nothing twice.
    send_id = forms.CharField(widget=forms.HiddenInput, max_length=32)
    subject = forms.CharField(label=_("Subject"), max_length=300, widget=forms.TextInput(attrs={"size": 90}))
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 14, "cols": 90}))


class CopyForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=LiveSession.objects.none(), label=_("Copy to session"), empty_label=_("— choose a session —")
    )
    status = forms.ChoiceField(
        choices=Status.choices,
        initial=Status.NOT_INVITED,
        label=_("With the status"),
        help_text=_("The target session's automation still applies: a full session puts them on its waiting list."),
    )

    def __init__(self, *args, exclude_session_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            LiveSession.objects.exclude(pk__in=exclude_session_ids)
            .exclude(status__in=[LiveSession.Status.CANCELLED, LiveSession.Status.COMPLETED])
            .order_by("starts_at")
        )


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
class SessionLearnerAdmin(admin.ModelAdmin):
    list_display = ["learner_name", "learner_email", "status_badge", "status_changed_at", "session"]
    list_filter = ["status", SessionStatusFilter]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "session__title"]
    list_select_related = ["learner", "session"]
    list_per_page = 100
    fields = ["session", "learner", "status_badge", "created_at", "status_changed_at"]
    readonly_fields = ["session", "learner", "status_badge", "created_at", "status_changed_at"]
    date_hierarchy = "status_changed_at"
    inlines = [StatusChangeInline]
    actions = ["update_status", "send_email", "export_xlsx", "copy_to_session"]
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
                changed = services.set_status(selected, status, actor=request.user)
            except REFUSALS as error:
                messages.error(request, refusal_text(error))
                return self._done(request)
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
            return self._done(request)
        return self._action_page(
            request,
            queryset,
            "update_status",
            _t("Update the status of the selected learners"),
            "update_status.html",
            form=form,
            count=queryset.count(),
        )

    @admin.action(description=_("Send email"), permissions=["send_email"])
    def send_email(self, request, queryset):
        """Seed 003 "Communicate with Learners": choose a type, preview who gets it, edit, send."""
        from .emails import EmailType

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
        messages.success(
            request,
            ngettext(
                "%(n)d of %(total)d learner copied to %(session)s; each one's outcome is listed.",
                "%(n)d of %(total)d learners copied to %(session)s; each one's outcome is listed.",
                len(outcomes),
            )
            % {"n": len(copied), "total": len(outcomes), "session": target},
        )
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


def email_type_descriptions():
    """Each email type with the condition a learner must meet, in words (seed 003 "Email Types")."""
    from .emails import EmailType

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
    form = admin_journey_forms.ParticipationRequestForm

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


# Seed 002 actions (convocation "Notify", survey answers, new dates with confirmation).
from . import admin_journey  # noqa: E402

admin_journey.install(LiveSessionAdmin, SessionLearnerAdmin)
