"""Read-side queries for programs: assignment states and counts, each a single query."""

from django.db.models import Case, CharField, Count, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lms_notify.timeline import Entry, Link, latest_moment, two_step_entries, who

from .models import OPEN_ASSIGNMENT, Assignment, Program, TrainingRequest


class AssignmentState:
    OPEN = "open"
    OVERDUE = "overdue"
    COMPLETED = "completed"
    UNASSIGNED = "unassigned"

    choices = [(OPEN, "Open"), (OVERDUE, "Overdue"), (COMPLETED, "Completed"), (UNASSIGNED, "Unassigned")]


def state_q(state, *, now=None):
    """The filter selecting assignments in `state` (as the admin and the seed data see them)."""
    now = now or timezone.now()
    is_open = OPEN_ASSIGNMENT
    return {
        AssignmentState.UNASSIGNED: Q(unassigned_at__isnull=False),
        AssignmentState.COMPLETED: Q(completed_at__isnull=False, unassigned_at__isnull=True),
        AssignmentState.OVERDUE: is_open & Q(due_at__lt=now),
        AssignmentState.OPEN: is_open & (Q(due_at__isnull=True) | Q(due_at__gte=now)),
    }[state]


def with_state(queryset=None, *, now=None):
    """Assignments annotated with `state` (open, overdue, completed, unassigned)."""
    queryset = Assignment.objects.all() if queryset is None else queryset
    now = now or timezone.now()
    return queryset.annotate(
        state=Case(
            *(When(state_q(value, now=now), then=Value(value)) for value, _label in AssignmentState.choices),
            output_field=CharField(),
        )
    )


def open_assignments(learner=None):
    queryset = Assignment.objects.open()
    return queryset.filter(learner=learner) if learner is not None else queryset


def programs_with_counts(queryset=None):
    """Programs annotated with their number of course sets and open assignments."""
    queryset = Program.objects.all() if queryset is None else queryset
    return queryset.annotate(
        course_sets_count=Count("course_sets", distinct=True),
        open_assignments_count=Count(
            "assignments",
            filter=Q(assignments__completed_at__isnull=True, assignments__unassigned_at__isnull=True),
            distinct=True,
        ),
    )


def timeline_training_requests(*, learner, filters, limit):
    """The learner's training requests and their answers (timeline): two queries."""
    if filters.kind not in ("", "request") or filters.names_a_message_state:
        return 0, []
    created, decided = filters.range_lookups("created_at"), filters.range_lookups("decided_at")
    rows = TrainingRequest.objects.filter(learner_id=learner.pk).filter(filters.either_in_range(created, decided))
    counts = rows.aggregate(
        made=Count("pk", filter=Q(**created)), answered=Count("pk", filter=Q(decided_at__isnull=False, **decided))
    )
    rows = rows.select_related("course", "requested_by", "decided_by").order_by(
        latest_moment("created_at", "decided_at").desc(), "-pk"
    )[:limit]

    def entry(row, at, status, actor, problem=False):
        url = reverse("admin:programs_trainingrequest_change", args=[row.pk])
        return Entry(
            at=at,
            kind="request",
            what=_("Training request: %(course)s") % {"course": row.course.title},
            status=str(status),
            why=_("by %(name)s") % {"name": who(actor)} if actor else "",
            problem=problem,
            links=(Link(_("training request"), url),),
            order=(row.pk, at == row.created_at),
        )

    def made(row):
        return entry(row, row.created_at, TrainingRequest.Status.SUBMITTED.label, row.requested_by)

    def answered(row):
        if row.decided_at is None:
            return None
        refused = row.status == TrainingRequest.Status.REFUSED
        return entry(row, row.decided_at, row.get_status_display(), row.decided_by, problem=refused)

    entries = two_step_entries(rows, filters=filters, limit=limit, first=made, second=answered)
    return counts["made"] + counts["answered"], entries
