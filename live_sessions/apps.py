from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MESSAGES_DIR = Path(__file__).resolve().parent / "templates" / "messages"


class LiveSessionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "live_sessions"
    verbose_name = _("Live sessions")

    def ready(self):
        from . import scanners  # noqa: F401  (registers the date-choice reminder scan)
