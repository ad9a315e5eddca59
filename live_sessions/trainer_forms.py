"""Forms of the trainer pages (seed 003 "Attendance form"), rendered with crispy-forms' Bootstrap 5 pack."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from lms_notify.parsing import parse_id

from .models import SessionLearner

Status = SessionLearner.Status

ATTENDED, ABSENT = "attended", "absent"
ATTENDANCE_CHOICES = [(ATTENDED, _("Attended")), (ABSENT, _("Absent"))]


def _initial_answer(status):
    if status in (Status.ATTENDED, Status.GO_SHOW):
        return ATTENDED
    if status == Status.ABSENT:
        return ABSENT
    return None


class AttendanceForm(forms.Form):
    """One attended/absent choice per learner of the roster; a learner left unanswered stays registered.

    The rows are drawn by the template as Bootstrap toggle buttons (large tap targets on a phone) rather
    than field by field through crispy-forms, which takes seconds for a roster of thousands.
    """

    def __init__(self, *args, roster, **kwargs):
        super().__init__(*args, **kwargs)
        self.roster = {f"learner_{sl.pk}": sl for sl in roster}
        for name, sl in self.roster.items():
            self.fields[name] = forms.ChoiceField(
                choices=ATTENDANCE_CHOICES, required=False, initial=_initial_answer(sl.status)
            )

    def rows(self):
        """What the template draws for each learner: field name, learner, go show or not, the answer shown."""
        rows = []
        for name, sl in self.roster.items():
            answer = self.data.get(name) if self.is_bound else None
            rows.append(
                {
                    "name": name,
                    "learner": sl.learner,
                    "go_show": sl.status == Status.GO_SHOW,
                    "answer": answer or _initial_answer(sl.status),
                }
            )
        return rows

    def answers_off_roster(self) -> list[int]:
        """Session learner ids answered on the page but no longer on the roster (e.g. cancelled meanwhile)."""
        ids = []
        for name, value in self.data.items():
            if name.startswith("learner_") and name not in self.roster and value in (ATTENDED, ABSENT):
                pk = parse_id(name.removeprefix("learner_"))
                if pk is not None:
                    ids.append(pk)
        return ids

    def unsaved(self) -> bool:
        """Whether the page shows answers not recorded yet (the form came back from a search or a go show)."""
        if not self.is_bound:
            return False
        return any(
            self.data.get(name) in (ATTENDED, ABSENT) and self.data.get(name) != _initial_answer(sl.status)
            for name, sl in self.roster.items()
        )

    def changes(self):
        """(session learner, attended) for each answer that differs from what is recorded: saving twice does nothing."""
        changed = []
        for name, sl in self.roster.items():
            answer = self.cleaned_data.get(name)
            if answer and answer != _initial_answer(sl.status):
                changed.append((sl, answer == ATTENDED))
        return changed


class GoShowSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a learner who came without registering"),
        min_length=3,
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Learner's name"), "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class GoShowForm(forms.Form):
    learner = forms.IntegerField(widget=forms.HiddenInput)


class WalkInForm(forms.Form):
    """Someone who came and is not a learner yet: created inactive, for an administrator to review."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="walk_in", **kwargs)
        for field in self.fields.values():
            field.widget.attrs["autocomplete"] = "off"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
