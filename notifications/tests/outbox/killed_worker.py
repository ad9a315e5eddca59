"""A dispatch worker that is killed (SIGKILL) right after the SMTP server accepted its first message.

Run as `python -m notifications.tests.outbox.killed_worker DB_NAME RECEIVED_FILE` by the
issue 21 tests: no `finally`, no handler runs, exactly like kill -9 of a django-q2 cluster.
"""

import os
import signal
import sys

from django.core.mail.backends.base import BaseEmailBackend


class MessageIdFileBackend(BaseEmailBackend):
    """An SMTP server that accepts everything and writes down each Message-ID it received."""

    def send_messages(self, email_messages):
        from django.conf import settings

        with open(settings.RECEIVED_FILE, "a", encoding="utf-8") as received:
            for message in email_messages:
                received.write(message.extra_headers["Message-ID"] + "\n")
        return len(email_messages)


class DyingBackend(MessageIdFileBackend):
    def send_messages(self, email_messages):
        accepted = super().send_messages(email_messages)
        os.kill(os.getpid(), signal.SIGKILL)
        return accepted  # pragma: no cover - the process is gone


def main(db_name, received_file):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_notify.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    connections["default"].settings_dict["NAME"] = db_name
    settings.EMAIL_BACKEND = "notifications.tests.outbox.killed_worker.DyingBackend"
    settings.RECEIVED_FILE = received_file
    from notifications.outbox.dispatch import dispatch_outbox

    dispatch_outbox()


if __name__ == "__main__":
    main(*sys.argv[1:3])
