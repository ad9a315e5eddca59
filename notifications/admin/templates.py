"""Admin of message templates (validated, with a preview) and notification rules."""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import rules, variables, wording
from ..models import Channel, Event, MessageTemplate, NotificationRule
from ..templating import (
    SAMPLE_TIMEZONE,
    TEMPLATE_PARTS,
    TemplateCache,
    builtin_parts,
    check_template,
    render_parts,
    sample_context,
)
from ..triggers import date_trigger

PREVIEW_TIMEZONES = ["Europe/Paris", "Europe/Warsaw", "Europe/London", "UTC", "America/New_York", "Asia/Tokyo"]


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "language", "subject", "body", "html_body", "sms_body"]
        labels = {"body": _("Text body"), "html_body": _("HTML body"), "sms_body": _("SMS text")}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 14, "cols": 100}),
            "html_body": forms.Textarea(attrs={"rows": 10, "cols": 100}),
            "sms_body": forms.Textarea(attrs={"rows": 3, "cols": 100}),
        }

    def clean(self):
        cleaned = super().clean()
        event, language = cleaned.get("event"), cleaned.get("language")
        if not event or not language:
            return cleaned
        # Rendered against sample data now, so a broken template is refused
        # here instead of failing every message of the event later: the one
        # check of every text written for messages (live-session emails too).
        try:
            check_template(event=event, language=language, parts=cleaned)
        except ValidationError as refused:
            self.add_error(None, refused)
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("event", "language", "subject", "updated_at", "preview_link")
    list_filter = ("language", "event")
    search_fields = ("event", "subject", "body")
    ordering = ("event", "language")
    change_form_template = "admin/notifications/messagetemplate/change_form.html"
    change_list_template = "admin/notifications/messagetemplate/change_list.html"

    @admin.display(description=_("Preview"))
    def preview_link(self, obj):
        url = reverse("admin:notifications_messagetemplate_preview_row", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview"))

    def changelist_view(self, request, extra_context=None):
        """Every event in every language with the words a recipient gets today: an administrator's edit or the
        built-in words. "Edit" opens the edited row, or a new one filled with the built-in words."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        languages = settings.LANGUAGES
        edited = {(row.event, row.language): row for row in MessageTemplate.objects.all()}
        wanted_event = request.GET.get("event", "")
        rows = []
        for event, label in Event.choices:
            if wanted_event and event != wanted_event:
                continue
            for language, language_name in languages:
                row = edited.get((event, language))
                if row is not None:
                    subject = row.subject
                    edit_url = reverse("admin:notifications_messagetemplate_change", args=[row.pk])
                    preview_url = reverse("admin:notifications_messagetemplate_preview_row", args=[row.pk])
                else:
                    subject = _builtin_subject(event, language)
                    query = urlencode({"event": event, "language": language})
                    edit_url = reverse("admin:notifications_messagetemplate_add") + "?" + query
                    preview_url = reverse("admin:notifications_messagetemplate_preview") + "?" + query
                rows.append(
                    {
                        "event": event,
                        "label": label,
                        "language": language_name,
                        "subject": subject,
                        "edited": row,
                        "edit_url": edit_url,
                        "preview_url": preview_url,
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Message templates"),
            "rows": rows,
            "events": Event.choices,
            "wanted_event": wanted_event,
            "can_edit": self.has_add_permission(request) and self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/notifications/messagetemplate/words_list.html", context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("preview/", view(self.preview_view), name="notifications_messagetemplate_preview"),
            path("<int:pk>/preview/", view(self.preview_view), name="notifications_messagetemplate_preview_row"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """Beside the form: the values each event offers its templates, the chosen event's first."""
        form = context.get("adminform").form if context.get("adminform") else None
        chosen = (form.data.get("event") if form is not None and form.is_bound else None) or (
            obj.event if obj is not None else (form.initial.get("event") if form is not None else None)
        )
        events = sorted(Event.choices, key=lambda choice: choice[0] != chosen)
        context["event_variables"] = [
            {"event": event, "label": label, "chosen": event == chosen, "variables": variables.variables_of(event)}
            for event, label in events
        ]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_changeform_initial_data(self, request):
        """Adding a template for an event starts from its built-in words."""
        initial = super().get_changeform_initial_data(request)
        event, language = initial.get("event"), initial.get("language", "en")
        if event in Event.values:
            for part, source in builtin_parts(event, language).items():
                initial.setdefault(part, source)
        return initial

    def preview_view(self, request, pk=None):
        """Subject, text and HTML rendered against sample data in a language and time zone.

        With a pk: that row's words. Without: what a recipient would really
        get for (event, language), after the fallbacks.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = get_object_or_404(MessageTemplate, pk=pk) if pk is not None else None
        event = row.event if row else request.GET.get("event") or Event.values[0]
        if event not in Event.values:
            event = Event.values[0]
        languages = [code for code, _name in settings.LANGUAGES]
        language = request.GET.get("language") or (row.language if row else "en")
        language = language if language in languages else "en"
        tz = request.GET.get("tz") or SAMPLE_TIMEZONE
        tz = tz if tz in zoneinfo.available_timezones() else SAMPLE_TIMEZONE
        if row is not None:
            parts, source = {p: getattr(row, p) for p in TEMPLATE_PARTS}, _("this template")
        else:
            parts, source = _effective_parts(event, language)
        rendered, error = None, ""
        try:
            if parts is None:  # the built-in words, rendered exactly as a message would be
                rendered = TemplateCache().render(event, language, sample_context(event, language=language), tz=tz)
            else:
                rendered = render_parts(event, language, parts, tz=tz)
        except Exception as exc:  # a preview shows the error, it never crashes
            error = f"{type(exc).__name__}: {exc}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Preview: %(event)s [%(language)s]") % {"event": Event(event).label, "language": language},
            "row": row,
            "event": event,
            "events": Event.choices,
            "language": language,
            "languages": settings.LANGUAGES,
            "tz": tz,
            "timezones": PREVIEW_TIMEZONES if tz in PREVIEW_TIMEZONES else [tz, *PREVIEW_TIMEZONES],
            "source": source,
            "rendered": rendered,
            "error": error,
        }
        return TemplateResponse(request, "admin/notifications/messagetemplate/preview.html", context)


def _builtin_subject(event, language):
    """The subject of the built-in words of (event, language), English when the language has none."""
    return wording.builtin_words(event, language).source("subject")


def _effective_parts(event, language):
    """The words TemplateCache would pick for (event, language), and where they come from; None for the
    parts of built-in words (template files, rendered as they are)."""
    for lang in dict.fromkeys([language, "en"]):
        row = MessageTemplate.objects.filter(event=event, language=lang).first()
        if row is not None:
            return {p: getattr(row, p) for p in TEMPLATE_PARTS}, _("edited template [%(lang)s]") % {"lang": lang}
    words = wording.builtin_words(event, language)
    if words.is_generic:
        return None, _("generic built-in words")
    return None, _("built-in words [%(lang)s]") % {"lang": words.found[1]}


class NotificationRuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("No channel: the event stays silent."),
    )

    class Meta:
        model = NotificationRule
        fields = [
            "name",
            "event",
            "program",
            "is_enabled",
            "channels",
            "notify_learner",
            "notify_manager",
            "notify_site_admins",
            "notify_guardians",
            "timing",
            "offset_days",
            "requires_confirmation",
        ]

    def clean_channels(self):
        chosen = set(self.cleaned_data.get("channels") or [])
        unknown = chosen - set(Channel.values)
        if unknown:
            raise forms.ValidationError(_("Unknown channel: %(c)s.") % {"c": ", ".join(sorted(unknown))})
        return [c for c in Channel.values if c in chosen]

    def clean(self):
        cleaned = super().clean()
        timing, offset = cleaned.get("timing"), cleaned.get("offset_days")
        if timing is None or offset is None:
            return cleaned
        if timing == NotificationRule.Timing.ON_EVENT and offset > 0:
            self.add_error("offset_days", _("A number of days only applies to “days before” or “days after”."))
        if timing != NotificationRule.Timing.ON_EVENT and offset == 0:
            self.add_error("offset_days", _("Give a number of days (1 or more) before or after the event."))
        trigger = date_trigger(cleaned.get("event") or "")
        if trigger is not None and timing not in trigger.timings:
            labels = dict(NotificationRule.Timing.choices)
            self.add_error(
                "timing",
                _("“%(timing)s” is not possible for this event; choose %(allowed)s.")
                % {"timing": labels.get(timing, timing), "allowed": ", ".join(str(labels[t]) for t in trigger.timings)},
            )
        return cleaned


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    form = NotificationRuleForm
    # "When, to whom, how" says timing, recipients, channels and confirmation in one sentence: no column each.
    list_display = ("event", "is_enabled", "in_words", "program", "preview_link", "active_since")
    list_display_links = ("event",)
    list_editable = ("is_enabled",)
    list_filter = ("is_enabled", "event", "timing", "requires_confirmation", "notify_manager", "program")
    search_fields = ("name", "event", "program__title")
    list_select_related = ("program",)
    readonly_fields = ("active_since", "created_at", "updated_at")
    actions = ["enable_rules", "disable_rules"]
    fieldsets = (
        (None, {"fields": ("name", "event", "program", "is_enabled", "channels")}),
        (_("Recipients"), {"fields": ("notify_learner", "notify_manager", "notify_site_admins", "notify_guardians")}),
        (_("Timing"), {"fields": ("timing", "offset_days", "requires_confirmation")}),
        (_("History"), {"fields": ("active_since", "created_at", "updated_at")}),
    )

    change_list_template = "admin/notifications/notificationrule/change_list.html"

    @admin.display(description=_("When, to whom, how"))
    def in_words(self, obj):
        return rules.describe_rule(obj)

    @admin.display(description=_("Preview"))
    def preview_link(self, obj):
        if date_trigger(obj.event) is None:
            return "—"
        url = reverse("admin:notifications_notificationrule_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("next 30 days"))

    def get_urls(self):
        own = [
            path(
                "events/",
                self.admin_site.admin_view(self.events_view),
                name="notifications_notificationrule_events",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="notifications_notificationrule_preview",
            ),
        ]
        return own + super().get_urls()

    def events_view(self, request):
        """Every event of the catalogue with its rules, or "no rule: not sent"."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        states = rules.event_states()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Events and their rules"),
            "opts": self.model._meta,
            "states": [
                {"state": state, "rules": [(rule, rules.describe_rule(rule)) for rule in state.rules]}
                for state in states
            ],
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/notifications/notificationrule/events.html", context)

    def preview_view(self, request, pk):
        """What a rule would create in the next 30 days, and for whom; nothing is written."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rule = get_object_or_404(NotificationRule.objects.select_related("program"), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(rule)s") % {"rule": rule},
            "opts": self.model._meta,
            "rule": rule,
            "in_words": rules.describe_rule(rule),
            "problem": rule.timing_problem(),
        }
        context["preview"] = None if context["problem"] else rules.preview_rule(rule)
        return TemplateResponse(request, "admin/notifications/notificationrule/preview.html", context)

    @admin.display(description=_("Channels"))
    def channel_list(self, obj):
        labels = dict(Channel.choices)
        return ", ".join(str(labels.get(c, c)) for c in obj.channels) or "—"

    def save_model(self, request, obj, form, change):
        was = obj.active_since
        rules.save_rule(obj, actor=request.user)
        if change and obj.active_since != was:
            self.message_user(
                request,
                _("“%(rule)s” only fires for dates from now on: past occurrences are not sent.") % {"rule": obj},
                messages.INFO,
            )

    @admin.action(description=_("Enable selected rules (from now on)"), permissions=["change"])
    def enable_rules(self, request, queryset):
        count = rules.set_rules_enabled(queryset, enabled=True, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%d rule enabled; it fires for dates from now on.", "%d rules enabled; they fire from now on.", count
            )
            % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Disable selected rules"), permissions=["change"])
    def disable_rules(self, request, queryset):
        count = rules.set_rules_enabled(queryset, enabled=False, actor=request.user)
        self.message_user(request, ngettext("%d rule disabled.", "%d rules disabled.", count) % count, messages.SUCCESS)


def preview_url(event, language="en", tz=SAMPLE_TIMEZONE):
    return (
        reverse("admin:notifications_messagetemplate_preview")
        + "?"
        + urlencode({"event": event, "language": language, "tz": tz})
    )
