"""Delete the learner files uploaded for an import and not confirmed within IMPORT_UPLOAD_MAX_AGE_MINUTES."""

from django.core.management.base import BaseCommand

from learners import uploads


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        deleted = uploads.purge_expired_uploads()
        self.stdout.write(f"{deleted} upload(s) deleted.")
