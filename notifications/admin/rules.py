"""Admin of notification rules and of the confirmation setting of each channel (seeds 001, 004).

The rule form offers only the recipients and timings that fit the chosen event, from its declaration
(notifications.registry): the page hides the others as the event changes, and the server refuses them.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import registry, rules
from ..door import set_channel_confirmation
from ..models import Channel, ChannelSetting, NotificationRule
from ..triggers import date_trigger

_RECIPIENT_FIELDS = {kind: f"notify_{kind}" for kind in registry.RECIPIENT_KINDS}


def what_fits() -> dict:
    """For each event: the recipient fields and timings a rule of it may use (read by the page's script)."""
    fits = {}
    for code, declaration in registry.declarations().items():
        trigger = date_trigger(code)
        kinds = declaration.readers or frozenset((registry.LEARNER,))
        fits[code] = {
            "recipients": [field for kind, field in _RECIPIENT_FIELDS.items() if kind in kinds],
            "timings": list(trigger.timings) if trigger is not None else [NotificationRule.Timing.ON_EVENT],
        }
    return fits


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
            "notify_trainers",
            "timing",
            "offset_days",
            "requires_confirmation",
        ]

    class Media:
        js = ("notifications/rule_form.js",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "event" in self.fields:
            self.fields["event"].widget.attrs["data-fits"] = json.dumps(what_fits())

    def clean_channels(self):
        chosen = set(self.cleaned_data.get("channels") or [])
        unknown = chosen - set(Channel.values)
        if unknown:
            raise forms.ValidationError(_("Unknown channel: %(c)s.") % {"c": ", ".join(sorted(unknown))})
        return [c for c in Channel.values if c in chosen]

    def clean(self):
        cleaned = super().clean()
        self._refuse_what_does_not_fit(cleaned)
        timing, offset = cleaned.get("timing"), cleaned.get("offset_days")
        if timing is None or offset is None:
            return cleaned
        if timing == NotificationRule.Timing.ON_EVENT and offset > 0:
            self.add_error("offset_days", _("A number of days only applies to “days before” or “days after”."))
        if timing != NotificationRule.Timing.ON_EVENT and offset == 0:
            self.add_error("offset_days", _("Give a number of days (1 or more) before or after the event."))
        return cleaned

    def _refuse_what_does_not_fit(self, cleaned):
        """No trainers on a program event, no "3 days before" on "program assigned"."""
        fits = what_fits().get(cleaned.get("event") or "")
        if fits is None:
            return
        for field in _RECIPIENT_FIELDS.values():
            if cleaned.get(field) and field not in fits["recipients"] and field in self.fields:
                self.add_error(
                    field, _("This event cannot reach “%(who)s”.") % {"who": self.fields[field].label.lower()}
                )
        timing = cleaned.get("timing")
        if timing and timing not in fits["timings"]:
            labels = dict(NotificationRule.Timing.choices)
            self.add_error(
                "timing",
                _("“%(timing)s” is not possible for this event; choose %(allowed)s.")
                % {"timing": labels.get(timing, timing), "allowed": ", ".join(str(labels[t]) for t in fits["timings"])},
            )


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
        (
            _("Recipients"),
            {
                "fields": (
                    "notify_learner",
                    "notify_manager",
                    "notify_site_admins",
                    "notify_guardians",
                    "notify_trainers",
                )
            },
        ),
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


@admin.register(ChannelSetting)
class ChannelSettingAdmin(admin.ModelAdmin):
    """Seed 004: per channel, whether the system's own messages of an event without a rule wait for confirmation.
    Both rows exist from the start (migration); an administrator only switches them."""

    list_display = ("channel", "requires_confirmation", "updated_by", "updated_at")
    list_editable = ("requires_confirmation",)
    fields = ("channel", "requires_confirmation", "updated_by", "updated_at")
    readonly_fields = ("channel", "updated_by", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        set_channel_confirmation(obj.channel, required=obj.requires_confirmation, actor=request.user)
        if not obj.requires_confirmation:
            self.message_user(
                request,
                _(
                    "%(channel)s: the system's own messages now go out automatically. Messages already waiting "
                    "stay in the list of messages awaiting confirmation."
                )
                % {"channel": obj.get_channel_display()},
                messages.INFO,
            )
