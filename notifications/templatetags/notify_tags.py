"""Template tags of the Notify buttons (seed 000), used by admin template overrides."""

from django import template

from ..notify.pages import notify_url
from ..selectors import learner_notify_history

register = template.Library()


@register.inclusion_tag("admin/notifications/notify_history.html")
def notify_history(learner, limit=20):
    """A learner's latest Notify outcomes, omissions labelled with their reason in words."""
    return {"outcomes": learner_notify_history(learner, limit=limit) if learner is not None else []}


@register.simple_tag(takes_context=True)
def notify_button_url(context, scope, obj=None):
    """The preview URL of a Notify button; after the click the administrator comes back here."""
    request = context.get("request")
    next_url = request.get_full_path() if request is not None else None
    kwargs = {}
    if scope == "group":
        kwargs["group"] = obj
    elif scope == "learner":
        kwargs["learner"] = obj
    return notify_url(scope, next_url=next_url, **kwargs)
