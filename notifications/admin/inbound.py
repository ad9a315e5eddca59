"""Admin of mail that came back: "Inbound mail" (read-only) and the undeliverable addresses."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..inbound import marks
from ..models import InboundMessage, UndeliverableAddress


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "kind", "result", "sender", "subject", "outcome_short")
    list_filter = ("kind", "result", "source", ("received_at", admin.DateFieldListFilter))
    search_fields = ("sender", "subject", "message_id", "outcome", "learner__email")
    list_select_related = ("learner",)
    date_hierarchy = "received_at"
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "received_at",
        "source",
        "sender",
        "subject",
        "message_id",
        "kind",
        "result",
        "outcome",
        "learner",
        "notification",
        "reference",
        "sequence",
        "stamped_at",
        "size",
    )
    readonly_fields = fields

    @admin.display(description=_("what it did"))
    def outcome_short(self, obj):
        return obj.outcome if len(obj.outcome) <= 120 else obj.outcome[:119] + "…"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UndeliverableAddress)
class UndeliverableAddressAdmin(admin.ModelAdmin):
    list_display = ("address", "learner", "cause", "status_code", "marked_at")
    list_filter = ("cause", ("marked_at", admin.DateFieldListFilter))
    search_fields = ("address", "learner__first_name", "learner__last_name", "diagnostic")
    list_select_related = ("learner",)
    fields = ("address", "learner", "cause", "status_code", "diagnostic", "notification", "inbound", "marked_at")
    readonly_fields = fields
    actions = ("clear_marks",)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Clear: send to these addresses again"), permissions=["delete"])
    def clear_marks(self, request, queryset):
        count = marks.clear(list(queryset))
        self.message_user(
            request,
            ngettext("%(count)d address cleared.", "%(count)d addresses cleared.", count) % {"count": count},
            messages.SUCCESS,
        )
