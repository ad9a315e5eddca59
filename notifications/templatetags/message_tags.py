"""The one tag library message templates may load: `{% load message_tags %}`.

Its filters work on the plain values a message receives (see notifications.variables).
"""

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def days_until(value):
    """Whole days from today to a date, in the reader's time zone: {{ expires_at|days_until }} → 12.

    Empty when there is no date; negative once the date has passed.
    """
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if not isinstance(value, datetime.date):
        return ""
    return (value - timezone.localdate()).days
