"""Consent in the learners admin (seed 004: consent "marked on the platform"): the "Record consent"
action for one or many learners, and the learner page's read-only history. Writes go through
learners.services.record_consent."""

from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import ConsentRecord


class LearnerConsentInline(admin.TabularInline):
    """When and how consent was given or withdrawn (seed 004); recorded with the "Record consent" action."""

    model = ConsentRecord
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "given", "source", "note", "recorded_by", "recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "learner")


class ConsentForm(forms.Form):
    given = forms.TypedChoiceField(
        label=_("Consent"),
        choices=[("yes", _("Given")), ("no", _("Withdrawn"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
        help_text=_("Withdrawing it cancels the messages still waiting to be sent to these learners."),
    )
    on = forms.DateField(
        label=_("Date"),
        help_text=_("The day the learner signed or said so."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    source = forms.ChoiceField(label=_("How"), choices=ConsentRecord.Source.choices, initial="paper_form")
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return on

    def moment(self):
        """The chosen day at noon in the user's time zone: the same calendar day wherever it is read."""
        return timezone.make_aware(datetime.combine(self.cleaned_data["on"], time(12)))


@admin.action(description=_("Record consent"), permissions=["change"])
def record_consent(modeladmin, request, queryset):
    """Seed 004: consent given or withdrawn, with its date and how we know, for one or many learners."""
    form = ConsentForm(request.POST if "confirm" in request.POST else None, initial={"on": timezone.localdate()})
    if "confirm" not in request.POST or not form.is_valid():
        return TemplateResponse(
            request,
            "admin/learners/learner/record_consent.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": _("Record consent"),
                "opts": modeladmin.model._meta,
                "learners": queryset[:50],
                "count": queryset.count(),
                "form": form,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            },
        )
    given = form.cleaned_data["given"]
    count = services.record_consent(
        queryset,
        given=given,
        at=form.moment(),
        source=form.cleaned_data["source"],
        actor=request.user,
        note=form.cleaned_data["note"],
    )
    if given:
        message = ngettext("Consent recorded for %d learner.", "Consent recorded for %d learners.", count) % count
    else:
        message = (
            ngettext(
                "Consent withdrawn for %d learner: what was waiting for them is cancelled.",
                "Consent withdrawn for %d learners: what was waiting for them is cancelled.",
                count,
            )
            % count
        )
    modeladmin.message_user(request, message, messages.SUCCESS)
    return None
