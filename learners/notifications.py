"""The events of the learner's invitation to the platform (seed 002 §I), declared once (notifications.registry)."""

from django.utils.translation import gettext_lazy as _

from notifications.services import declare

declare("invitation.sent", _("Invitation to sign in"), family="invitation")
declare("invitation.reminder", _("Invitation reminder (D+7, D+45)"), family="invitation")
