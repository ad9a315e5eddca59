import sys

from django.core.management.base import BaseCommand

from notifications.outbox.dispatch import outbox_health


class Command(BaseCommand):
    help = (
        "Print the outbox backlog; exit with status 2 when a threshold is exceeded "
        "(for cron or a monitoring probe), 0 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-queued", type=int, default=5000, help="Due queued messages allowed (5000).")
        parser.add_argument(
            "--max-age-minutes", type=float, default=15, help="Age of the oldest due message allowed (15)."
        )
        parser.add_argument("--max-failures", type=int, default=10, help="Failed messages in the last hour (10).")

    def handle(self, *args, max_queued, max_age_minutes, max_failures, **options):
        health = outbox_health()
        age_minutes = health.oldest_due_age.total_seconds() / 60
        self.stdout.write(f"queued: {health.queued} (due now: {health.queued_due}, retrying: {health.retrying})")
        self.stdout.write(f"awaiting confirmation: {health.awaiting_confirmation}")
        self.stdout.write(f"oldest due message: {age_minutes:.1f} min" if health.oldest_due_at else "oldest due: none")
        self.stdout.write(f"failed in the last hour: {health.failures_last_hour}")
        problems = []
        if health.queued_due > max_queued:
            problems.append(f"{health.queued_due} due messages > {max_queued}")
        if age_minutes > max_age_minutes:
            problems.append(f"oldest due message waits {age_minutes:.1f} min > {max_age_minutes:g}")
        if health.failures_last_hour > max_failures:
            problems.append(f"{health.failures_last_hour} failures in the last hour > {max_failures}")
        if problems:
            self.stderr.write("PROBLEM: " + "; ".join(problems))
            sys.exit(2)
        self.stdout.write("OK")
