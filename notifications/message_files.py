"""Bridge: an app's built-in message words kept as files, registered as built-in words.

The project's convention keeps each event's words in
`<app>/templates/messages/<event code>/<language>/subject.txt|body.txt|body.html|sms.txt`.
Until the notifications template loader reads those files itself, each app's
ready() calls `register_message_files_until_the_loader_exists(self)`; then
this module goes away.
"""

from pathlib import Path

# File name -> notifications.catalogue.register keyword.
_PARTS = {"subject.txt": "subject", "body.txt": "body", "body.html": "html_body", "sms.txt": "sms_body"}


def register_message_files_until_the_loader_exists(app_config):
    from notifications import catalogue

    messages_dir = Path(app_config.path) / "templates" / "messages"
    if not messages_dir.is_dir():
        return
    for event_dir in sorted(p for p in messages_dir.iterdir() if p.is_dir()):
        for language_dir in sorted(p for p in event_dir.iterdir() if p.is_dir()):
            parts = {
                keyword: (language_dir / name).read_text(encoding="utf-8").rstrip("\n")
                for name, keyword in _PARTS.items()
                if (language_dir / name).is_file()
            }
            if "subject" in parts and "body" in parts:
                catalogue.register(event_dir.name, language_dir.name, **parts)
