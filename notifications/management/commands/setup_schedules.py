from django.core.management.base import BaseCommand

from notifications.schedules import ensure_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (outbox dispatch, trigger scan). Safe to run on every deploy."

    def handle(self, *args, **options):
        for name, outcome in ensure_schedules().items():
            self.stdout.write(f"{name}: {outcome}")
