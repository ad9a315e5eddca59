"""E-learning reminders (seed 002 §IV): before the end of an internal e-learning course not finished.

The course's duration (days from `starts_on` to `ends_on`) decides the reminders:
19 days or more → 15, 7 and 2 days before the end; 11 to 18 → 7 and 2; 6 to 10 → 2;
5 days or less → none (the seed leaves 5-day courses between two bands: they get none).

Each reminder is queued once (its dedupe key names the stage). The scan queues the
latest stage whose day has come, so a scan that runs late still sends it, but a
reminder whose day passed while the worker was down is not sent once a later one
is due. Nothing after the end day; nothing for a completed course, and a reminder
queued before the completion is cancelled at send time.
"""

import zoneinfo
from datetime import timedelta

from django.utils import timezone

from notifications.models import Channel, Event
from notifications.services import (
    Origin,
    OutgoingMessage,
    Recipient,
    learner_home_url,
    person_values,
    register_scanner,
    register_send_check,
    send_all,
)

from .models import Course, ELearningEnrollment

# (shortest duration in days, days before the end of each reminder), longest band first.
BANDS = ((19, (15, 7, 2)), (11, (7, 2)), (6, (2,)))
LONGEST_LEAD = 15


def reminder_days(duration_days: int) -> tuple[int, ...]:
    """Days before the end at which a course lasting `duration_days` is reminded."""
    for shortest, days in BANDS:
        if duration_days >= shortest:
            return days
    return ()


def due_reminder(enrollment, today) -> int | None:
    """The reminder (days before the end) to queue on `today`, or None."""
    if today > enrollment.ends_on:
        return None
    due = [
        d
        for d in reminder_days((enrollment.ends_on - enrollment.starts_on).days)
        if enrollment.ends_on - timedelta(days=d) <= today
    ]
    return min(due) if due else None


def _today(learner, now):
    try:
        return now.astimezone(zoneinfo.ZoneInfo(learner.timezone)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return now.date()


def reminder_message(enrollment, days, today) -> OutgoingMessage:
    learner = enrollment.learner
    return OutgoingMessage(
        event=Event.ELEARNING_REMINDER,
        channel=Channel.EMAIL,
        recipient=Recipient(learner=learner),
        occurrence=f"en{enrollment.pk}:{enrollment.ends_on:%Y%m%d}:d{days}",
        context={
            "learner": person_values(learner),
            "course": enrollment.course.title,
            "ends_on": enrollment.ends_on,
            "days_left": (enrollment.ends_on - today).days,
            "action_url": learner_home_url(),
        },
        refs={"elearning_enrollment": enrollment.pk},
    )


@register_scanner
def scan_elearning_reminders() -> int:
    """Queue the e-learning reminders due now: a fixed number of queries whatever the number of learners."""
    now = timezone.now()
    # A day of margin each side: "today" is the learner's own day, in their time zone.
    utc_today = now.date()
    enrollments = ELearningEnrollment.objects.filter(
        completed_at__isnull=True,
        course__kind=Course.Kind.ELEARNING,
        learner__is_active=True,
        ends_on__gte=utc_today - timedelta(days=1),
        ends_on__lte=utc_today + timedelta(days=LONGEST_LEAD + 1),
    ).select_related("learner", "course")
    messages = []
    for enrollment in enrollments:
        today = _today(enrollment.learner, now)
        days = due_reminder(enrollment, today)
        if days is not None:
            messages.append(reminder_message(enrollment, days, today))
    if not messages:
        return 0
    return len(send_all(messages, origin=Origin.SYSTEM, return_rows=False))


@register_send_check(Event.ELEARNING_REMINDER)
def elearning_still_unfinished(notifications) -> dict[int, str]:
    """A reminder queued before the learner finished the course is not sent (one query)."""
    wanted = {
        row.pk: int(row.context["elearning_enrollment"])
        for row in notifications
        if (row.context or {}).get("elearning_enrollment") is not None
    }
    if not wanted:
        return {}
    unfinished = set(
        ELearningEnrollment.objects.filter(pk__in=set(wanted.values()), completed_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    return {pk: "course_completed" for pk, enrollment_pk in wanted.items() if enrollment_pk not in unfinished}
