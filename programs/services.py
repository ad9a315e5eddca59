"""State changes of programs, certifications and training requests (seeds 001, 002).

Each service changes the database inside one transaction and then tells the
notifications door what happened (`notifications.door.send`): the event's rules,
or its declared default rule (silent for program events, seed 001), decide.
Invalid calls raise ValidationError and change nothing.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from lms_notify.bulk import copy_insert_ignoring_conflicts, is_postgresql
from notifications.models import Event, Notification
from notifications.services import (
    Origin,
    Plans,
    Recipient,
    cancel,
    draft,
    learner_home_url,
    person_values,
    send,
    send_all,
)

from .models import Assignment, AssignmentException, CourseSet, CourseSetCompletion, TrainingRequest
from .occurrences import anchor_ref


def _program_context(assignment):
    """Plain values for the editable templates (notifications.variables), never the models themselves."""
    return {
        "program": assignment.program.title,
        "due_at": assignment.due_at,
        "expires_at": assignment.expires_at,
        "completed_at": assignment.completed_at,
        "action_url": learner_home_url(),
    }


def _notify_assignment(event, assignment, *, actor, occurrence="", context=None, refs=None):
    """Queue what the rules of `event` say about this assignment (seed 001)."""
    send(
        event,
        about=assignment.learner,
        occurrence=f"a{assignment.pk}{occurrence}",
        program=assignment.program,
        context={**_program_context(assignment), **(context or {})},
        refs={"assignment": assignment.pk, **(refs or {})},
        actor=actor,
    )


def _locked(assignment):
    """The assignment re-read under a row lock, so two concurrent calls see each other's work."""
    return Assignment.objects.select_for_update(of=("self",)).select_related("program", "learner").get(pk=assignment.pk)


def _refresh(target, source):
    for field in ("completed_at", "expires_at", "unassigned_at", "due_at"):
        setattr(target, field, getattr(source, field))


def _require_open(assignment, what):
    if assignment.unassigned_at is not None:
        raise ValidationError(
            f"Cannot {what}: {assignment.learner.full_name} was unassigned from {assignment.program}."
        )
    if assignment.completed_at is not None:
        raise ValidationError(
            f"Cannot {what}: {assignment.program} is already completed by {assignment.learner.full_name}."
        )


def check_can_assign(learner, program):
    """Raise ValidationError if `learner` cannot be given `program` (shared by forms and the service)."""
    if not learner.is_active:
        raise ValidationError(f"{learner.full_name} is inactive and cannot be assigned training.")


def assign(learner, program, *, due_at=None, group=None, actor=None) -> Assignment:
    """Put `program` on the learner's dashboard; an already-open assignment is returned as is (seed 001)."""
    check_can_assign(learner, program)
    with transaction.atomic():
        existing = Assignment.objects.open().filter(learner=learner, program=program).first()
        if existing is not None:
            return existing
        try:
            # A concurrent assign may win the partial unique constraint; then we return its row.
            with transaction.atomic():
                assignment = Assignment.objects.create(
                    learner=learner, program=program, due_at=due_at, group=group, assigned_at=timezone.now()
                )
        except IntegrityError:
            return Assignment.objects.open().get(learner=learner, program=program)
        group_name = group.name if group is not None else ""
        _notify_assignment(Event.PROGRAM_ASSIGNED, assignment, actor=actor, context={"group": group_name})
    return assignment


_MANY_COLUMNS = ("learner", "program", "group", "due_at", "assigned_at")


