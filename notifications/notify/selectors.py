"""What the Notify checklist (seed 000) reads: the learners in scope and, for a chunk of them,
everything the decision needs in a fixed number of queries (`load_checklist_data`), whatever
the size of the chunk; the decision itself is plain Python over that data (notify.checklist).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import BigIntegerField, Count, F, Func, Lookup, Q
from django.db.models.base import ModelState

from learners.models import Invitation, Learner, LearnerGroup
from programs.models import Assignment, CourseSet, CourseSetCompletion, Program

from ..links import learner_home_url
from ..models import NotifyOutcome, NotifyRun

# Seed 000: "1 notification allowed every 24-hour period, 3 every 14-day period".
RATE_LIMITS = ((timedelta(hours=24), 1), (timedelta(days=14), 3))


def scope_learner_ids(*, scope, group=None, learner=None) -> list[int]:
    """Primary keys of the active learners a Notify button reaches, in pk order."""
    qs = Learner.objects.filter(is_active=True)
    if scope == NotifyRun.Scope.ALL_GROUPS:
        qs = qs.filter(memberships__isnull=False).distinct()
    elif scope == NotifyRun.Scope.GROUP:
        qs = qs.filter(memberships__group=group)
    elif scope == NotifyRun.Scope.LEARNER:
        qs = qs.filter(pk=getattr(learner, "pk", learner))
    return list(qs.order_by("pk").values_list("pk", flat=True))


def active_learner_ids(learners) -> list[int]:
    """Normalise a queryset, an iterable of Learner or an iterable of pks into active pks (pk order).

    Inactive learners are not in scope at all (seed 000 is about learners you manage).
    """
    if hasattr(learners, "model") and hasattr(learners, "values_list"):
        # A queryset may join (a group's members): each learner once.
        return list(learners.filter(is_active=True).order_by("pk").values_list("pk", flat=True).distinct())
    pks = [getattr(item, "pk", item) for item in learners]
    if not pks:
        return []
    # Primary keys are unique: no DISTINCT (a sort of the whole scope) is needed.
    return list(Learner.objects.filter(_among("pk", pks), is_active=True).order_by("pk").values_list("pk", flat=True))


class _AnyOf(Lookup):
    """`column = ANY('{1,2,...}'::bigint[])`: one parameter for a chunk of 10,000 pks, where `IN`
    prepares, quotes and parses 10,000 separate parameters (seed 000 at 100,000 learners)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*params, self.rhs)


def _among(field, ids):
    """Filter `field` (a pk or foreign key path) to `ids`, as cheaply as the database allows."""
    if connection.vendor == "postgresql":
        return _AnyOf(F(field), "{" + ",".join(map(str, map(int, ids))) + "}")
    return Q(**{f"{field}__in": ids})


def training_url() -> str:
    """Where the learner follows their training: the platform, else her own pages (links.learner_home_url)."""
    return learner_home_url()


@dataclass
class ChecklistData:
    """What the checklist needs about a chunk of learners, keyed by learner pk."""

    learners: list
    # Read once for the chunk, not once for each item to do.
    training_url: str = field(default_factory=training_url)
    programs: dict = field(default_factory=dict)
    # learner pk -> (messages in the last 24 h, messages in the last 14 days)
    recent: dict = field(default_factory=dict)
    # learner pk -> pk of the most recent pending invitation
    pending_invitation: dict = field(default_factory=dict)
    # learner pk -> list of assignment dicts (open or completed; unassigned ones are left out)
    assignments: dict = field(default_factory=lambda: defaultdict(list))
    # program pk -> list of course set dicts, in position order
    course_sets: dict = field(default_factory=lambda: defaultdict(list))
    # assignment pk -> {course_set pk: completed_at}
    completions: dict = field(default_factory=lambda: defaultdict(dict))
    # learner pk -> {program pk: group pk requiring it (first one)}
    required: dict = field(default_factory=lambda: defaultdict(dict))


