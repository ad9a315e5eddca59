from django.contrib import admin
from django.http import HttpResponseBadRequest
from django.utils.html import escape

from .parsing import parse_id


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records of what happened (status history, Notify runs and outcomes): nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def refuse_bad_ids(request, *names):
    """A 400 in words when a query-string parameter that names a row is not a row's id, else None.

    Django's admin would otherwise answer a bare "database error" page, or a filter of ours a 500.
    """
    for name in names:
        value = request.GET.get(name)
        if value is not None and parse_id(value) is None:
            return HttpResponseBadRequest(f"“{escape(name)}” must be the number of a record, not “{escape(value)}”.")
    return None
