from django.db import migrations

TRAINERS_GROUP = "Trainers"


def create_trainers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=TRAINERS_GROUP)


def remove_trainers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=TRAINERS_GROUP).delete()


class Migration(migrations.Migration):
    """Trainers sign in to the attendance pages; administrators pick a session's trainers from this group."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("live_sessions", "0002_waiting_list_feedback_attendance"),
    ]

    operations = [migrations.RunPython(create_trainers_group, remove_trainers_group)]
