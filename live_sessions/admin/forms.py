"""Forms of the live-session admin pages (seed 003 "Manage Learners", seed 002 journey)."""

import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learners.models import Learner, LearnerGroup
from lms_notify import zones

from ..models import LiveSession, ParticipationRequest, SessionLearner, session_dates_problem
from .common import SessionStatus, Status


class AddLearnersForm(forms.Form):
    """Seed 003 "Add Learners": learners found by search, or every active member of a group, or both."""

    learners = forms.ModelMultipleChoiceField(
        queryset=Learner.objects.filter(is_active=True), required=False, label=_("Learners")
    )
    group = forms.ModelChoiceField(
        queryset=LearnerGroup.objects.order_by("name"),
        required=False,
        label=_("or a whole group"),
        help_text=_("Every active member of the group is added."),
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["learners"]
        field.widget = AutocompleteSelectMultiple(SessionLearner._meta.get_field("learner"), admin_site)
        field.widget.choices = field.choices

    def clean(self):
        data = super().clean()
        if not data.get("learners") and not data.get("group"):
            raise ValidationError(_("Choose learners, a group, or both."))
        return data

    def chosen_learners(self):
        chosen = {learner.pk: learner for learner in self.cleaned_data.get("learners") or []}
        group = self.cleaned_data.get("group")
        if group is not None:
            for learner in Learner.objects.filter(memberships__group=group, is_active=True):
                chosen.setdefault(learner.pk, learner)
        return list(chosen.values())


# Session status changes an administrator makes on the session form; each is carried out by a service.
SESSION_MOVES = {
    (SessionStatus.DRAFT, SessionStatus.READY),  # publish: every not-invited learner is invited
    (SessionStatus.DRAFT, SessionStatus.CANCELLED),
    (SessionStatus.READY, SessionStatus.CANCELLED),  # the learners get METHOD:CANCEL
    (SessionStatus.READY, SessionStatus.COMPLETED),
}


def _https_urls(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class SessionClockWidget(AdminSplitDateTime):
    """Shows an instant as the session's clock reads it, whatever the administrator's own zone."""

    zone = zones.zone_named("UTC")

    def decompress(self, value):
        if value:
            try:
                local = value.astimezone(self.zone) if timezone.is_aware(value) else value
            except OverflowError:  # a date at the end of the calendar: shown as stored, the form refuses it
                local = value
            return [local.date(), local.time()]
        return [None, None]


class SessionClockField(forms.SplitDateTimeField):
    """A date and time typed as the session's clock reads them (one time, in the session's zone)."""

    widget = SessionClockWidget

    def set_zone(self, zone):
        self.widget.zone = zone

    def compress(self, data_list):
        if not data_list:
            return None
        day, time = data_list
        if day in self.empty_values:
            raise ValidationError(self.error_messages["invalid_date"], code="invalid_date")
        if time in self.empty_values:
            raise ValidationError(self.error_messages["invalid_time"], code="invalid_time")
        naive = datetime.combine(day, time)
        # Checked before any zone arithmetic, which overflows at the ends of the calendar (year 1, 9999).
        for problem in session_dates_problem(naive.replace(tzinfo=UTC), None).values():
            raise ValidationError(problem, code="out_of_range")
        return zones.wall_clock(naive, self.widget.zone)

    def has_changed(self, initial, data):
        # The instant decides: the same typed times read in another zone move the session.
        try:
            return self.clean(data) != initial
        except ValidationError:
            return True


class LiveSessionForm(forms.ModelForm):
    """The session form reads and shows its times in the session's zone, labelled. The zone is the one the form
    names: changing the time zone field reads the typed times in the chosen zone (14:00 stays 14:00 there, so
    the session moves), as the help text says."""

    starts_at = SessionClockField(label=_("Starts at"))
    ends_at = SessionClockField(label=_("Ends at"))

    class Meta:
        model = LiveSession
        formfield_callback = _https_urls
        fields = [
            "title",
            "course",
            "status",
            "starts_at",
            "ends_at",
            "timezone",
            "location",
            "capacity",
            "waiting_list_enabled",
            "requires_approval",
            "approver",
            "calendar_integration",
            "trainers",
            "registration_form_url",
            "feedback_form_url",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = self._zone()
        for name in ("starts_at", "ends_at"):
            self.fields[name].set_zone(zone)
            self.fields[name].help_text = _("%(zone)s time: the session's time zone.") % {"zone": zone.key}
        self.fields["timezone"].help_text = _(
            "The start and end are typed and shown in this time zone. Changing it reads the times as typed in the "
            "new zone: 14:00 stays 14:00 there, so the session moves."
        )

    def _zone(self):
        """The zone the typed times are in: the one submitted when it is a real zone, else the session's."""
        named = self.data.get(self.add_prefix("timezone")) if self.is_bound else None
        if named and str(named).strip():
            zone = zones.zone_named(str(named).strip())
            if zone.key == str(named).strip():
                return zone
        return zones.zone_named(self.initial.get("timezone") or self.instance.timezone or "UTC")

    def clean(self):
        data = super().clean()
        status = data.get("status")
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The session must end after it starts."))
        if self.instance.pk is None:
            if status not in (SessionStatus.DRAFT, SessionStatus.READY):
                self.add_error("status", _("A new session is a draft or ready."))
            return data
        before = self.initial.get("status")
        if status and status != before and (before, status) not in SESSION_MOVES:
            self.add_error(
                "status",
                _("A %(before)s session cannot become %(after)s.")
                % {
                    "before": SessionStatus(before).label.lower(),
                    "after": SessionStatus(status).label.lower(),
                },
            )
        moved = any(name in self.changed_data for name in ("starts_at", "ends_at"))
        if moved and before in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            self.add_error("starts_at", _("A cancelled or completed session cannot be rescheduled."))
        return data


class UpdateStatusForm(forms.Form):
    # No status chosen in advance ("Not invited", the first, was pre-selected): the administrator picks one.
    status = forms.ChoiceField(choices=[("", "---------"), *Status.choices], label=_("New status"))


class EmailTypeForm(forms.Form):
    email_type = forms.ChoiceField(label=_("Email type"), widget=forms.RadioSelect)

    def __init__(self, *args, email_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_type"].choices = email_types


class SubjectField(forms.CharField):
    """A subject written over two visible lines, so that its template is read whole (the box cut it
    off at "Convocation: {{ session.ti"); it is sent on one line."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 90, "class": "vLargeTextField"})

    def to_python(self, value):
        return " ".join(super().to_python(value).split())


class EmailTextForm(forms.Form):
    # One id per preview page: a double click on Send queues nothing twice.
    send_id = forms.CharField(widget=forms.HiddenInput, max_length=32)
    subject = SubjectField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 14, "cols": 90}))


class CopyForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=LiveSession.objects.none(), label=_("Copy to session"), empty_label=_("— choose a session —")
    )
    status = forms.ChoiceField(
        choices=Status.choices,
        initial=Status.NOT_INVITED,
        label=_("With the status"),
        help_text=_("The target session's automation still applies: a full session puts them on its waiting list."),
    )

    def __init__(self, *args, exclude_session_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            LiveSession.objects.exclude(pk__in=exclude_session_ids)
            .exclude(status__in=[LiveSession.Status.CANCELLED, LiveSession.Status.COMPLETED])
            .order_by("starts_at")
        )


class ConvocationForm(forms.Form):
    subject = SubjectField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 14, "cols": 90}))
    include_calendar = forms.BooleanField(label=_("Include the calendar invitation"), required=False, initial=True)


class DateChoiceForm(forms.Form):
    sessions = forms.ModelMultipleChoiceField(
        queryset=LiveSession.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Dates to offer"),
        help_text=_("The learner chooses one; without an answer they are reminded 7 and 14 days later."),
    )

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = sessions
        self.fields["sessions"].label_from_instance = lambda s: (
            f"{s.title} — {timezone.localtime(s.starts_at, timezone=_zone(s.timezone)):%Y-%m-%d %H:%M} ({s.timezone})"
        )


def _zone(name):
    return zoneinfo.ZoneInfo(name)


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


class CancelSessionForm(forms.Form):
    """The reason a session is cancelled: required, it goes into every learner's cancellation."""

    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("Sent to every learner told of the cancellation, in the message of her language."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the session is cancelled: the learners read it."))
        return reason
