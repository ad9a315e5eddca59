from django.db import migrations

# Exactly what pressing the Notify buttons and confirming messages takes (README: "Permissions").
# Frozen here on purpose: a later change of the group is a new migration.
NOTIFIER_PERMISSIONS = [
    ("learners", "learner", "view_learner"),
    ("learners", "learnergroup", "view_learnergroup"),
    ("notifications", "notifyrun", "add_notifyrun"),
    ("notifications", "notifyrun", "view_notifyrun"),
    ("notifications", "notifyoutcome", "view_notifyoutcome"),
    ("notifications", "notification", "view_notification"),
    ("notifications", "notification", "confirm_notification"),
]


def create_notifier_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after every migration has run; the group needs them now.
    for label in ("learners", "notifications"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Notifier")
    permissions = [
        Permission.objects.get(content_type__app_label=app, content_type__model=model, codename=codename)
        for app, model, codename in NOTIFIER_PERMISSIONS
    ]
    group.permissions.set(permissions)


def remove_notifier_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Notifier").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("learners", "0002_initial"),
        ("notifications", "0002_schedules"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="notification",
            options={
                "ordering": ["-created_at", "-pk"],
                "permissions": [("confirm_notification", "Can confirm messages awaiting confirmation")],
            },
        ),
        migrations.RunPython(create_notifier_group, remove_notifier_group),
    ]
