"""The events of notifications itself, declared once (notifications.registry): the Notify buttons (seed 000)
and the email saying a system message waits in the inbox (seed 004)."""

from django.utils.translation import gettext_lazy as _

from .registry import ADDRESSEE_RECIPIENT, declare

declare("notify.invitation", _("Notify: invitation sent again"), family="invitation")
declare(
    "notify.training_reminder",
    _("Notify: incomplete training reminder"),
    family="trainings",
    variables=("learner", "complete", "incomplete"),
)
declare(
    "notify.missing_training",
    _("Notify: missing training assigned"),
    family="trainings",
    variables=("learner", "programs"),
)
declare(
    "notify.renewal",
    _("Notify: certification renewal"),
    family="training",
    variables=("learner", "program", "expires_at", "programs"),
)
declare(
    "inbox.new_message",
    _("New message in your inbox"),
    family="inbox",
    readers=frozenset(),
    addressee=ADDRESSEE_RECIPIENT,
    variables=("inbox_url", "message_subject"),
)
