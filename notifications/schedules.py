"""The django-q2 schedules the project needs, created by code (never by hand in the admin)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    minutes: int


SCHEDULES = (
    # The safety net: a message is normally dispatched right after it is queued (on commit).
    ScheduleSpec(name="notifications: dispatch outbox", func="notifications.tasks.dispatch_outbox_task", minutes=1),
    ScheduleSpec(name="notifications: scan triggers", func="notifications.tasks.scan_triggers_task", minutes=5),
    # The organiser's mailbox (calendar replies, bounces); returns at once without INBOUND_IMAP_URL.
    ScheduleSpec(name="notifications: poll inbound mailbox", func="notifications.tasks.poll_mailbox_task", minutes=1),
)


def ensure_schedules() -> dict[str, str]:
    """Create or update each schedule; running it again changes nothing.

    Returns {name: "created" | "updated" | "unchanged"}. The schedule's next run is
    left alone when it exists, so re-running this on every deploy does not delay it.
    """
    outcome = {}
    with transaction.atomic():
        for spec in SCHEDULES:
            wanted = {
                "func": spec.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": spec.minutes,
                "repeats": -1,
            }
            # Looked up by function too, so a schedule renamed by hand is not duplicated.
            schedule = (
                Schedule.objects.select_for_update().filter(name=spec.name).first()
                or Schedule.objects.select_for_update().filter(func=spec.func).order_by("pk").first()
            )
            if schedule is None:
                Schedule.objects.create(name=spec.name, next_run=timezone.now(), **wanted)
                outcome[spec.name] = "created"
                continue
            changed = {key: value for key, value in wanted.items() if getattr(schedule, key) != value}
            if schedule.name != spec.name:
                changed["name"] = spec.name
            if schedule.next_run is None:
                changed["next_run"] = timezone.now()
            if changed:
                Schedule.objects.filter(pk=schedule.pk).update(**changed)
            outcome[spec.name] = "updated" if changed else "unchanged"
    return outcome
