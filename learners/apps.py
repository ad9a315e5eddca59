from django.apps import AppConfig


class LearnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "learners"
    verbose_name = "Learners"

    def ready(self):
        from . import scanners  # noqa: F401  (registers the invitation reminder scan)
