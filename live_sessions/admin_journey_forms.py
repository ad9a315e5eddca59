"""Forms of the seed 002 admin pages that need no admin machinery."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LiveSession, ParticipationRequest


class ParticipationRequestForm(forms.ModelForm):
    class Meta:
        model = ParticipationRequest
        fields = ["learner", "sessions", "training_request", "status", "chosen_session"]

    def clean_sessions(self):
        sessions = self.cleaned_data["sessions"]
        if self.instance.pk is None:
            closed = [s for s in sessions if s.status != LiveSession.Status.READY]
            if closed:
                raise forms.ValidationError(
                    _("Only sessions open for registration can be offered: “%(title)s” is not.")
                    % {"title": closed[0].title}
                )
        return sessions
