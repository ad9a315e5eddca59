"""Program, certification and training-request services (seeds 001 and 002)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification, NotificationRule
from programs import services
from programs.models import (
    Assignment,
    AssignmentException,
    Course,
    CourseSet,
    CourseSetCompletion,
    Program,
    TrainingRequest,
)

pytestmark = pytest.mark.django_db


def make_learner(email, **kwargs):
    first, _, last = email.partition("@")[0].partition(".")
    defaults = dict(first_name=first.title(), last_name=last.title() or "Doe", consent_given_at=timezone.now())
    defaults.update(kwargs)
    return Learner.objects.create(email=email, **defaults)


@pytest.fixture
def manager():
    return make_learner("maria.manager@example.com")


@pytest.fixture
def learner(manager):
    return make_learner("lena.learner@example.com", manager=manager)


@pytest.fixture
def program():
    program = Program.objects.create(title="Safety basics")
    CourseSet.objects.create(program=program, title="Part 1", position=1)
    CourseSet.objects.create(program=program, title="Part 2", position=2)
    return program


@pytest.fixture
def certification():
    return Program.objects.create(
        title="First aid", kind=Program.Kind.CERTIFICATION, validity_days=365, recertification_window_days=60
    )


@pytest.fixture
def assigned_rule():
    return NotificationRule.objects.create(
        event="program.assigned",
        channels=["email"],
        notify_learner=True,
        notify_manager=True,
        requires_confirmation=False,
    )


def outbox(event):
    return Notification.objects.filter(event=event)


def test_assigning_queues_program_assigned_for_learner_and_manager_when_a_rule_says_so(
    learner, manager, program, assigned_rule
):
    """seed 001: "Learner assigned in program" can notify the user or their manager."""
    assignment = services.assign(learner, program)

    rows = outbox("program.assigned")
    assert {row.recipient_learner for row in rows} == {learner, manager}
    assert {row.status for row in rows} == {Notification.Status.QUEUED}
    # The door keeps the program a rule may be limited to beside the assignment (issue 17).
    assert all(row.context == {"assignment": assignment.pk, "program": program.pk} for row in rows)


def test_assigning_twice_returns_the_open_assignment_and_notifies_once(learner, program, assigned_rule):
    """seed 001: a learner has one open assignment per program; assigning again is a no-op."""
    first = services.assign(learner, program)
    second = services.assign(learner, program)

    assert first.pk == second.pk
    assert Assignment.objects.filter(learner=learner, program=program).count() == 1
    assert outbox("program.assigned").count() == 2  # learner + manager, once each


def test_assigning_sends_nothing_when_no_rule_is_enabled(learner, program, assigned_rule):
    """seed 001: notifications are configured; a disabled trigger stays silent."""
    assigned_rule.is_enabled = False
    assigned_rule.save()

    services.assign(learner, program)

    assert Notification.objects.count() == 0


def test_a_rule_for_another_program_does_not_fire(learner, program, certification, assigned_rule):
    assigned_rule.program = certification
    assigned_rule.save()

    services.assign(learner, program)

    assert Notification.objects.count() == 0


def test_completing_a_certification_sets_its_expiry_from_validity(learner, certification):
    """seed 001: certification expiry is driven by the completion date plus validity."""
    assignment = services.assign(learner, certification)

    services.complete(assignment)

    assignment.refresh_from_db()
    assert assignment.completed_at is not None
    assert assignment.expires_at == assignment.completed_at + timedelta(days=365)


def test_completing_a_plain_program_sets_no_expiry(learner, program):
    assignment = services.assign(learner, program)
    services.complete(assignment)
    assignment.refresh_from_db()
    assert assignment.completed_at is not None and assignment.expires_at is None


def test_completing_every_course_set_completes_the_program(learner, program):
    """seed 001: "Program course set completed", then "Program completed" once all sets are done."""
    NotificationRule.objects.create(event="program.completed", channels=["email"], requires_confirmation=False)
    NotificationRule.objects.create(
        event="program.course_set_completed", channels=["email"], requires_confirmation=False
    )
    assignment = services.assign(learner, program)
    part1, part2 = program.course_sets.order_by("position")

    services.complete_course_set(assignment, part1)
    assignment.refresh_from_db()
    assert assignment.completed_at is None

    services.complete_course_set(assignment, part2)
    assignment.refresh_from_db()
    assert assignment.completed_at is not None
    assert outbox("program.course_set_completed").count() == 2
    assert outbox("program.completed").count() == 1


def test_completing_a_course_set_twice_records_it_once(learner, program):
    assignment = services.assign(learner, program)
    part1 = program.course_sets.first()

    first = services.complete_course_set(assignment, part1)
    second = services.complete_course_set(assignment, part1)

    assert first.pk == second.pk
    assert CourseSetCompletion.objects.count() == 1


def test_completing_an_unassigned_assignment_is_refused_and_changes_nothing(learner, program):
    """seed 001: only assigned learners complete; invalid transitions change nothing."""
    assignment = services.assign(learner, program)
    services.unassign(assignment)

    with pytest.raises(ValidationError, match="unassigned"):
        services.complete(assignment)
    with pytest.raises(ValidationError):
        services.complete_course_set(assignment, program.course_sets.first())

    assignment.refresh_from_db()
    assert assignment.completed_at is None
    assert CourseSetCompletion.objects.count() == 0


def test_completing_twice_is_refused(learner, certification):
    assignment = services.assign(learner, certification)
    services.complete(assignment)
    expires_at = Assignment.objects.get().expires_at

    with pytest.raises(ValidationError, match="already completed"):
        services.complete(assignment)
    assert Assignment.objects.get().expires_at == expires_at


def test_a_course_set_of_another_program_is_refused(learner, program, certification):
    other = CourseSet.objects.create(program=certification, title="CPR")
    assignment = services.assign(learner, program)
    with pytest.raises(ValidationError, match="not a course set"):
        services.complete_course_set(assignment, other)
    assert CourseSetCompletion.objects.count() == 0


def test_unassigning_notifies_and_frees_the_program_for_a_new_assignment(learner, program):
    """seed 001: "Learner unassigned from program"."""
    NotificationRule.objects.create(
        event="program.unassigned", channels=["email"], notify_manager=True, requires_confirmation=False
    )
    assignment = services.assign(learner, program)

    services.unassign(assignment)

    assert Assignment.objects.get(pk=assignment.pk).unassigned_at is not None
    assert outbox("program.unassigned").count() == 2
    with pytest.raises(ValidationError, match="already unassigned"):
        services.unassign(assignment)
    assert services.assign(learner, program).pk != assignment.pk


def test_an_exception_is_reported_to_site_administrators(learner, program):
    """seed 001: "New exception reported" notifies Site Administrators."""
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    NotificationRule.objects.create(
        event="program.exception",
        channels=["email"],
        notify_learner=False,
        notify_site_admins=True,
        requires_confirmation=False,
    )
    assignment = services.assign(learner, program)

    exception = services.report_exception(assignment, kind=AssignmentException.Kind.DUE_DATE_UNREACHABLE)

    [row] = outbox("program.exception")
    assert row.recipient_user == admin and row.recipient_learner is None
    assert row.context["exception"] == exception.pk


def test_an_unknown_exception_kind_is_refused(learner, program):
    assignment = services.assign(learner, program)
    with pytest.raises(ValidationError):
        services.report_exception(assignment, kind="bogus")
    assert AssignmentException.objects.count() == 0


@pytest.fixture
def course():
    return Course.objects.create(title="Excel advanced")


def test_a_training_request_is_confirmed_to_the_learner(learner, course):
    """seed 002 §II-A: the user receives a notification when they make a training request."""
    request = services.request_training(learner, course, requested_by=None)

    [row] = outbox("training_request.submitted")
    assert row.recipient_learner == learner and row.status == Notification.Status.QUEUED
    assert request.status == TrainingRequest.Status.SUBMITTED


def test_a_request_made_by_the_manager_says_so(learner, manager, course, monkeypatch):
    """seed 002 §II-A: if the manager makes the request, the notification is different."""
    manager.user = get_user_model().objects.create_user("maria", "maria.manager@example.com", "x")
    manager.save()
    seen = {}
    real_send_all = services.send_all

    def spy(messages, **kwargs):
        messages = list(messages)
        seen.update(messages[0].context)
        return real_send_all(messages, **kwargs)

    monkeypatch.setattr(services, "send_all", spy)

    services.request_training(learner, course, requested_by=manager.user)

    assert seen["requested_by_manager"] is True


def test_the_confirmation_can_be_switched_off_with_a_disabled_rule(learner, course):
    """seed 002 §II-A N.B.: this notification can be systematically disabled."""
    NotificationRule.objects.create(event="training_request.submitted", channels=["email"], is_enabled=False)

    services.request_training(learner, course, requested_by=None)

    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    "notify_learner, notify_manager, expected",
    [
        (True, False, {"learner"}),
        (False, True, {"manager"}),
        (True, True, {"learner", "manager"}),
        (False, False, set()),
    ],
)
def test_refusing_a_request_notifies_only_whom_the_administrator_chose(
    learner, manager, course, notify_learner, notify_manager, expected
):
    """seed 002 §II-B: the administrator decides to notify the user and/or their manager."""
    request = services.request_training(learner, course, requested_by=None)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")

    services.refuse_training_request(request, actor=admin, notify_learner=notify_learner, notify_manager=notify_manager)

    request.refresh_from_db()
    assert request.status == TrainingRequest.Status.REFUSED
    assert request.decided_by == admin and request.decided_at is not None
    people = {learner.pk: "learner", manager.pk: "manager"}
    rows = outbox("training_request.refused")
    assert {people[row.recipient_learner_id] for row in rows} == expected
    assert all(row.channel == "email" and row.status == Notification.Status.QUEUED for row in rows)


def test_refusing_an_already_refused_request_changes_nothing(learner, course):
    """seed 002 §II-B: a decision is made once."""
    request = services.request_training(learner, course, requested_by=None)
    services.refuse_training_request(request, actor=None, notify_learner=False, notify_manager=False)
    decided_at = TrainingRequest.objects.get().decided_at

    with pytest.raises(ValidationError, match="already refused"):
        services.refuse_training_request(request, actor=None, notify_learner=True, notify_manager=True)

    assert TrainingRequest.objects.get().decided_at == decided_at
    assert outbox("training_request.refused").count() == 0


def test_asking_to_notify_a_missing_manager_is_refused(course):
    orphan = make_learner("olga.orphan@example.com")
    request = services.request_training(orphan, course, requested_by=None)

    with pytest.raises(ValidationError, match="no manager"):
        services.refuse_training_request(request, actor=None, notify_learner=True, notify_manager=True)

    assert TrainingRequest.objects.get().status == TrainingRequest.Status.SUBMITTED
    assert outbox("training_request.refused").count() == 0


def test_an_inactive_learner_cannot_be_assigned(program):
    gone = make_learner("gary.gone@example.com", is_active=False)
    with pytest.raises(ValidationError, match="inactive"):
        services.assign(gone, program)
    assert Assignment.objects.count() == 0


def test_assign_many_opens_assignments_and_announces_each_like_assign(learner, manager, program, assigned_rule):
    """seed 001 (issue 8): the set-based assign_many fires program.assigned as assign does."""
    other = make_learner("olga.other@example.com")

    created = services.assign_many([(learner.pk, program.pk, None, None), (other.pk, program.pk, None, None)])

    assert len(created) == 2
    assert set(Assignment.objects.filter(pk__in=created).values_list("learner", flat=True)) == {learner.pk, other.pk}
    rows = outbox("program.assigned")
    assert {row.recipient_learner for row in rows} == {learner, manager, other}
    # Same occurrence as assign: assigning the same way again cannot notify twice.
    assigned = Assignment.objects.get(learner=learner)
    assert rows.filter(recipient_learner=learner).get().dedupe_key.endswith(f":a{assigned.pk}:r{assigned_rule.pk}")


def test_assign_many_keeps_an_open_assignment_and_says_nothing_about_it(learner, program, assigned_rule):
    """seed 001: one open assignment per program; assign_many skips it, whoever holds the lock first."""
    existing = services.assign(learner, program)
    Notification.objects.all().delete()

    created = services.assign_many([(learner.pk, program.pk, None, None), (learner.pk, program.pk, None, None)])

    assert created == []
    assert list(Assignment.objects.filter(learner=learner)) == [existing]
    assert not outbox("program.assigned").exists()


def test_assign_many_without_announcing_creates_silently(learner, program, assigned_rule):
    """Seed 000: Notify announces the training in its own message, so it asks for no program.assigned."""
    created = services.assign_many([(learner.pk, program.pk, None, None)], announce=False)

    assert len(created) == 1
    assert not outbox("program.assigned").exists()


def test_assign_many_costs_the_same_queries_for_3_and_for_30_learners(
    program, assigned_rule, django_assert_max_num_queries
):
    """House rule: set-based work, a fixed number of queries whatever the number of learners."""
    for size in (3, 30):
        learners = [make_learner(f"l{size}.{i}@example.com") for i in range(size)]
        # insert (2), rules, assignments with learners, guardians, templates, enqueue (5 with its savepoint),
        # undeliverable addresses (issue 19)
        with django_assert_max_num_queries(12):
            created = services.assign_many([(lr.pk, program.pk, None, None) for lr in learners])
        assert len(created) == size
