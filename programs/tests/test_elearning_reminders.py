"""Seed 002 §IV: reminders before the end of an unfinished internal e-learning course, by its duration —
19 days or more: 15, 7 and 2 days before the end; 11 to 18: 7 and 2; 6 to 10: 2; 5 days or less: none."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification, NotificationRule
from notifications.services import dispatch_outbox
from programs.elearning import reminder_days, scan_elearning_reminders
from programs.models import Course, ELearningEnrollment

# These tests are about when reminders go and when they are cancelled at sending time: email is switched to
# automatic (seed 004's default holds them for confirmation: notifications/tests/test_door.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("automatic_channels")]

ENDS = date(2026, 6, 30)
_n = iter(range(10_000))


def enroll(duration, *, course=None, **fields):
    n = next(_n)
    learner = Learner.objects.create(
        email=f"l{n}@example.com",
        first_name=f"Ada{n}",
        last_name="Lovelace",
        consent_given_at=datetime(2026, 1, 1, tzinfo=UTC),
        timezone="Europe/Paris",
    )
    course = course or Course.objects.create(title="Data protection", kind=Course.Kind.ELEARNING)
    return ELearningEnrollment.objects.create(
        learner=learner, course=course, starts_on=ENDS - timedelta(days=duration), ends_on=ENDS, **fields
    )


def scan_on(days_before_end, hour=9):
    day = ENDS - timedelta(days=days_before_end)
    with time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=UTC), tick=False):
        return scan_elearning_reminders()


def stages(enrollment=None):
    rows = Notification.objects.filter(event="elearning.reminder")
    if enrollment is not None:
        rows = rows.filter(recipient_learner=enrollment.learner)
    return [row.dedupe_key.rsplit(":", 1)[1] for row in rows.order_by("pk")]


def scan_every_day():
    for before in range(40, -3, -1):
        scan_on(before)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (40, ["d15", "d7", "d2"]),
        (19, ["d15", "d7", "d2"]),
        (18, ["d7", "d2"]),
        (11, ["d7", "d2"]),
        (10, ["d2"]),
        (6, ["d2"]),
        (5, []),  # the 5-day edge: between the seed's bands, no reminder
        (3, []),
    ],
)
def test_seed_002_each_duration_band_gets_its_reminders_once_each(duration, expected):
    enrollment = enroll(duration)
    scan_every_day()
    scan_every_day()  # a second pass creates nothing new
    assert stages(enrollment) == expected


def test_seed_002_the_bands_in_words():
    assert reminder_days(19) == (15, 7, 2) and reminder_days(18) == (7, 2) and reminder_days(11) == (7, 2)
    assert reminder_days(10) == (2,) and reminder_days(6) == (2,)
    assert reminder_days(5) == () and reminder_days(0) == ()


def test_seed_002_the_reminder_is_sent_on_its_day_and_says_how_many_days_are_left():
    enrollment = enroll(30)
    assert scan_on(16) == 0
    assert scan_on(15) == 1
    (row,) = Notification.objects.filter(event="elearning.reminder")
    assert row.to == enrollment.learner.email and "15" in row.subject and "Data protection" in row.body


def test_seed_002_a_completed_learner_gets_nothing_and_a_queued_reminder_is_cancelled(mailoutbox):
    done = enroll(30, completed_at=datetime(2026, 6, 1, tzinfo=UTC))
    scan_every_day()
    assert stages(done) == []
    finishing = enroll(30)
    scan_on(7)
    ELearningEnrollment.objects.filter(pk=finishing.pk).update(completed_at=timezone.now())
    dispatch_outbox()
    (row,) = Notification.objects.filter(event="elearning.reminder")
    assert (row.status, row.reason) == ("cancelled", "course_completed") and mailoutbox == []


def test_seed_002_a_late_scan_still_sends_the_reminder_once():
    enrollment = enroll(30)
    assert scan_on(12) == 1  # the D-15 scan never ran: sent three days late, no later one being due yet
    assert scan_on(11) == 0
    assert stages(enrollment) == ["d15"]


def test_seed_002_a_reminder_whose_day_passed_while_the_worker_was_down_is_not_sent_when_a_later_one_is_due():
    enrollment = enroll(30)
    assert scan_on(6) == 1  # the worker was down from D-16 to D-6: D-15 is skipped, D-7 goes
    scan_on(2)
    assert stages(enrollment) == ["d7", "d2"]


def test_seed_002_nothing_after_the_end_nor_for_a_classroom_course():
    late = enroll(30)
    assert scan_on(-1) == 0 and stages(late) == []
    classroom = enroll(30, course=Course.objects.create(title="Forklift", kind=Course.Kind.CLASSROOM))
    scan_every_day()
    assert stages(classroom) == []


def test_seed_002_an_administrator_can_switch_the_e_learning_reminders_off():
    NotificationRule.objects.create(event="elearning.reminder", channels=["email"], is_enabled=False)
    enroll(30)
    scan_every_day()
    assert stages() == []


def test_seed_002_the_scan_costs_a_fixed_number_of_queries():
    course = Course.objects.create(title="Data protection", kind=Course.Kind.ELEARNING)
    counts = []
    for learners, before in ((3, 15), (40, 7)):
        for _ in range(learners):
            enroll(30 if before == 15 else 14, course=course)
        with CaptureQueriesContext(connection) as queries:
            created = scan_on(before)
        counts.append((created, len(queries)))
    # D-7 also reminds the 3 learners of the first pass (30-day course): 43 reminders, same queries.
    assert [c for c, _ in counts] == [3, 43] and counts[0][1] == counts[1][1] <= 8
