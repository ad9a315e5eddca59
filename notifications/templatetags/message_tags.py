"""The one tag library message templates may load: `{% load message_tags %}`.

Its filters work on the plain values a message receives (see notifications.variables).
"""

import datetime

from django import template
from django.utils import timezone

from lms_notify import zones

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


@register.filter
def session_time(session):
    """When a session takes place, as its clock reads it and named, plus the reader's own time when hers reads
    otherwise: {{ session|session_time }} → "14 January 2030, 09:00 – 12:00 (Europe/London) —
    04:00 – 07:00 your time (America/New_York)". Empty for anything that is not a session's values."""
    if not isinstance(session, dict) or not isinstance(session.get("starts_at"), datetime.datetime):
        return ""
    ends_at = session.get("ends_at")
    return zones.when(
        session["starts_at"], ends_at if isinstance(ends_at, datetime.datetime) else None, session.get("timezone")
    )


@register.filter
def session_day(session):
    """The session's day as its own calendar reads it: {{ session|session_day }} → "14 January 2030" (a
    subject's or an SMS's date, where the whole time with its zones does not fit). Empty for anything else."""
    if not isinstance(session, dict) or not isinstance(session.get("starts_at"), datetime.datetime):
        return ""
    return zones.day(session["starts_at"], session.get("timezone"))
