"""A look before a mass send: publishing and cancelling a session go through a confirmation page.

The page shows who will get what (counts per channel and language, those omitted and why, one sample message
with its links masked) and writes nothing until the administrator confirms. It posts back a token of what it
showed (`selectors.roster_token`): if the session or its learners changed since, the service refuses and the
page shows the new picture to confirm again. Once confirmed, the messages are the administrator's
(`Origin.ADMIN`): they go at once, not held for confirmation. The session form (status set to Ready or
Cancelled), the list's actions and the pages' buttons all lead here; each checks change_livesession.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.services import Origin

from .. import selectors, services
from ..models import LiveSession
from .common import REFUSALS, SessionStatus, refusal_text, safe_next
from .forms import CancelSessionForm

PUBLISH, CANCEL = "publish", "cancel"


def sending_url(session, what, **query):
    url = reverse(f"admin:live_sessions_livesession_{what}", args=[session.pk])
    return f"{url}?{urlencode(query)}" if query else url


class MassSendPages:
    """The publish and cancel confirmation pages and the actions leading to them (mixed into LiveSessionAdmin)."""

    def sending_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:session_id>/publish/", view(self.publish_view), name="live_sessions_livesession_publish"),
            path("<int:session_id>/cancel/", view(self.cancel_view), name="live_sessions_livesession_cancel"),
        ]

    def _one_session(self, request, queryset, what):
        if queryset.count() != 1:
            self.message_user(
                request,
                _t("Select one session: each shows who will be told before anything is sent."),
                messages.WARNING,
            )
            return None
        return redirect(sending_url(queryset.get(), what, next=request.get_full_path()))

    @admin.action(description=_("Publish (draft to ready): invite their learners"), permissions=["change"])
    def publish_sessions(self, request, queryset):
        """Seed 003 "Not invited -> Invited", after a look at who will be invited."""
        skipped = queryset.exclude(status=SessionStatus.DRAFT).count()
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d session was not a draft and was left as it was.",
                    "%(n)d sessions were not drafts and were left as they were.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )
        drafts = queryset.filter(status=SessionStatus.DRAFT)
        return self._one_session(request, drafts, PUBLISH) if drafts.exists() else None

    @admin.action(description=_("Cancel the session and tell its learners"), permissions=["change"])
    def cancel_sessions(self, request, queryset):
        return self._one_session(request, queryset, CANCEL)

    def _sending_page(self, request, session, *, what, token, lookahead, form=None, error=""):
        back = safe_next(request) or reverse("admin:live_sessions_livesession_change", args=[session.pk])
        title = _t("Publish “%(title)s”") if what == PUBLISH else _t("Cancel “%(title)s”")
        context = {
            **self.admin_site.each_context(request),
            "title": title % {"title": session.title},
            "opts": self.model._meta,
            "original": session,
            "session": session,
            "what": what,
            "lookahead": lookahead,
            "token": token,
            "form": form,
            "error": error,
            "next": safe_next(request),
            "back_url": back,
        }
        return TemplateResponse(request, "admin/live_sessions/livesession/confirm_send.html", context)

    def _session_for_sending(self, request, session_id):
        # Refused before looking the session up: without the permission, no page says which sessions exist.
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(LiveSession, pk=session_id)

    def publish_view(self, request, session_id):
        session = self._session_for_sending(request, session_id)
        back = safe_next(request) or reverse("admin:live_sessions_livesession_change", args=[session.pk])
        if session.status != SessionStatus.DRAFT:
            messages.error(request, _t("Only a draft session can be published."))
            return redirect(back)
        error = ""
        if request.method == "POST" and "confirm" in request.POST:
            lookahead = services.publish_lookahead(session)
            try:
                services.publish(
                    session, actor=request.user, origin=Origin.ADMIN, expected_token=request.POST.get("token", "")
                )
            except REFUSALS as refusal:
                error = refusal_text(refusal)
                session.refresh_from_db()
            else:
                self.log_change(request, session, _t("Published after a look at who would be invited."))
                messages.success(request, _sent_words(_t("Published."), lookahead))
                return redirect(back)
        # The token is read before the look: a change in between makes the confirmation ask again.
        token = selectors.roster_token(session)
        return self._sending_page(
            request, session, what=PUBLISH, token=token, lookahead=services.publish_lookahead(session), error=error
        )

    def cancel_view(self, request, session_id):
        session = self._session_for_sending(request, session_id)
        back = safe_next(request) or reverse("admin:live_sessions_livesession_change", args=[session.pk])
        if session.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            messages.error(request, _t("This session is already cancelled or completed."))
            return redirect(back)
        posted = request.method == "POST"
        form = CancelSessionForm(request.POST if posted else None)
        reason = form.cleaned_data["reason"] if posted and form.is_valid() else ""
        error = ""
        if reason and "confirm" in request.POST:
            lookahead = services.cancel_lookahead(session, reason=reason)
            try:
                services.cancel_session(
                    session,
                    actor=request.user,
                    reason=reason,
                    origin=Origin.ADMIN,
                    expected_token=request.POST.get("token", ""),
                )
            except REFUSALS as refusal:
                error = refusal_text(refusal)
                session.refresh_from_db()
            else:
                self.log_change(request, session, _t("Cancelled: %(reason)s") % {"reason": reason})
                messages.warning(request, _sent_words(_t("Session cancelled: its learners are cancelled."), lookahead))
                return redirect(back)
        token = selectors.roster_token(session)
        return self._sending_page(
            request,
            session,
            what=CANCEL,
            token=token,
            lookahead=services.cancel_lookahead(session, reason=reason),
            form=form,
            error=error,
        )


def _sent_words(done, lookahead):
    sent = ngettext("%(n)d message sent", "%(n)d messages sent", lookahead.going_total) % {"n": lookahead.going_total}
    omitted = ngettext("%(n)d omitted", "%(n)d omitted", lookahead.omitted_total) % {"n": lookahead.omitted_total}
    return f"{done} {sent}, {omitted}."
