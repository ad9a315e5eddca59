"""Forms of the seed 002 admin pages that need no admin machinery."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LiveSession, ParticipationRequest, session_dates_problem


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


class RescheduleForm(forms.Form):
    """New dates for a session (seed 002 §IV), read in the session's time zone (the caller overrides it)."""

    starts_at = forms.SplitDateTimeField(label=_("New start"))
    ends_at = forms.SplitDateTimeField(label=_("New end"))
    message = forms.CharField(
        label=_("Extra message (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=_("Sent with the updated calendar invitation to every invited and registered learner."),
    )

    def clean(self):
        data = super().clean()
        for name, problem in session_dates_problem(data.get("starts_at"), data.get("ends_at")).items():
            self.add_error(name, problem)
            data.pop(name, None)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise forms.ValidationError(_("The session must end after it starts."))
        return data
