"""Admin of the outbox: see every message, why it was not sent, and act on it."""

import json

from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lms_notify.admin_base import refuse_bad_ids
from lms_notify.dates import moment
from lms_notify.parsing import parse_id

from .. import services
from ..links import mask_links
from ..models import Notification, NotifyOutcome, NotifyRun
from ..outbox.enqueue import TEMPLATE_FALLBACK
from ..reasons import reason_in_words
from .send_errors import explain_send_error


class DeliveryStateFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("retrying", _("Retrying after an error")), ("in_flight", _("Being sent now"))]

    def queryset(self, request, queryset):
        if self.value() == "retrying":
            return queryset.filter(status=Notification.Status.QUEUED).exclude(last_error="")
        if self.value() == "in_flight":
            return queryset.filter(status=Notification.Status.QUEUED, claimed_until__gt=timezone.now())
        return queryset


class NotifyRunFilter(admin.SimpleListFilter):
    """Messages of one Notify run; its omitted learners have no message, so the run's own page lists them."""

    title = _("Notify run")
    parameter_name = "notify_run"

    def lookups(self, request, model_admin):
        return [(run.pk, str(run)) for run in NotifyRun.objects.order_by("-created_at")[:10]]

    def queryset(self, request, queryset):
        run_id = parse_id(self.value())
        if run_id is None:
            return queryset
        sent = NotifyOutcome.objects.filter(run_id=run_id).exclude(notification=None)
        return queryset.filter(pk__in=sent.values("notification"))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event", "channel", "recipient_and_address", "status_in_words", "sent_at")
    list_filter = (
        "status",
        "channel",
        "event",
        ("created_at", admin.DateFieldListFilter),
        DeliveryStateFilter,
        NotifyRunFilter,
    )
    search_fields = (
        "to",
        "subject",
        "dedupe_key",
        "recipient_learner__first_name",
        "recipient_learner__last_name",
        "recipient_learner__email",
        "recipient_guardian__name",
    )
    list_select_related = ("recipient_learner", "recipient_guardian", "recipient_user")
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False
    actions = ("retry_now", "confirm_and_send", "cancel")
    change_list_template = "admin/notifications/notification/change_list.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "recipient_link",
                    "channel",
                    "to",
                    "language_name",
                    "status_in_words",
                    "error_in_words",
                    "why_sent",
                    # What the provider or the receiving server said.
                    "delivery",
                    "delivery_at",
                )
            },
        ),
        (_("The message"), {"fields": ("subject_text", "message_body", "template_fallback", "attachment_names")}),
        (_("History"), {"fields": ("history",)}),
        (
            _("Technical details"),
            {
                "classes": ("collapse",),
                "fields": (
                    "event_code",
                    "dedupe_key",
                    "message_id",
                    "context_json",
                    "next_attempt_at",
                    "claimed_until",
                    "text_body",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # The outbox is an audit trail: it is changed only through the actions.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_confirm_permission(self, request):
        return request.user.has_perm("notifications.confirm_notification")

    def changelist_view(self, request, extra_context=None):
        return refuse_bad_ids(request, NotifyRunFilter.parameter_name) or super().changelist_view(
            request, extra_context
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("recipient_guardian__learner", "rule", "created_by", "confirmed_by")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing on this page is edited (the actions of the list act): no Save buttons, only Close.
        extra_context = {
            "title": _("Message"),
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- list columns ---------------------------------------------------------------

    @admin.display(description=_("Recipient"), ordering="recipient_learner__last_name")
    def recipient_and_address(self, obj):
        return format_html('{}<br><span class="quiet">{}</span>', obj.recipient_display, obj.to or "—")

    @admin.display(description=_("Status"), ordering="status")
    def status_in_words(self, obj):
        label = obj.get_status_display()
        if obj.status in (Notification.Status.OMITTED, Notification.Status.CANCELLED) and obj.reason:
            return format_html("{}: {}", label, reason_in_words(obj.reason))
        if obj.status == Notification.Status.FAILED and obj.last_error:
            error = explain_send_error(obj.last_error) or Truncator(mask_links(obj.last_error)).chars(80)
            return format_html('{}<br><span class="quiet">{}</span>', label, error)
        if obj.status == Notification.Status.QUEUED and obj.last_error:
            error = mask_links(obj.last_error)[:80]
            return format_html('{}<br><span class="quiet">{}</span>', _("Retrying after an error"), error)
        return label

    # --- page fields ----------------------------------------------------------------

    @admin.display(description=_("Error"))
    def error_in_words(self, obj):
        """What went wrong, in words, with the server's own text kept in a details section."""
        if not obj.last_error:
            return "—"
        raw = mask_links(obj.last_error)
        return format_html(
            "{}<details><summary>{}</summary><pre style='white-space:pre-wrap'>{}</pre></details>",
            explain_send_error(obj.last_error) or _("the server's answer is below"),
            _("The server's exact answer"),
            raw,
        )

    @admin.display(description=_("Recipient"))
    def recipient_link(self, obj):
        if obj.recipient_guardian_id:
            url = reverse("admin:learners_guardian_change", args=[obj.recipient_guardian_id])
        elif obj.recipient_learner_id:
            url = reverse("admin:learners_learner_change", args=[obj.recipient_learner_id])
        else:
            return obj.recipient_display
        return format_html('<a href="{}">{}</a>', url, obj.recipient_display)

    @admin.display(description=_("Language"))
    def language_name(self, obj):
        return dict(settings.LANGUAGES).get(obj.language, obj.language)

    @admin.display(description=_("Why it was sent"))
    def why_sent(self, obj):
        event = obj.get_event_display()
        outcome = NotifyOutcome.objects.filter(notification=obj).select_related("run").first()
        if outcome is not None:
            url = reverse("admin:notifications_notifyrun_change", args=[outcome.run_id])
            return format_html('{} — <a href="{}">{}</a>', event, url, _("a click of a Notify button"))
        if obj.rule_id:
            url = reverse("admin:notifications_notificationrule_change", args=[obj.rule_id])
            return format_html('{} — {} <a href="{}">{}</a>', event, _("rule"), url, obj.rule)
        if obj.created_by_id:
            return format_html("{} — {} {}", event, _("by"), obj.created_by.get_full_name() or obj.created_by)
        return event

    # Every part of a message staff can read shows its links masked (mask_links): a link is the
    # recipient's bearer token, and anyone who may view messages (the Notifier group too) is not its recipient.

    @admin.display(description=_("Subject"))
    def subject_text(self, obj):
        return mask_links(obj.subject)

    @admin.display(description=_("Edited template"))
    def template_fallback(self, obj):
        """The administrator's template failed for this message and the built-in words went instead."""
        note = (obj.context or {}).get(TEMPLATE_FALLBACK) if isinstance(obj.context, dict) else None
        return note or "—"

    @admin.display(description=_("Message"))
    def message_body(self, obj):
        if obj.html_body:
            # Sandboxed: the body is rendered from editable templates.
            return format_html(
                '<iframe sandbox srcdoc="{}" style="width:100%;min-width:36em;height:24em;border:1px solid #ccc">'
                "</iframe>",
                mask_links(obj.html_body),
            )
        return format_html('<div style="white-space:pre-line;max-width:48em">{}</div>', mask_links(obj.body) or "—")

    @admin.display(description=_("Text version"))
    def text_body(self, obj):
        return format_html('<div style="white-space:pre-line">{}</div>', mask_links(obj.body) or "—")

    @admin.display(description=_("Attachments"))
    def attachment_names(self, obj):
        names = [f"{a.get('filename', '?')} ({a.get('mimetype', '?')})" for a in obj.attachments or []]
        return ", ".join(names) or "—"

    @admin.display(description=_("Steps"))
    def history(self, obj):
        def when(value):
            return moment(value)

        def who(user):
            return (user.get_full_name() or user.get_username()) if user else ""

        steps = [(obj.created_at, _("Created") + (f" ({who(obj.created_by)})" if obj.created_by_id else ""))]
        if obj.confirmed_at:
            steps.append((obj.confirmed_at, _("Confirmed by %(name)s") % {"name": who(obj.confirmed_by)}))
        if obj.last_attempt_at:
            attempts = ngettext("%(count)d attempt to send", "%(count)d attempts to send", obj.attempts) % {
                "count": obj.attempts
            }
            error = f" — {mask_links(obj.last_error)}" if obj.last_error else ""
            steps.append((obj.last_attempt_at, _("Last attempt") + f" ({attempts}){error}"))
        if obj.sent_at:
            steps.append((obj.sent_at, _("Sent")))
        if obj.read_at:
            steps.append((obj.read_at, _("Read by the recipient")))
        if obj.status in (Notification.Status.OMITTED, Notification.Status.CANCELLED, Notification.Status.FAILED):
            reason = reason_in_words(obj.reason) or mask_links(obj.last_error)
            steps.append((None, f"{obj.get_status_display()}: {reason}" if reason else obj.get_status_display()))
        if obj.status == Notification.Status.AWAITING_CONFIRMATION:
            steps.append((None, _("Waiting for an administrator to confirm it (action “Confirm and send”)")))
        return format_html(
            "<ul style='margin:0;padding-left:1.2em'>{}</ul>",
            format_html_join("", "<li>{}{}</li>", ((f"{when(at)} — " if at else "", text) for at, text in steps)),
        )

    @admin.display(description=_("Event (code)"))
    def event_code(self, obj):
        return obj.event

    @admin.display(description=_("Template values"))
    def context_json(self, obj):
        values = json.dumps(obj.context, indent=2, default=str)
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", mask_links(values))

    @admin.display(description=_("Message-ID"))
    def message_id(self, obj):
        return obj.message_id

    def _apply(self, request, queryset, service, done_text, skipped_text):
        """Run one service over the selection and say how many it did and how many it skipped.
        `done_text` and `skipped_text` are (singular, plural) pairs with %(count)d."""
        total = queryset.count()
        done = service(list(queryset.values_list("pk", flat=True)), actor=request.user)
        for count, (singular, plural), level in (
            (done, done_text, messages.SUCCESS),
            (total - done, skipped_text, messages.WARNING),
        ):
            if count:
                self.message_user(request, ngettext(singular, plural, count) % {"count": count}, level)

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.retry_now,
            ("%(count)d message queued to be sent now.", "%(count)d messages queued to be sent now."),
            (
                "%(count)d message skipped: only failed or queued messages not being sent right now can be retried.",
                "%(count)d messages skipped: only failed or queued messages not being sent right now can be retried.",
            ),
        )

    @admin.action(description=_("Confirm and send"), permissions=["confirm"])
    def confirm_and_send(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.confirm,
            ("%(count)d message confirmed and queued.", "%(count)d messages confirmed and queued."),
            (
                "%(count)d message skipped: it was not awaiting confirmation.",
                "%(count)d messages skipped: they were not awaiting confirmation.",
            ),
        )

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.cancel,
            ("%(count)d message cancelled.", "%(count)d messages cancelled."),
            (
                "%(count)d message skipped: already sent, failed, cancelled or being sent right now.",
                "%(count)d messages skipped: already sent, failed, cancelled or being sent right now.",
            ),
        )
