"""Issue 19: the inbound mailbox is polled every minute from the moment the database is migrated (the task
returns at once while INBOUND_IMAP_URL is empty)."""

from django.db import migrations
from django.utils import timezone

NAME, FUNC = "notifications: poll inbound mailbox", "notifications.tasks.poll_mailbox_task"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    if not Schedule.objects.filter(func=FUNC).exists():
        Schedule.objects.create(
            name=NAME, func=FUNC, schedule_type="I", minutes=1, repeats=-1, next_run=timezone.now()
        )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0015_inbound_mail"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