class _Micros(Func):
    """A timestamp read as integer microseconds since the epoch (PostgreSQL).

    Under Django, psycopg parses each timestamptz in pure Python; a chunk of the
    checklist reads hundreds of thousands of them (seed 000 at 100,000 learners),
    and an integer plus a timedelta costs a fraction of that, exactly.
    """

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()

    @property
    def convert_value(self):
        # The ::bigint already comes back as int: skip Django's int() of every value (260,000 per 100,000).
        return self._convert_value_noop


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamps(queryset, names, moments):
    """queryset.values_list(*names) where the fields named in `moments` are aware datetimes
    read through _Micros on PostgreSQL; rows come back as tuples in the order of `names`."""
    if connection.vendor != "postgresql":
        yield from queryset.values_list(*names)
        return
    aliases = {name: f"_us_{name}" for name in moments}
    queryset = queryset.annotate(**{alias: _Micros(name) for name, alias in aliases.items()})
    columns = [aliases.get(name, name) for name in names]
    positions = [i for i, name in enumerate(names) if name in aliases]
    epoch, micros = _EPOCH, timedelta
    for values in queryset.values_list(*columns):
        values = list(values)
        for i in positions:
            if values[i] is not None:
                values[i] = epoch + micros(microseconds=values[i])
        yield values


def _learners(queryset) -> list:
    """The learners of a chunk as Learner instances, built without Model.__init__.

    Every concrete field is read, so the instances behave exactly like the ORM's (no deferred
    field, nothing loaded later); only the per-field work of __init__, a fifth of the cost of
    reading 100,000 learners, is skipped. Learner has no init signal receivers to miss.
    """
    fields = Learner._meta.concrete_fields
    names = [f.attname for f in fields]
    moments = {f.attname for f in fields if f.get_internal_type() == "DateTimeField"}
    db = queryset.db
    learners = []
    new, state = Learner.__new__, ModelState
    for values in _timestamps(queryset, names, moments):
        learner = new(Learner)
        learner.__dict__.update(zip(names, values, strict=True))
        learner._state = state()
        learner._state.adding, learner._state.db = False, db
        learners.append(learner)
    return learners


# Each learner's assignments by index (the learner_id one), newest first as Assignment's own ordering; a
# lateral subquery with an ORDER BY cannot be flattened into a join, so the plan stays one index probe
# per learner. As `learner_id = ANY(...) ORDER BY ...` PostgreSQL weighs a parallel scan of the whole
# table against the index nearly evenly, and takes it: a tenth of the speed on a busy machine.
_ASSIGNMENTS_SQL = """
    SELECT a.id, a.learner_id, a.program_id, {due_at}, {completed_at}, {expires_at}
    FROM unnest(%s::bigint[]) AS l(id)
    CROSS JOIN LATERAL (
        SELECT * FROM {table} x
        WHERE x.learner_id = l.id AND x.unassigned_at IS NULL
        ORDER BY x.assigned_at DESC, x.id DESC
    ) a
"""


def _assignment_rows(ids):
    """(pk, learner_id, program_id, due_at, completed_at, expires_at) of the learners' assignments
    that are not unassigned (those count for nothing in the checklist), newest first per learner."""
    names = ("pk", "learner_id", "program_id", "due_at", "completed_at", "expires_at")
    if connection.vendor != "postgresql":
        queryset = Assignment.objects.filter(learner_id__in=ids, unassigned_at__isnull=True)
        yield from queryset.order_by("learner_id", "-assigned_at", "-pk").values_list(*names)
        return
    micros = "(EXTRACT(EPOCH FROM a.{0}) * 1000000)::bigint"
    sql = _ASSIGNMENTS_SQL.format(
        table=connection.ops.quote_name(Assignment._meta.db_table),
        **{name: micros.format(name) for name in ("due_at", "completed_at", "expires_at")},
    )
    epoch, delta = _EPOCH, timedelta
    with connection.cursor() as cursor:
        cursor.execute(sql, ["{" + ",".join(map(str, ids)) + "}"])
        for pk, learner_id, program_id, *moments in cursor.fetchall():
            yield (pk, learner_id, program_id, *(None if m is None else epoch + delta(microseconds=m) for m in moments))


_RECENT_SQL = """
    SELECT l.id, r.day, r.fortnight
    FROM unnest(%s::bigint[]) AS l(id)
    CROSS JOIN LATERAL (
        SELECT COUNT(*) FILTER (WHERE o.created_at > %s) AS day, COUNT(*) AS fortnight
        FROM {table} o
        WHERE o.learner_id = l.id AND o.created_at > %s AND o.action <> %s
    ) r
    WHERE r.fortnight > 0
"""


