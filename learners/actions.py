"""Action links about learners, discovered by notifications.links (seed 002 §I)."""

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext, gettext_lazy

from notifications.links import ActionHandler, register_action
from notifications.recipients import learner_key

from .models import Invitation
from .services import respond_to_invitation


class InvitationAction(ActionHandler):
    title = gettext_lazy("Invitation to the training platform")
    model = Invitation

    def load(self, pk):
        return Invitation.objects.select_related("learner").get(pk=pk)

    def belongs_to(self, obj, recipient_key):
        return recipient_key == learner_key(obj.learner_id)

    def locale(self, obj, recipient_key):
        return obj.learner.language, obj.learner.timezone

    def question(self, obj):
        return gettext("%(name)s, you are invited to sign in to the training platform. Do you accept?") % {
            "name": obj.learner.first_name
        }

    def current_answer(self, obj):
        if obj.status == Invitation.Status.PENDING:
            return None
        words = {"when": formats.date_format(obj.responded_at, "DATETIME_FORMAT") if obj.responded_at else ""}
        if obj.status == Invitation.Status.ACCEPTED:
            return gettext("You already answered this invitation: you accepted it (%(when)s).") % words
        if obj.status == Invitation.Status.DECLINED:
            return gettext("You already answered this invitation: you declined it (%(when)s).") % words
        return gettext("You already answered this invitation.")

    def next_step(self, obj):
        if obj.status != Invitation.Status.ACCEPTED:
            return {
                "next_step": gettext(
                    "You will not receive more invitations. If you change your mind, contact your training "
                    "administrator."
                )
            }
        step = {
            "next_step": gettext(
                "Sign in to the training platform with your email address %(email)s: your courses are waiting there."
            )
            % {"email": obj.learner.email}
        }
        if settings.LEARNING_PLATFORM_URL:
            step.update(next_url=settings.LEARNING_PLATFORM_URL, next_label=gettext("Go to the training platform"))
        return step

    def perform(self, obj, decision, *, recipient_key):
        if not respond_to_invitation(obj, accept=decision == "accept"):
            return self.current_answer(obj)
        if obj.status == Invitation.Status.ACCEPTED:
            return gettext("Thank you: your invitation is accepted. Welcome aboard!")
        return gettext("Your answer is recorded: you declined the invitation.")


register_action("invitation", InvitationAction)
