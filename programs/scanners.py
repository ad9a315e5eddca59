"""The date side of seed 001: triggers that fire on a day, not on an action.

Every trigger counts from one date of an assignment (its *anchor*): the program
or course-set due date, the completion, the certification's expiry, the
opening of its recertification window. A rule says "N days before", "on" or
"N days after" that date; the moment is the anchor's calendar day *where the
learner is* (their time zone), moved by N days, at settings.DATE_TRIGGER_HOUR
local time, so the local hour holds across daylight-saving changes.

A scan creates the occurrences whose moment falls in its window (since, now]:
one query per rule lists them (the moments are computed by PostgreSQL, using
the date indexes to read only a few days of anchors), then each batch of
occurrences costs a fixed number of queries (learners, managers, guardians,
then the outbox's COPY path).

Catch-up after downtime: the window starts where the last successful scan
stopped, so occurrences that fell due while the worker was down are created
by the next scan, once each, and only if still relevant (the conditions below
are those of the scan time: a program completed meanwhile gets no due-date
reminder). A "before" reminder whose moment passed during the downtime is
still sent late as long as the date it announces is ahead; once that date has
passed it is dropped (the "on" / "after" rules speak for that date).

The dedupe key of an occurrence names the rule, the assignment (and course
set), the anchor itself and the offset: a moved due date is a new occurrence,
and the send-time checks (programs.sendchecks) cancel the old one if it is
still waiting.
"""

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import NotSupportedError, connection, transaction
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
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learners.models import Guardian, Learner
from notifications.links import learner_home_url
from notifications.models import Event, NotificationRule
from notifications.notify import ShapeCachedTemplates
from notifications.outbox import OutgoingMessage, enqueue
from notifications.recipients import Recipient
from notifications.triggers import ScanFailures
from notifications.variables import person_values

from .models import Assignment, CourseSet, CourseSetCompletion, Program

logger = logging.getLogger(__name__)

Timing = NotificationRule.Timing

BATCH_SIZE = 5000
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


def _assignments(rule, **filters):
    qs = Assignment.objects.filter(learner__is_active=True, **filters)
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
    return _assignments(rule, completed_at__isnull=True, unassigned_at__isnull=True)


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


# --- Messages ------------------------------------------------------------------------------

_LEARNER_ONLY = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "timezone",
    "manager_id",
    "consent_given_at",
    "is_active",
)


class _Lookups:
    """What a scan reads once: programs, course sets, site administrators, templates."""

    def __init__(self):
        self.programs = {pk: title for pk, title in Program.objects.values_list("pk", "title")}
        self._course_sets = None
        self._admins = None
        # Most messages of a scan differ only by the names: each shape is rendered once.
        self.templates = ShapeCachedTemplates()

    def course_set(self, pk):
        if self._course_sets is None:
            self._course_sets = {
                pk: {"title": title, "due_at": due_at}
                for pk, title, due_at in CourseSet.objects.values_list("pk", "title", "due_at")
            }
        return self._course_sets.get(pk)

    @property
    def site_admins(self):
        if self._admins is None:
            self._admins = list(
                get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="").order_by("pk")
            )
        return self._admins


def _recipients_by_learner(rule, learner_ids, lookups) -> tuple[dict, dict]:
    """({learner id: Learner}, {learner id: [Recipient]}) in at most three queries."""
    learners = {row.pk: row for row in Learner.objects.filter(pk__in=learner_ids).only(*_LEARNER_ONLY)}
    managers = {}
    if rule.notify_manager:
        manager_ids = {row.manager_id for row in learners.values() if row.manager_id}
        if manager_ids:
            managers = {row.pk: row for row in Learner.objects.filter(pk__in=manager_ids).only(*_LEARNER_ONLY)}
    guardians = {}
    if rule.notify_learner and rule.notify_guardians:
        for guardian in Guardian.objects.filter(learner_id__in=learner_ids, is_enabled=True).order_by("pk"):
            guardian.learner = learners[guardian.learner_id]
            guardians.setdefault(guardian.learner_id, []).append(guardian)
    recipients = {}
    for pk, learner in learners.items():
        found = []
        if rule.notify_learner:
            found.append(Recipient(learner=learner))
            found.extend(Recipient(guardian=g) for g in guardians.get(pk, ()))
        if rule.notify_manager and learner.manager_id in managers:
            found.append(Recipient(learner=managers[learner.manager_id], as_manager=True))
        if rule.notify_site_admins:
            found.extend(Recipient(user=user) for user in lookups.site_admins)
        recipients[pk] = found
    return learners, recipients