def _recent_counts(ids, *, day_start, fortnight_start) -> dict:
    """learner pk -> (messages in the last 24 hours, in the last 14 days), from the Notify outcomes.

    On PostgreSQL one index probe per learner (outcome_learner_created), whatever the size of the
    table: as a plain `learner_id = ANY(...) GROUP BY` the planner reads the whole table in parallel
    workers once a chunk asks for a few percent of it, ten times the cost on a busy machine."""
    omitted = NotifyOutcome.Action.OMITTED
    if connection.vendor == "postgresql":
        sql = _RECENT_SQL.format(table=connection.ops.quote_name(NotifyOutcome._meta.db_table))
        with connection.cursor() as cursor:
            cursor.execute(sql, ["{" + ",".join(map(str, ids)) + "}", day_start, fortnight_start, omitted])
            return {learner_id: (day, fortnight) for learner_id, day, fortnight in cursor.fetchall()}
    recent = (
        NotifyOutcome.objects.filter(learner_id__in=ids, created_at__gt=fortnight_start)
        .exclude(action=omitted)
        .values("learner_id")
        .annotate(day=Count("pk", filter=Q(created_at__gt=day_start)), fortnight=Count("pk"))
    )
    return {row["learner_id"]: (row["day"], row["fortnight"]) for row in recent}


def load_checklist_data(learner_ids, *, now, lock=False) -> ChecklistData:
    """Everything the Notify checklist reads for these learners: 8 queries for any chunk size.

    With lock=True the learners' rows are locked (one query, pk order so that
    concurrent runs queue up instead of deadlocking) BEFORE anything is counted:
    two administrators clicking at the same moment are serialised per learner,
    and the second one sees the first one's outcomes (seed 000 rate limits).
    """
    learners_qs = Learner.objects.filter(_among("pk", learner_ids), is_active=True).order_by("pk")
    if lock:
        learners_qs = learners_qs.select_for_update(of=("self",))
    data = ChecklistData(learners=_learners(learners_qs))
    ids = [learner.pk for learner in data.learners]
    if not ids:
        return data

    day_start, fortnight_start = now - RATE_LIMITS[0][0], now - RATE_LIMITS[1][0]
    # No upper bound on purpose: a concurrent click that took `now` a moment
    # later than ours but committed first must still count.
    data.recent = _recent_counts(ids, day_start=day_start, fortnight_start=fortnight_start)

    invitations = (
        Invitation.objects.filter(_among("learner_id", ids), status=Invitation.Status.PENDING)
        .order_by("learner_id", "-created_at", "-pk")
        .values_list("learner_id", "pk")
    )
    for learner_id, pk in invitations:
        data.pending_invitation.setdefault(learner_id, pk)

    program_ids = set()
    # An unassigned assignment counts for nothing in the checklist: never read.
    names = ("pk", "learner_id", "program_id", "due_at", "completed_at", "expires_at")
    open_ids, open_program_ids = [], set()
    for values in _assignment_rows(ids):
        row = dict(zip(names, values, strict=True))
        data.assignments[row["learner_id"]].append(row)
        program_ids.add(row["program_id"])
        if row["completed_at"] is None:
            open_ids.append(row["pk"])
            open_program_ids.add(row["program_id"])

    required = (
        LearnerGroup.programs.through.objects.filter(_among("learnergroup__memberships__learner_id", ids))
        .order_by("learnergroup_id", "program_id")
        .values_list("learnergroup__memberships__learner_id", "program_id", "learnergroup_id")
    )
    for learner_id, program_id, group_id in required:
        data.required[learner_id].setdefault(program_id, group_id)
        program_ids.add(program_id)

    data.programs = {
        p["pk"]: p
        for p in Program.objects.filter(pk__in=program_ids).values(
            "pk", "title", "kind", "validity_days", "recertification_window_days"
        )
    }
    for row in (
        CourseSet.objects.filter(program_id__in=open_program_ids)
        .order_by("program_id", "position", "pk")
        .values("pk", "program_id", "title", "due_at")
    ):
        data.course_sets[row["program_id"]].append(row)
    for row in CourseSetCompletion.objects.filter(_among("assignment_id", open_ids)).values(
        "assignment_id", "course_set_id", "completed_at"
    ):
        data.completions[row["assignment_id"]][row["course_set_id"]] = row["completed_at"]
    return data
