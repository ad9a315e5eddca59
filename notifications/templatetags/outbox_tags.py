"""Filters of admin pages that show messages: `{% load outbox_tags %}` (not offered to message templates)."""

from django import template

from ..links import mask_links as _mask_links

register = template.Library()


@register.filter
def mask_links(value):
    """The text with the token of every signed link replaced by "…": staff never read a recipient's live link."""
    return _mask_links(value)