def assign_many(rows, *, actor=None, announce=True, now=None) -> list[int]:
    """Open many assignments at once, set-based (seed 000: Notify over 100,000 learners).

    `rows` are (learner pk, program pk, group pk or None, due_at or None). A learner who already
    has the program open keeps that assignment (the partial unique constraint decides, so
    concurrent callers cannot both create it). Returns the pks of the assignments created.

    With `announce` each created assignment fires `program.assigned` as `assign` does, in one
    pass over the rules; a caller whose own message already announces the training passes
    announce=False and says why. Callers check eligibility first (check_can_assign).
    """
    rows = list(rows)
    if not rows:
        return []
    now = now or timezone.now()
    values = [(learner, program, group, due_at, now) for learner, program, group, due_at in rows]
    # No savepoint: nothing here is retried on failure, and Notify counts every query per chunk.
    with transaction.atomic(savepoint=False):
        if is_postgresql():
            inserted = copy_insert_ignoring_conflicts(Assignment, _MANY_COLUMNS, values, returning=("id",))
            created = [pk for (pk,) in inserted]
        else:
            open_pairs = set(
                Assignment.objects.open()
                .filter(learner_id__in={r[0] for r in rows})
                .values_list("learner_id", "program_id")
            )
            fresh, seen = [], set()
            for learner, program, group, due_at, assigned_at in values:
                if (learner, program) in open_pairs or (learner, program) in seen:
                    continue
                seen.add((learner, program))
                fresh.append(
                    Assignment(
                        learner_id=learner, program_id=program, group_id=group, due_at=due_at, assigned_at=assigned_at
                    )
                )
            created = [a.pk for a in Assignment.objects.bulk_create(fresh)]
        if announce and created:
            _announce_assigned(created, actor=actor)
    return created


def _announce_assigned(pks, *, actor):
    """program.assigned for each of these new assignments: one query for the rules, a fixed number for the
    recipients, one enqueue (notifications.door)."""
    plans = Plans()
    plan = plans[Event.PROGRAM_ASSIGNED]
    if not plan.rules and plan.declaration.default.silent:
        return
    assignments = Assignment.objects.filter(pk__in=pks).select_related("learner", "program", "group")
    send_all(
        (
            draft(
                Event.PROGRAM_ASSIGNED,
                about=assignment.learner,
                occurrence=f"a{assignment.pk}",
                program=assignment.program,
                context={**_program_context(assignment), "group": assignment.group.name if assignment.group else ""},
                refs={"assignment": assignment.pk},
                actor=actor,
            )
            for assignment in assignments.order_by("pk")
        ),
        plans=plans,
    )


def complete_course_set(assignment, course_set, *, actor=None) -> CourseSetCompletion:
    """Record a completed course set; completing the last one completes the program (seed 001)."""
    if course_set.program_id != assignment.program_id:
        raise ValidationError(f"{course_set.title} is not a course set of {assignment.program}.")
    with transaction.atomic():
        locked = _locked(assignment)
        existing = CourseSetCompletion.objects.filter(assignment=locked, course_set=course_set).first()
        if existing is not None:
            return existing
        _require_open(locked, "complete a course set")
        completion = CourseSetCompletion.objects.create(
            assignment=locked, course_set=course_set, completed_at=timezone.now()
        )
        _notify_assignment(
            Event.PROGRAM_COURSE_SET_COMPLETED,
            locked,
            actor=actor,
            occurrence=f":cs{course_set.pk}",
            context={"course_set": {"title": course_set.title, "due_at": course_set.due_at}},
            refs={"course_set": course_set.pk},
        )
        remaining = locked.program.course_sets.exclude(completions__assignment=locked).exists()
        if not remaining:
            complete(locked, actor=actor)
            _refresh(assignment, locked)
    return completion


def complete(assignment, *, actor=None) -> Assignment:
    """Mark the program completed; a certification stays valid for validity_days (seed 001)."""
    with transaction.atomic():
        locked = _locked(assignment)
        _require_open(locked, "complete")
        now = timezone.now()
        locked.completed_at = now
        if locked.program.is_certification and locked.program.validity_days:
            locked.expires_at = now + timedelta(days=locked.program.validity_days)
        locked.save(update_fields=["completed_at", "expires_at"])
        _notify_assignment(Event.PROGRAM_COMPLETED, locked, actor=actor)
    _refresh(assignment, locked)
    return assignment


