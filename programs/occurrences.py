"""When the date triggers of seed 001 fire: the occurrences of a rule in a window of time.

Every trigger counts from one date of an assignment (its *anchor*): the program
or course-set due date, the completion, the certification's expiry, the
opening of its recertification window. A rule says "N days before", "on" or
"N days after" that date; the moment is the anchor's calendar day *where the
learner is* (their time zone), moved by N days, at settings.DATE_TRIGGER_HOUR
local time, so the local hour holds across daylight-saving changes. One query
per rule lists the occurrences of a window (PostgreSQL computes the moments,
using the date indexes to read only a few days of anchors); programs.scanners
turns them into messages.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import NotSupportedError, connection
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _

from notifications.models import Event, NotificationRule

from .models import OPEN_ASSIGNMENT, Assignment, CourseSetCompletion, Program

Timing = NotificationRule.Timing

_NO_COURSE_SET = Value(None, output_field=IntegerField())
_FIELDS = ("t_assignment", "t_learner", "t_program", "t_course_set", "t_anchor", "t_due", "t_expires", "t_completed")


class DailyMoment(Func):
    """The anchor's calendar day in time zone `tz`, plus `shift` days, at `hour` o'clock there."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("DailyMoment is computed in SQL on PostgreSQL only (see occurrences()).")

    def as_postgresql(self, compiler, connection, **extra):
        (anchor, p1), (tz, p2), (shift, p3), (hour, p4) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = (
            f"((((({anchor}) AT TIME ZONE ({tz}))::date + ({shift})::integer) "
            f"+ make_interval(hours => ({hour})::integer)) AT TIME ZONE ({tz}))"
        )
        return sql, (*p1, *p2, *p3, *p4, *p2)


class DaysInterval(Func):
    """A whole number of days as an interval (Django cannot multiply an integer column by a duration)."""

    output_field = DurationField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"make_interval(days => ({sql})::integer)", params

    def as_sql(self, compiler, connection, **extra):
        # SQLite keeps durations as microseconds.
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"(({sql}) * 86400000000)", params


def daily_moment(anchor: datetime, tz: str, shift: int, hour: int) -> datetime:
    """The same moment as DailyMoment, in Python (SQLite, and the tests' expectations)."""
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    day = anchor.astimezone(zone).date() + timedelta(days=shift)
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def _shift(rule) -> int:
    # A row stored before offsets were bounded would overflow the date arithmetic below.
    problem = rule.timing_problem()
    if problem:
        raise ValueError(problem)
    if rule.timing == Timing.BEFORE:
        return -int(rule.offset_days)
    if rule.timing == Timing.AFTER:
        return int(rule.offset_days)
    return 0


# --- Where each trigger's occurrences come from --------------------------------------------


def _not_recertified():
    """No later completion of the same certification by the same learner (a renewal is a new assignment)."""
    return ~Exists(
        Assignment.objects.filter(
            learner=OuterRef("learner"), program=OuterRef("program"), completed_at__gt=OuterRef("completed_at")
        )
    )


def _assignments(rule, *conditions, **filters):
    qs = Assignment.objects.filter(*conditions, learner__is_active=True, **filters)
    if rule.program_id:
        qs = qs.filter(program_id=rule.program_id)
    return qs.annotate(
        t_assignment=F("pk"),
        t_learner=F("learner_id"),
        t_program=F("program_id"),
        t_tz=F("learner__timezone"),
        t_due=F("due_at"),
        t_expires=F("expires_at"),
        t_completed=F("completed_at"),
    )


def _open(rule):
    return _assignments(rule, OPEN_ASSIGNMENT)


def _valid_certifications(rule):
    return _assignments(
        rule, program__kind=Program.Kind.CERTIFICATION, expires_at__isnull=False, unassigned_at__isnull=True
    ).filter(_not_recertified())


def program_due_source(rule, lo, hi):
    """Seed 001: program / certification due date, only while the due date is outstanding."""
    return _open(rule).filter(due_at__range=(lo, hi)).annotate(t_course_set=_NO_COURSE_SET, t_anchor=F("due_at"))


def program_completed_source(rule, lo, hi):
    """Seed 001: program / certification completed, N days after (not once unassigned)."""
    return _assignments(rule, unassigned_at__isnull=True, completed_at__range=(lo, hi)).annotate(
        t_course_set=_NO_COURSE_SET, t_anchor=F("completed_at")
    )


def course_set_due_source(rule, lo, hi):
    """Seed 001: course set due date, only for learners who have not completed that course set."""
    completed = CourseSetCompletion.objects.filter(assignment=OuterRef("pk"), course_set=OuterRef("t_course_set"))
    return (
        _open(rule)
        .annotate(t_course_set=F("program__course_sets__id"), t_anchor=F("program__course_sets__due_at"))
        .filter(t_anchor__range=(lo, hi))
        .filter(~Exists(completed))
    )


def course_set_completed_source(rule, lo, hi):
    """Seed 001: course set completed, N days after (not once unassigned)."""
    qs = CourseSetCompletion.objects.filter(
        completed_at__range=(lo, hi),
        assignment__unassigned_at__isnull=True,
        assignment__learner__is_active=True,
    )
    if rule.program_id:
        qs = qs.filter(assignment__program_id=rule.program_id)
    return qs.annotate(
        t_assignment=F("assignment_id"),
        t_learner=F("assignment__learner_id"),
        t_program=F("assignment__program_id"),
        t_course_set=F("course_set_id"),
        t_tz=F("assignment__learner__timezone"),
        t_anchor=F("completed_at"),
        t_due=F("assignment__due_at"),
        t_expires=F("assignment__expires_at"),
        t_completed=F("assignment__completed_at"),
    )


