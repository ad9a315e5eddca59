"""Admin actions of the learner's journey (seed 002) on live sessions: convoking registrants ("Notify"),
recording survey answers, asking learners to choose a date, and changing a session's dates with the
administrator's confirmation.

Each action is thin: a confirmation page with a form, then one service call; new dates are confirmed on the
session's own "Change the dates" page (LiveSessionAdmin.change_dates_view), which the action opens. The
admin classes inherit these mixins and name the actions in their `actions`; each keeps its declared
permission.
"""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import services
from ..flow import LiveSessionError
from ..models import LiveSession
from .forms import ConvocationForm, DateChoiceForm


class SessionJourneyActions:
    """Journey actions on live sessions (mixed into LiveSessionAdmin)."""

    @admin.action(description=_("Change the dates and notify the learners"), permissions=["change"])
    def change_dates(self, request, queryset):
        """Seed 002 §IV: opens the session's "Change the dates" page, the one its form leads to as well, where the
        administrator confirms the new dates and may add a message; back to this list afterwards."""
        if queryset.count() != 1:
            self.message_user(request, _("Select one session."), messages.WARNING)
            return None
        url = reverse("admin:live_sessions_livesession_change_dates", args=[queryset.get().pk])
        return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


class LearnerJourneyActions:
    """Journey actions on session learners (mixed into SessionLearnerAdmin)."""

    def _journey_page(self, request, template, **context):
        return TemplateResponse(
            request,
            f"admin/live_sessions/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                "action": request.POST.get("action", ""),
                **context,
            },
        )

    @admin.action(description=_("Notify: convoke the selected registrants"), permissions=["change"])
    def notify_convocation(self, request, queryset):
        """Seed 002 §III-A: the auto-generated convocation, shown and editable, with or without the calendar
        invitation; registered learners only (others are listed as skipped)."""
        session_ids = set(queryset.values_list("session_id", flat=True))
        if len(session_ids) != 1:
            self.message_user(request, _("Select learners of one session at a time."), messages.WARNING)
            return None
        session = LiveSession.objects.get(pk=session_ids.pop())
        if session.status != LiveSession.Status.READY:
            self.message_user(request, _("Only a confirmed (ready) session can be convoked."), messages.WARNING)
            return None
        session_learners = list(queryset.select_related("learner"))
        try:
            preview = services.preview_convocation(session, session_learners)
        except LiveSessionError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return None
        confirming = "confirm" in request.POST
        form = ConvocationForm(
            request.POST if confirming else None,
            initial={"subject": preview.subject_template, "body": preview.body_template, "include_calendar": True},
        )
        if confirming and form.is_valid():
            try:
                result = services.convoke(
                    session,
                    session_learners,
                    actor=request.user,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    include_calendar=form.cleaned_data["include_calendar"],
                )
            except LiveSessionError as exc:
                form.add_error(None, exc)
            else:
                sent = len(result.sent)
                self.message_user(
                    request, ngettext("%d learner convoked.", "%d learners convoked.", sent) % sent, messages.SUCCESS
                )
                for session_learner, reason in result.skipped:
                    self.message_user(request, f"{session_learner.learner.full_name}: {reason}", messages.WARNING)
                return None
        return self._journey_page(
            request,
            "sessionlearner/convocation.html",
            title=_("Convocation to “%(title)s”") % {"title": session.title},
            session=session,
            preview=preview,
            form=form,
        )

    @admin.action(description=_("Ask the selected learners to choose a date"), permissions=["change"])
    def ask_to_choose_a_date(self, request, queryset):
        """Seed 002 §III-B, after a confirmed session: the learners choose one date among this session and others
        ("Request a participation confirmation")."""
        session_ids = set(queryset.values_list("session_id", flat=True))
        if len(session_ids) != 1:
            self.message_user(request, _("Select learners of one session at a time."), messages.WARNING)
            return None
        session = LiveSession.objects.get(pk=session_ids.pop())
        open_sessions = LiveSession.objects.filter(status=LiveSession.Status.READY, starts_at__gt=timezone.now())
        if session.course_id:
            open_sessions = open_sessions.filter(course_id=session.course_id)
        else:
            open_sessions = open_sessions.filter(title=session.title)
        open_sessions = open_sessions.order_by("starts_at")
        confirming = "confirm" in request.POST
        form = DateChoiceForm(
            request.POST if confirming else None,
            sessions=open_sessions,
            initial={"sessions": [s.pk for s in open_sessions]},
        )
        if confirming and form.is_valid():
            offered = list(form.cleaned_data["sessions"])
            asked = 0
            for session_learner in queryset.select_related("learner"):
                try:
                    services.request_participation(session_learner.learner, offered, actor=request.user)
                except LiveSessionError as exc:
                    form.add_error(None, exc)
                    break
                asked += 1
            if not form.errors:
                self.message_user(
                    request,
                    ngettext("%d learner is asked to choose a date.", "%d learners are asked to choose a date.", asked)
                    % asked,
                    messages.SUCCESS,
                )
                return None
        return self._journey_page(
            request,
            "sessionlearner/date_choice.html",
            title=_("Choose a date: “%(title)s”") % {"title": session.title},
            learners=list(queryset.select_related("learner")[:50]),
            form=form,
        )

    @admin.action(description=_("Record that the satisfaction survey was answered"), permissions=["change"])
    def mark_survey_answered(self, request, queryset):
        """Seed 002 §V: an answer received elsewhere; the learner gets no survey reminder any more."""
        recorded = 0
        for session_learner in queryset.filter(feedback_answered_at__isnull=True):
            services.record_feedback(session_learner)
            recorded += 1
        self.message_user(
            request,
            ngettext("%d answer recorded.", "%d answers recorded.", recorded) % recorded,
            messages.SUCCESS,
        )