def _context(rule, occ: Occurrence, learner, lookups) -> dict:
    course_set = lookups.course_set(occ.course_set) if occ.course_set else None
    context = {
        "learner": person_values(learner),
        "program": lookups.programs.get(occ.program, ""),
        "due_at": occ.due_at,
        "expires_at": occ.expires_at,
        "completed_at": occ.completed_at,
        "days": rule.offset_days,
        "timing": str(rule.timing),
        # The same for everyone; "action_url" becomes the learner's own link in her copy (links.with_learner_home),
        # which the built-in words use first.
        "dashboard_url": learner_home_url(),
        "action_url": learner_home_url(),
    }
    if course_set is not None:
        context["course_set"] = course_set
    if rule.event == Event.CERTIFICATION_WINDOW_OPEN:
        context["window_opens_at"] = occ.anchor
    return context


def messages_for(rule, batch: list[Occurrence], lookups) -> list[OutgoingMessage]:
    learners, recipients = _recipients_by_learner(rule, {occ.learner for occ in batch}, lookups)
    messages = []
    for occ in batch:
        learner = learners.get(occ.learner)
        if learner is None:
            continue
        context = _context(rule, occ, learner, lookups)
        refs = {"assignment": occ.assignment, "anchor": anchor_ref(occ.anchor), "rule": rule.pk}
        if occ.course_set:
            refs["course_set"] = occ.course_set
        name = occurrence_name(rule, occ)
        for recipient in recipients.get(occ.learner, ()):
            for channel in rule.channels:
                messages.append(
                    OutgoingMessage(
                        event=rule.event,
                        channel=channel,
                        recipient=recipient,
                        occurrence=name,
                        context=context,
                        refs=refs,
                        requires_confirmation=rule.requires_confirmation,
                        rule=rule,
                    )
                )
    return messages


def active_rules():
    return list(
        NotificationRule.objects.filter(is_enabled=True, event__in=list(TRIGGERS)).exclude(channels=[]).order_by("pk")
    )


def _scan_rule(rule, *, since, now, lookups) -> int:
    # Every statement in a transaction or savepoint of its own: a failed one leaves the scan's connection usable.
    with transaction.atomic():
        found = occurrences(rule, since=since, until=now, late_cutoff=now)
    created = 0
    for start in range(0, len(found), BATCH_SIZE):
        with transaction.atomic():
            messages = messages_for(rule, found[start : start + BATCH_SIZE], lookups.get())
            if messages:
                created += len(enqueue(messages, templates=lookups.get().templates, return_rows=False))
    return created


class _LazyLookups:
    def __init__(self):
        self._lookups = None

    def get(self):
        self._lookups = self._lookups or _Lookups()
        return self._lookups


def scan_program_triggers(*, since, now) -> int:
    """Create every program / certification date occurrence due in (since, now]; returns rows created.

    A rule that fails fails alone: the other rules still create their messages, then ScanFailures
    names each failed rule and why (the scan records it)."""
    created, failures = 0, []
    lookups = _LazyLookups()
    for rule in active_rules():
        try:
            created += _scan_rule(rule, since=since, now=now, lookups=lookups)
        except Exception as exc:
            logger.exception("Date trigger rule %s failed; the other rules still run", rule.pk)
            failures.append(f"rule {rule.pk} “{rule}”: {exc.__class__.__name__}: {exc}")
    if failures:
        raise ScanFailures(failures, created=created)
    return created


def preview(rule, *, since=None, until=None, limit=200) -> dict:
    """What `rule` would create between now and 30 days from now: when, about whom, to whom."""
    now = timezone.now()
    since = since or now
    until = until or now + timedelta(days=30)
    found = sorted(occurrences(rule, since=since, until=until), key=lambda occ: (occ.moment, occ.assignment))
    total = len(found)
    lookups = _Lookups()
    learners, recipients = _recipients_by_learner(rule, {occ.learner for occ in found[:limit]}, lookups)
    rows = []
    for occ in found[:limit]:
        learner = learners.get(occ.learner)
        if learner is None:
            continue
        rows.append(
            {
                "moment": occ.moment,
                "learner": learner.full_name,
                "program": lookups.programs.get(occ.program, ""),
                "course_set": (lookups.course_set(occ.course_set) or {}).get("title", "") if occ.course_set else "",
                "anchor": occ.anchor,
                "recipients": [recipient.name for recipient in recipients.get(occ.learner, ())],
            }
        )
    return {"rows": rows, "total": total, "since": since, "until": until}
