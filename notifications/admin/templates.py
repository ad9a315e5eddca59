"""Admin of message templates (validated, with a preview) and notification rules."""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .. import variables, wording
from ..models import Event, MessageTemplate
from ..templating import (
    SAMPLE_TIMEZONE,
    TEMPLATE_PARTS,
    TemplateCache,
    builtin_parts,
    check_template,
    render_parts,
    sample_context,
    template_errors,
)

PREVIEW_TIMEZONES = ["Europe/Paris", "Europe/Warsaw", "Europe/London", "UTC", "America/New_York", "Asia/Tokyo"]


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "language", "subject", "body", "html_body", "sms_body"]
        labels = {
            "event": _("Event"),
            "language": _("Language"),
            "subject": _("Subject"),
            "body": _("Text body"),
            "html_body": _("HTML body"),
            "sms_body": _("SMS text"),
        }
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
        # The subject as a reader sees it: the words TemplateCache picks, rendered with the sample values.
        cache = TemplateCache()
        for event, label in Event.choices:
            if wanted_event and event != wanted_event:
                continue
            for language, language_name in languages:
                row = edited.get((event, language))
                if row is not None:
                    edit_url = reverse("admin:notifications_messagetemplate_change", args=[row.pk])
                    preview_url = reverse("admin:notifications_messagetemplate_preview_row", args=[row.pk])
                else:
                    query = urlencode({"event": event, "language": language})
                    edit_url = reverse("admin:notifications_messagetemplate_add") + "?" + query
                    preview_url = reverse("admin:notifications_messagetemplate_preview") + "?" + query
                rows.append(
                    {
                        "event": event,
                        "label": label,
                        "language": language_name,
                        "subject": _subject_as_read(cache, event, language),
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
            path("live-preview/", view(self.live_preview_view), name="notifications_messagetemplate_live_preview"),
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
            {
                "event": event,
                "label": label,
                "chosen": event == chosen,
                "variables": [
                    (name, description, _insertable(name)) for name, description in variables.variables_of(event)
                ],
            }
            for event, label in events
        ]
        context["preview_languages"] = settings.LANGUAGES
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_changeform_initial_data(self, request):
        """Adding a template for an event starts from its built-in words."""
        initial = super().get_changeform_initial_data(request)
        event, language = initial.get("event"), initial.get("language", "en")
        if event in Event.values:
            for part, source in builtin_parts(event, language).items():
                initial.setdefault(part, source)
        return initial

    def live_preview_view(self, request):
        """The editor's live preview: the unsaved parts POSTed by the form, checked as saving would check
        them (the refusals name their line) and rendered for the sample learner in the chosen language.
        Nothing is written."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"error": str(_("Send the template's parts with POST."))}, status=405)
        event, language = request.POST.get("event", ""), request.POST.get("language", "")
        if event not in Event.values or language not in dict(settings.LANGUAGES):
            return JsonResponse({"error": str(_("Choose an event and a language."))}, status=400)
        parts = {part: request.POST.get(part, "") for part in TEMPLATE_PARTS}
        errors = template_errors(event, language, parts)
        if errors:
            return JsonResponse({"errors": errors})
        try:
            rendered = render_parts(event, language, parts)
        except Exception as exc:  # a preview shows the error, it never crashes
            return JsonResponse({"errors": {"subject": f"{type(exc).__name__}: {exc}"}})
        return JsonResponse(
            {
                "subject": rendered.subject,
                "body": rendered.body,
                "html_body": str(rendered.html_body),
                "sms_body": rendered.sms_body,
            }
        )

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


def _insertable(name):
    """What a variable's chip inserts: the value printed, or a loop over the list it belongs to."""
    if "[]" not in name:
        return "{{ " + name + " }}"
    listed, _sep, inside = name.partition("[]")
    return "{% for item in " + listed + " %}{{ item" + inside + " }}{% endfor %}"


def _subject_as_read(cache, event, language):
    """The subject a learner reading (event, language) gets, rendered with the sample values; the reason in
    words when it does not render (the list never fails for one broken row)."""
    try:
        return cache.render(event, language, sample_context(event, language=language), html=False).subject
    except Exception as exc:  # a saved row that no longer renders is shown as such, not as a 500
        return _("(does not render: %(error)s)") % {"error": exc}


def _effective_parts(event, language):
    """The words TemplateCache would pick for (event, language), and where they come from; None for the
    parts of built-in words (template files, rendered as they are)."""
    words = wording.builtin_words(event, language)
    # As TemplateCache picks them: this language's row, the English row only for a language without words.
    for lang in [language] if words.found == (event, language) else dict.fromkeys([language, "en"]):
        row = MessageTemplate.objects.filter(event=event, language=lang).first()
        if row is not None:
            return {p: getattr(row, p) for p in TEMPLATE_PARTS}, _("edited template [%(lang)s]") % {"lang": lang}
    if words.is_generic:
        return None, _("generic built-in words")
    return None, _("built-in words [%(lang)s]") % {"lang": words.found[1]}


def preview_url(event, language="en", tz=SAMPLE_TIMEZONE):
    return (
        reverse("admin:notifications_messagetemplate_preview")
        + "?"
        + urlencode({"event": event, "language": language, "tz": tz})
    )
