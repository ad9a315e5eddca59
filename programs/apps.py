from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programs"
    verbose_name = _("Programs and training")

    def ready(self):
        # Imported here, not at the top: an AppConfig module loads before the models it would import.
        from notifications.services import DateTrigger, register_assigner, register_date_trigger, register_scanner

        from . import (
            elearning,  # noqa: F401 (registers the e-learning reminder scan (seed 002) and its send check)
            scanners,
            services,
        )

        # Notify (seed 000) opens the assignments it announces through programs, set-based.
        register_assigner(services.assign_many)
        # Date-based triggers of seed 001: the scan schedule runs them, the rule screen describes them.
        register_scanner(scanners.scan_program_triggers)
        for trigger in scanners.TRIGGERS.values():
            register_date_trigger(
                DateTrigger(
                    event=trigger.event,
                    timings=trigger.timings,
                    anchor=trigger.anchor,
                    preview=scanners.preview,
                    has_event=trigger.has_event,
                )
            )
