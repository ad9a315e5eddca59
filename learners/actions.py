"""Action links about learners, discovered by notifications.links (seed 002 §I)."""

from django.utils import formats

from notifications.links import ActionHandler, register_action
from notifications.recipients import learner_key

from .models import Invitation
from .services import respond_to_invitation


class InvitationAction(ActionHandler):
    title = "Invitation to sign in"
    model = Invitation

    def load(self, pk):
        return Invitation.objects.select_related("learner").get(pk=pk)

    def belongs_to(self, obj, recipient_key):
        return recipient_key == learner_key(obj.learner_id)

    def question(self, obj):
        return f"{obj.learner.first_name}, you are invited to sign in to the training platform. Do you accept?"

    def current_answer(self, obj):
        if obj.status == Invitation.Status.PENDING:
            return None
        when = formats.date_format(obj.responded_at, "DATETIME_FORMAT") if obj.responded_at else ""
        return f"You already answered this invitation: {obj.get_status_display().lower()} {when}".strip() + "."

    def perform(self, obj, decision, *, recipient_key):
        if not respond_to_invitation(obj, accept=decision == "accept"):
            return self.current_answer(obj)
        if obj.status == Invitation.Status.ACCEPTED:
            return "Thank you: your invitation is accepted. Welcome aboard!"
        return "Your answer is recorded: you declined the invitation."


register_action("invitation", InvitationAction)
