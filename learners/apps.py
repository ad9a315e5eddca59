from django.apps import AppConfig


class LearnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "learners"

    def ready(self):
        from notifications.message_files import register_message_files_until_the_loader_exists

        from . import scanners  # noqa: F401  (registers the invitation reminder scan)

        register_message_files_until_the_loader_exists(self)
