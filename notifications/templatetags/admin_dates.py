"""`{{ value|moment }}`: lms_notify.dates.moment in templates."""

from django import template

from lms_notify.dates import moment as _moment

register = template.Library()


@register.filter
def moment(value):
    return _moment(value)
