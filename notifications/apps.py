from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("Messaging")

    def ready(self):
        # Each app plugs its features in from its own modules, found here once the models are loaded:
        # `notifications` (its events, declared once: notifications.registry), `actions` (handlers of signed
        # links), `sendchecks` (send-time checks), `scanners` (date-based triggers) and `inbound` (answers that
        # come back by email). See docs/architecture.md.
        from . import checks, registry  # noqa: F401 (checks registers the catalogue's system check)

        registry.discover()
        autodiscover_modules("actions", "sendchecks", "scanners", "inbound")
        from .inbound import signals, webhooks  # noqa: F401 - address changes; providers' webhooks (anymail)
