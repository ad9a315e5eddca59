"""Where each Notify button leads (seed 000): the admin preview page of one scope. The group action of the
learners' admin links here too, through the facade."""

from urllib.parse import urlencode

from django.urls import reverse


def notify_url(scope, *, group=None, learner=None, next_url=None):
    """The preview page of one Notify button."""
    params = {"scope": scope}
    if group is not None:
        params["group"] = getattr(group, "pk", group)
    if learner is not None:
        params["learner"] = getattr(learner, "pk", learner)
    if next_url:
        params["next"] = next_url
    return reverse("admin:notifications_notify_preview") + "?" + urlencode(params)
