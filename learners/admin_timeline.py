"""The learner's timeline page in the admin: one list of everything the product did, or chose
not to do, for her, filterable and paginated. The page only parses the filters and calls learners.timeline.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from lms_notify.parsing import parse_id
from lms_notify.timeline import Filters
from notifications.models import Channel, Notification

from .timeline import kinds_for, learner_timeline

EVERYTHING = [("", _("All"))]


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=EVERYTHING + Channel.choices)
    status = forms.ChoiceField(
        label=_("Message status"), required=False, choices=EVERYTHING + Notification.Status.choices
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = EVERYTHING + kinds

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start of the period comes after its end."))
        return data

    def filters(self) -> Filters:
        return Filters(**{name: value for name, value in self.cleaned_data.items() if value})


class LearnerTimelineMixin:
    """Adds the timeline page to LearnerAdmin: /admin/learners/learner/<id>/timeline/."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.timeline_view)
        return [path("<path:object_id>/timeline/", view, name="learners_learner_timeline"), *super().get_urls()]

    def timeline_view(self, request, object_id):
        learner_id = parse_id(object_id)
        learner = self.get_queryset(request).filter(pk=learner_id).first() if learner_id else None
        if not self.has_view_permission(request, learner):
            raise PermissionDenied
        if learner is None:
            raise Http404(_("No learner with this number."))
        form = TimelineFilterForm(request.GET, kinds=kinds_for(request.user))
        if form.is_valid():
            filters = form.filters()
        else:
            filters = Filters()
            messages.error(request, _("The filter was not applied: correct it and filter again."))
        page = learner_timeline(
            learner=learner, user=request.user, filters=filters, page=parse_id(request.GET.get("page")) or 1
        )
        kept = {name: value for name, value in request.GET.items() if name != "page" and form.is_valid()}
        context = {
            **self.admin_site.each_context(request),
            "title": _("Timeline of %(name)s") % {"name": learner.full_name},
            "subtitle": None,
            "opts": self.model._meta,
            "original": learner,
            "learner": learner,
            "form": form,
            "page": page,
            "filtered": filters != Filters(),
            "page_query": urlencode(kept) + ("&" if kept else ""),
        }
        return TemplateResponse(request, "admin/learners/learner/timeline.html", context)
