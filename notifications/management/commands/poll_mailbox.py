"""Poll the inbound mailbox once (INBOUND_IMAP_URL, or --url), as the every-minute schedule does."""

from django.core.management.base import BaseCommand

from notifications.inbound.imap import poll_mailbox


class Command(BaseCommand):
    help = "Read the inbound IMAP mailbox once: calendar replies, bounces, auto-replies."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="imap(s)://user:password@host[:port]/FOLDER")

    def handle(self, *args, url, **options):
        result = poll_mailbox(url=url)
        if result.skipped:
            self.stdout.write("Nothing done: no mailbox configured (INBOUND_IMAP_URL), or another poll is running.")
            return
        self.stdout.write(f"{result.received} received, {result.repeated} already known, {result.moved} moved.")
        if result.error:
            self.stderr.write(f"Stopped early: {result.error}")