def unassign(assignment, *, actor=None) -> Assignment:
    """Take the program off the learner's dashboard (seed 001)."""
    with transaction.atomic():
        locked = _locked(assignment)
        if locked.unassigned_at is not None:
            raise ValidationError(f"{locked.learner.full_name} is already unassigned from {locked.program}.")
        locked.unassigned_at = timezone.now()
        locked.save(update_fields=["unassigned_at"])
        _notify_assignment(Event.PROGRAM_UNASSIGNED, locked, actor=actor)
    _refresh(assignment, locked)
    return assignment


def report_exception(assignment, *, kind, actor=None) -> AssignmentException:
    """Record a problem with an assignment; rules usually tell the site administrators (seed 001)."""
    if kind not in AssignmentException.Kind.values:
        raise ValidationError(f"Unknown exception kind {kind!r}.")
    with transaction.atomic():
        locked = _locked(assignment)
        if locked.unassigned_at is not None:
            raise ValidationError(f"Cannot report an exception: {locked.learner.full_name} was unassigned.")
        exception = AssignmentException.objects.create(assignment=locked, kind=kind, reported_at=timezone.now())
        send(
            Event.PROGRAM_EXCEPTION,
            about=locked.learner,
            occurrence=f"x{exception.pk}",
            program=locked.program,
            context={**_program_context(locked), "kind": str(exception.get_kind_display())},
            refs={"assignment": locked.pk, "exception": exception.pk},
            actor=actor,
        )
    return exception


def resolve_exception(exception, *, actor=None) -> AssignmentException:
    with transaction.atomic():
        locked = AssignmentException.objects.select_for_update(of=("self",)).get(pk=exception.pk)
        if locked.resolved_at is not None:
            raise ValidationError("This exception is already resolved.")
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["resolved_at"])
    exception.resolved_at = locked.resolved_at
    return exception


def _requested_by_manager(learner, user):
    manager = learner.manager
    return bool(user is not None and manager is not None and manager.user_id == user.pk)


def check_can_request_training(learner, course):
    if not learner.is_active:
        raise ValidationError(f"{learner.full_name} is inactive and cannot request training.")
    if TrainingRequest.objects.filter(learner=learner, course=course, status=TrainingRequest.Status.SUBMITTED).exists():
        raise ValidationError(f"{learner.full_name} already has a pending request for {course}.")


def request_training(learner, course, *, requested_by) -> TrainingRequest:
    """Record a training request and confirm it (seed 002 §II-A).

    The learner's own request: a confirmation to the learner. A request made by
    the learner's manager (`requested_by` is the manager's user): a different
    confirmation to the learner saying the manager asked, and one to the manager.
    Each is an event of the rules catalogue ("can be systematically disabled").
    """
    by_manager = _requested_by_manager(learner, requested_by)
    with transaction.atomic():
        check_can_request_training(learner, course)
        request = TrainingRequest.objects.create(
            learner=learner, course=course, requested_by=requested_by, created_at=timezone.now()
        )
        context = {
            "course": course.title,
            "requested_by_manager": by_manager,
            "manager": person_values(learner.manager if by_manager else None),
        }

        def message(event, to):
            return draft(
                event,
                about=learner,
                to=to,
                occurrence=f"tr{request.pk}",
                context=context,
                refs={"training_request": request.pk},
                actor=requested_by,
            )

        if by_manager:
            outgoing = [
                message(Event.TRAINING_REQUEST_SUBMITTED_BY_MANAGER, None),
                message(
                    Event.TRAINING_REQUEST_MANAGER_CONFIRMATION, Recipient(learner=learner.manager, as_manager=True)
                ),
            ]
        else:
            outgoing = [message(Event.TRAINING_REQUEST_SUBMITTED, None)]
        # The answer to the person who asked: not held for confirmation when no rule says so (seed 004).
        send_all(outgoing, origin=Origin.ANSWER)
    return request


