"""Send-time checks of the program and certification date triggers (seed 001).

A date occurrence carries in its outbox row the assignment (and course set)
and the date it was counted from (`anchor`). Just before sending, each check
reads the current state of those assignments in a fixed number of queries and
names the rows whose reason has gone: completed since, unassigned,
recertified, or the date moved (the moved date is a new occurrence of its own).
Rows without an anchor are event messages (sent on the action) and are left alone.
"""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef

from notifications.models import Event
from notifications.services import register_send_check

from .models import Assignment, CourseSet, CourseSetCompletion
from .occurrences import anchor_ref


def _date_rows(notifications):
    return [row for row in notifications if (row.context or {}).get("anchor") and (row.context or {}).get("assignment")]


def _assignments(rows):
    ids = {int(row.context["assignment"]) for row in rows}
    recertified = Assignment.objects.filter(
        learner=OuterRef("learner"), program=OuterRef("program"), completed_at__gt=OuterRef("completed_at")
    )
    return {
        row["pk"]: row
        for row in Assignment.objects.filter(pk__in=ids)
        .annotate(recertified=Exists(recertified), window_days=F("program__recertification_window_days"))
        .values("pk", "due_at", "completed_at", "unassigned_at", "expires_at", "recertified", "window_days")
    }


def _check(notifications, reason_for):
    rows = _date_rows(notifications)
    if not rows:
        return {}
    assignments = _assignments(rows)
    reasons = {}
    for row in rows:
        assignment = assignments.get(int(row.context["assignment"]))
        if assignment is None:
            reasons[row.pk] = "assignment_deleted"
            continue
        reason = reason_for(row, assignment)
        if reason:
            reasons[row.pk] = reason
    return reasons


@register_send_check(Event.PROGRAM_DUE)
def program_still_due(notifications):
    """Only learners with an outstanding due date hear about it, and only about the current date."""

    def reason_for(row, a):
        if a["unassigned_at"] is not None:
            return "unassigned"
        if a["completed_at"] is not None:
            return "completed"
        if anchor_ref(a["due_at"]) != row.context["anchor"]:
            return "due_date_moved"
        return ""

    return _check(notifications, reason_for)


@register_send_check(Event.PROGRAM_COURSE_SET_DUE)
def course_set_still_due(notifications):
    """Only learners who have not completed the course set, and only about its current due date."""
    rows = [row for row in _date_rows(notifications) if row.context.get("course_set")]
    pairs = {(int(row.context["assignment"]), int(row.context["course_set"])) for row in rows}
    done = set()
    due = {}
    if pairs:
        done = set(
            CourseSetCompletion.objects.filter(
                assignment_id__in={a for a, _ in pairs}, course_set_id__in={c for _, c in pairs}
            ).values_list("assignment_id", "course_set_id")
        )
        due = dict(CourseSet.objects.filter(pk__in={c for _, c in pairs}).values_list("pk", "due_at"))

    def reason_for(row, a):
        course_set = int(row.context.get("course_set") or 0)
        if a["unassigned_at"] is not None:
            return "unassigned"
        if a["completed_at"] is not None or (a["pk"], course_set) in done:
            return "completed"
        if course_set not in due:
            return "course_set_deleted"
        if anchor_ref(due[course_set]) != row.context["anchor"]:
            return "due_date_moved"
        return ""

    return _check(rows, reason_for)


@register_send_check(Event.PROGRAM_COMPLETED)
@register_send_check(Event.PROGRAM_COURSE_SET_COMPLETED)
def completion_still_stands(notifications):
    """ "N days after completion" is pointless once the learner was unassigned."""
    return _check(notifications, lambda row, a: "unassigned" if a["unassigned_at"] is not None else "")


def _certification_reason(row, a, *, anchor):
    if a["unassigned_at"] is not None:
        return "unassigned"
    if a["recertified"]:
        return "recertified"
    if anchor_ref(anchor) != row.context["anchor"]:
        return "expiry_date_moved"
    return ""


@register_send_check(Event.CERTIFICATION_EXPIRY)
@register_send_check(Event.CERTIFICATION_RECERTIFICATION_FAILED)
def certification_still_expiring(notifications):
    """No expiry reminder or failure notice for a learner who recertified (or was unassigned)."""
    return _check(notifications, lambda row, a: _certification_reason(row, a, anchor=a["expires_at"]))


@register_send_check(Event.CERTIFICATION_WINDOW_OPEN)
def recertification_still_needed(notifications):
    """The window-open reminders stop once the learner recertified."""

    def reason_for(row, a):
        opens = a["expires_at"] - timedelta(days=a["window_days"]) if a["expires_at"] and a["window_days"] else None
        return _certification_reason(row, a, anchor=opens)

    return _check(notifications, reason_for)
