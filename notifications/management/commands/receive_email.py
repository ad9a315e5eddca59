"""Hand inbound emails to the inbound door from files or standard input.

    manage.py receive_email reply.eml bounce.eml     # files, one message each
    manage.py receive_email < message.eml             # standard input (a mail server's pipe alias)

A mail server can deliver the organiser's address straight here instead of to a mailbox: Postfix
`lms: "|/srv/lms/.venv/bin/python /srv/lms/manage.py receive_email"` in /etc/aliases.
"""

import sys

from django.core.management.base import BaseCommand

from notifications.inbound.receive import receive


class Command(BaseCommand):
    help = "Receive inbound emails (RFC 5322 files or standard input): calendar replies, bounces, ..."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="message files; none: read one message from standard input")

    def handle(self, *args, files, **options):
        sources = files or ["-"]
        for name in sources:
            if name == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(name, "rb") as handle:
                    raw = handle.read()
            row = receive(raw, source="pipe")
            if row is None:
                self.stdout.write(f"{name}: already received, nothing more done")
            else:
                self.stdout.write(f"{name}: {row.get_kind_display()}, {row.get_result_display()}: {row.outcome}")
