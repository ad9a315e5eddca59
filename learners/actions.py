"""Action links about learners, discovered by notifications.links (seed 002 §I)."""

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy, pgettext

from notifications.services import ActionHandler, learner_key, register_action

from . import selectors
from .models import Invitation
from .services import respond_to_invitation


class InvitationAction(ActionHandler):
    title = gettext_lazy("Invitation to sign in")
    model = Invitation

    def load(self, pk):
        return Invitation.objects.select_related("learner").get(pk=pk)

    def belongs_to(self, obj, recipient_key):
        return recipient_key == learner_key(obj.learner_id)

    def locale(self, obj, recipient_key):
        return obj.learner.language, obj.learner.timezone

    def decisions(self, obj):
        return [("accept", gettext("Accept")), ("decline", gettext("Decline"))]

    def question(self, obj):
        return gettext("%(name)s, you are invited to sign in to the training platform. Do you accept?") % {
            "name": obj.learner.first_name
        }

    def current_answer(self, obj):
        if obj.status == Invitation.Status.PENDING:
            return None
        when = formats.date_format(obj.responded_at, "DATETIME_FORMAT") if obj.responded_at else ""
        answer = {
            Invitation.Status.ACCEPTED: pgettext("invitation", "accepted"),
            Invitation.Status.DECLINED: pgettext("invitation", "declined"),
        }.get(obj.status, obj.status)
        return gettext("You already answered this invitation: %(answer)s %(when)s.") % {
            "answer": answer,
            "when": when,
        }

    def perform(self, obj, decision, *, recipient_key):
        if not respond_to_invitation(obj, accept=decision == "accept"):
            return self.current_answer(obj)
        if obj.status == Invitation.Status.ACCEPTED:
            return gettext("Thank you: your invitation is accepted. Welcome aboard!")
        return gettext("Your answer is recorded: you declined the invitation.")

    def next_step(self, obj):
        """What the learner does now (seed 002 §I): their training to start, and their messages."""
        if obj.status != Invitation.Status.ACCEPTED:
            return {
                "text": gettext("Changed your mind? Ask your training administrator for a new invitation at any time."),
            }
        return {
            "text": gettext("Your next step: start the training waiting for you."),
            "items": selectors.training_to_start(obj.learner),
            "empty": gettext("No training is assigned to you yet: your administrator will let you know."),
            # The inbox itself, not a fresh inbox link: an invitation link grants answering the invitation and
            # no more, however often it is opened. A browser holding the learner's inbox link, or
            # signed in as the learner, reads it; any other is told to open the link of their latest email.
            "url": reverse("notifications:inbox"),
            "label": gettext("Open my messages"),
        }


register_action("invitation", InvitationAction)
