"""The django-q2 schedules exist as soon as the database is migrated (never made by hand).

Uses the historical Schedule model; `manage.py setup_schedules` (notifications.schedules)
repairs them later if someone edits them in the admin.
"""

from django.db import migrations
from django.utils import timezone

SCHEDULES = (
    ("notifications: dispatch outbox", "notifications.tasks.dispatch_outbox_task", 1),
    ("notifications: scan triggers", "notifications.tasks.scan_triggers_task", 5),
)


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        if not Schedule.objects.filter(func=func).exists():
            Schedule.objects.create(
                name=name, func=func, schedule_type="I", minutes=minutes, repeats=-1, next_run=timezone.now()
            )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func__in=[func for _, func, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
