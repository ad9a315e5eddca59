from pathlib import Path

from django.apps import AppConfig

MESSAGES_DIR = Path(__file__).resolve().parent / "templates" / "messages"

# File name -> notifications.catalogue.register keyword.
_PARTS = {"subject.txt": "subject", "body.txt": "body", "body.html": "html_body", "sms.txt": "sms_body"}


def register_message_files_until_the_loader_exists():
    """Bridge: register live_sessions/templates/messages/<event>/<language>/*.txt as built-in words.

    The project's convention keeps message words in these files; the notifications template loader will
    read them itself, and then this function goes away.
    """
    from notifications import catalogue

    if not MESSAGES_DIR.is_dir():
        return
    for event_dir in sorted(MESSAGES_DIR.iterdir()):
        for language_dir in sorted(p for p in event_dir.iterdir() if p.is_dir()):
            parts = {
                keyword: (language_dir / name).read_text(encoding="utf-8").rstrip("\n")
                for name, keyword in _PARTS.items()
                if (language_dir / name).is_file()
            }
            if "subject" in parts and "body" in parts:
                catalogue.register(event_dir.name, language_dir.name, **parts)


class LiveSessionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "live_sessions"

    def ready(self):
        from .messages import declare_template_variables

        register_message_files_until_the_loader_exists()
        declare_template_variables()