def refuse_training_request(request, *, actor, notify_learner, notify_manager) -> TrainingRequest:
    """Refuse a submitted request and tell the learner and/or manager only as asked (seed 002 §II-B)."""
    with transaction.atomic():
        locked = (
            TrainingRequest.objects.select_for_update(of=("self",))
            .select_related("learner__manager", "course")
            .get(pk=request.pk)
        )
        if locked.status != TrainingRequest.Status.SUBMITTED:
            raise ValidationError(f"This request is already {locked.get_status_display().lower()}.")
        learner = locked.learner
        if notify_manager and learner.manager is None:
            raise ValidationError(f"{learner.full_name} has no manager to notify.")
        now = timezone.now()
        locked.status = TrainingRequest.Status.REFUSED
        locked.decided_at = now
        locked.decided_by = actor
        locked.save(update_fields=["status", "decided_at", "decided_by"])
        recipients = []
        if notify_learner:
            recipients.append(Recipient(learner=learner))
        if notify_manager:
            recipients.append(Recipient(learner=learner.manager, as_manager=True))
        # The administrator chose whom to tell: sent by hand, not held when no rule says so (seed 004).
        send_all(
            (
                draft(
                    Event.TRAINING_REQUEST_REFUSED,
                    about=learner,
                    to=recipient,
                    occurrence=f"tr{locked.pk}",
                    context={"course": locked.course.title},
                    refs={"training_request": locked.pk},
                    actor=actor,
                )
                for recipient in recipients
            ),
            origin=Origin.ADMIN,
        )
    request.status, request.decided_at, request.decided_by = locked.status, locked.decided_at, locked.decided_by
    return request


def approve_training_request(request, *, actor) -> TrainingRequest:
    """Approve a submitted request (seed 002 §II); the next step, a date choice, is
    live_sessions.services.approve_with_date_choice."""
    with transaction.atomic():
        locked = TrainingRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
        if locked.status != TrainingRequest.Status.SUBMITTED:
            raise ValidationError(f"This request is already {locked.get_status_display().lower()}.")
        locked.status = TrainingRequest.Status.APPROVED
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.save(update_fields=["status", "decided_at", "decided_by"])
    request.status, request.decided_at, request.decided_by = locked.status, locked.decided_at, locked.decided_by
    return request


def _withdraw_waiting_occurrences(event, *, assignment_ids=None, course_set=None, keep_anchor, reason):
    """Cancel the still-waiting date occurrences counted from a date that is no longer the date (seed 001).

    The new date is a new occurrence (its dedupe key names the date), created by the scan when its day
    comes; messages already sent stay as they are.
    """
    waiting = Notification.objects.waiting().filter(event=event, context__has_key="anchor")
    if assignment_ids is not None:
        waiting = waiting.filter(context__assignment__in=list(assignment_ids))
    if course_set is not None:
        waiting = waiting.filter(context__course_set=course_set.pk)
    stale = waiting.exclude(context__anchor=anchor_ref(keep_anchor)) if keep_anchor else waiting
    return cancel(list(stale.values_list("pk", flat=True)), reason=reason)


def change_due_date(assignment, *, due_at, actor=None) -> Assignment:
    """Move (or clear) an assignment's due date; reminders still waiting for the old date are cancelled."""
    with transaction.atomic():
        locked = _locked(assignment)
        if locked.unassigned_at is not None:
            raise ValidationError(f"Cannot change the due date: {locked.learner.full_name} was unassigned.")
        if locked.due_at == due_at:
            return assignment
        locked.due_at = due_at
        locked.save(update_fields=["due_at"])
        _withdraw_waiting_occurrences(
            Event.PROGRAM_DUE, assignment_ids=[locked.pk], keep_anchor=due_at, reason="due_date_moved"
        )
    _refresh(assignment, locked)
    return assignment


def change_course_set_due_date(course_set, *, due_at, actor=None):
    """Move (or clear) a course set's due date for everyone; waiting reminders for the old date are cancelled."""
    with transaction.atomic():
        locked = CourseSet.objects.select_for_update().get(pk=course_set.pk)
        if locked.due_at == due_at:
            return course_set
        locked.due_at = due_at
        locked.save(update_fields=["due_at"])
        _withdraw_waiting_occurrences(
            Event.PROGRAM_COURSE_SET_DUE, course_set=locked, keep_anchor=due_at, reason="due_date_moved"
        )
    course_set.due_at = due_at
    return course_set
