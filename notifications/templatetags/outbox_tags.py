"""Filters of admin pages that show messages: `{% load outbox_tags %}` (not offered to message templates)."""

from django import template

from ..links import mask_links as _mask_links
from ..reasons import reason_in_words as _reason_in_words

register = template.Library()


@register.filter
def mask_links(value):
    """The text with the token of every signed link replaced by "…": staff never read a recipient's live link."""
    return _mask_links(value)


@register.filter
def reason_in_words(code):
    """A reason code (omitted, cancelled, passed by Notify) in the one vocabulary of notifications.reasons."""
    return _reason_in_words(code)
