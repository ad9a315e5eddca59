"""Read-side queries for programs: assignment states and counts, each a single query."""

from django.db.models import Case, CharField, Count, Q, Value, When
from django.utils import timezone

from .models import Assignment, Program


class AssignmentState:
    OPEN = "open"
    OVERDUE = "overdue"
    COMPLETED = "completed"
    UNASSIGNED = "unassigned"

    choices = [(OPEN, "Open"), (OVERDUE, "Overdue"), (COMPLETED, "Completed"), (UNASSIGNED, "Unassigned")]


def state_q(state, *, now=None):
    """The filter selecting assignments in `state` (as the admin and the seed data see them)."""
    now = now or timezone.now()
    is_open = Q(completed_at__isnull=True, unassigned_at__isnull=True)
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
    queryset = Assignment.objects.filter(completed_at__isnull=True, unassigned_at__isnull=True)
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
