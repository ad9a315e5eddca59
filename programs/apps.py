from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programs"

    def ready(self):
        from notifications.message_files import register_message_files_until_the_loader_exists

        from . import elearning  # registers the e-learning reminder scan and its send check

        register_message_files_until_the_loader_exists(self)
        elearning.declare_template_variables()