def expiry_source(rule, lo, hi):
    """Seed 001: certification expiry date (and failure to recertify: the window closes at expiry)."""
    return (
        _valid_certifications(rule)
        .filter(expires_at__range=(lo, hi))
        .annotate(t_course_set=_NO_COURSE_SET, t_anchor=F("expires_at"))
    )


def window_open_source(rule, lo, hi):
    """Seed 001: recertification window open date = expiry minus the program's window."""
    # One index range of expiry dates per window length in use (a handful), not all expiries of the widest window.
    lengths = Program.objects.filter(recertification_window_days__isnull=False).values_list(
        "recertification_window_days", flat=True
    )
    ranges = Q(pk__in=[])
    for days in set(lengths):
        window_days = timedelta(days=days)
        ranges |= Q(program__recertification_window_days=days, expires_at__range=(lo + window_days, hi + window_days))
    window = DaysInterval(F("program__recertification_window_days"))
    return (
        _valid_certifications(rule)
        .filter(ranges)
        .annotate(
            t_course_set=_NO_COURSE_SET,
            t_anchor=ExpressionWrapper(F("expires_at") - window, output_field=DateTimeField()),
        )
        .filter(t_anchor__range=(lo, hi))
    )


@dataclass(frozen=True)
class ProgramTrigger:
    event: str
    timings: tuple
    anchor: str
    source: object
    # Failure to recertify is only known once the certification has expired.
    not_before_anchor: bool = False
    # An event trigger: "on the event" is sent by the service, only "N days after" is a date.
    has_event: bool = False


ON, BEFORE, AFTER = Timing.ON_EVENT, Timing.BEFORE, Timing.AFTER

TRIGGERS = {
    t.event: t
    for t in (
        ProgramTrigger(
            Event.PROGRAM_COMPLETED, (ON, AFTER), _("the completion"), program_completed_source, has_event=True
        ),
        ProgramTrigger(
            Event.PROGRAM_COURSE_SET_COMPLETED,
            (ON, AFTER),
            _("the course set completion"),
            course_set_completed_source,
            has_event=True,
        ),
        ProgramTrigger(
            Event.PROGRAM_COURSE_SET_DUE, (BEFORE, ON, AFTER), _("the course set due date"), course_set_due_source
        ),
        ProgramTrigger(Event.PROGRAM_DUE, (BEFORE, ON, AFTER), _("the program due date"), program_due_source),
        ProgramTrigger(Event.CERTIFICATION_EXPIRY, (BEFORE, ON), _("the certification expiry date"), expiry_source),
        ProgramTrigger(
            Event.CERTIFICATION_WINDOW_OPEN,
            (BEFORE, ON, AFTER),
            _("the opening of the recertification window"),
            window_open_source,
        ),
        ProgramTrigger(
            Event.CERTIFICATION_RECERTIFICATION_FAILED,
            (ON, AFTER),
            _("the close of the recertification window (expiry)"),
            expiry_source,
            not_before_anchor=True,
        ),
    )
}


# --- Occurrences ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    assignment: int
    learner: int
    program: int
    course_set: int | None
    anchor: datetime
    due_at: datetime | None
    expires_at: datetime | None
    completed_at: datetime | None
    moment: datetime


def occurrences(rule, *, since, until, late_cutoff=None) -> list[Occurrence]:
    """The occurrences of `rule` whose moment falls in (since, until], one query.

    Moments before the rule became active never count. `late_cutoff` (the scan's now)
    drops "before" reminders whose announced date has already passed.
    """
    trigger = TRIGGERS.get(rule.event)
    if trigger is None or (trigger.has_event and rule.timing == ON) or rule.timing not in trigger.timings:
        return []
    lower = max(since, rule.active_since)
    if lower >= until:
        return []
    shift = _shift(rule)
    hour = int(settings.DATE_TRIGGER_HOUR)
    # moment - anchor = shift days + hour - (the anchor's local time of day, in [0, 24 h)) ± 1 h of daylight
    # saving: whatever the time zone, the anchors of the window lie in this range of the date index.
    lo = lower - timedelta(days=shift, hours=hour + 1)
    hi = until - timedelta(days=shift, hours=hour - 25)
    qs = trigger.source(rule, lo, hi).order_by()
    if rule.timing == BEFORE and late_cutoff is not None:
        qs = qs.filter(t_anchor__gt=late_cutoff)
    if connection.vendor == "postgresql":
        moment = DailyMoment(F("t_anchor"), F("t_tz"), Value(shift), Value(hour))
        if trigger.not_before_anchor:
            moment = Greatest(moment, F("t_anchor"))
        qs = qs.annotate(t_moment=moment).filter(t_moment__gt=lower, t_moment__lte=until)
        rows = qs.values_list(*_FIELDS, "t_moment")
    else:
        rows = []
        for row in qs.values_list(*_FIELDS, "t_tz"):
            at = daily_moment(row[4], row[-1], shift, hour)
            if trigger.not_before_anchor:
                at = max(at, row[4])
            if lower < at <= until:
                rows.append((*row[:-1], at))
    return [Occurrence(*row) for row in rows]


def occurrence_name(rule, occ: Occurrence) -> str:
    """Names rule, object, the date counted from and the offset: a moved date is a new occurrence."""
    course_set = f":cs{occ.course_set}" if occ.course_set else ""
    offset = {BEFORE: f"b{rule.offset_days}", AFTER: f"a{rule.offset_days}"}.get(rule.timing, "on")
    return f"r{rule.pk}:a{occ.assignment}{course_set}:{occ.anchor.astimezone(UTC):%Y%m%dT%H%M}:{offset}"


def anchor_ref(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
