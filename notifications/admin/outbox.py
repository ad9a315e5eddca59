"""Admin of the outbox: see every message, why it was not sent, and act on it."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import services
from ..models import Notification


class DeliveryStateFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("retrying", _("Retrying after an error")), ("in_flight", _("Being sent now"))]

    def queryset(self, request, queryset):
        from django.utils import timezone

        if self.value() == "retrying":
            return queryset.filter(status=Notification.Status.QUEUED).exclude(last_error="")
        if self.value() == "in_flight":
            return queryset.filter(status=Notification.Status.QUEUED, claimed_until__gt=timezone.now())
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "channel",
        "recipient",
        "to",
        "status",
        "reason",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "event", ("created_at", admin.DateFieldListFilter), DeliveryStateFilter)
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
    fieldsets = (
        (None, {"fields": ("event", "channel", "status", "reason", "recipient", "to", "language")}),
        (_("Content"), {"fields": ("subject", "body", "html_preview", "attachment_names", "context")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "created_at",
                    "created_by",
                    "rule",
                    "confirmed_by",
                    "confirmed_at",
                    "next_attempt_at",
                    "claimed_until",
                    "attempts",
                    "last_attempt_at",
                    "last_error",
                    "sent_at",
                    "read_at",
                    "message_id",
                    "dedupe_key",
                )
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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient_guardian__learner")

    @admin.display(description=_("Recipient"))
    def recipient(self, obj):
        return obj.recipient_display

    @admin.display(description=_("HTML version"))
    def html_preview(self, obj):
        if not obj.html_body:
            return "—"
        # Sandboxed: the body is rendered from editable templates.
        return format_html(
            '<iframe sandbox srcdoc="{}" style="width:100%;height:20em;border:1px solid #ccc"></iframe>', obj.html_body
        )

    @admin.display(description=_("Attachments"))
    def attachment_names(self, obj):
        names = [f"{a.get('filename', '?')} ({a.get('mimetype', '?')})" for a in obj.attachments or []]
        return ", ".join(names) or "—"

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
