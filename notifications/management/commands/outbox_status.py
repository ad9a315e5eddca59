import sys
from datetime import timedelta

from django.core.management.base import BaseCommand

from notifications.outbox.dispatch import outbox_health
from notifications.triggers import scan_health


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
        parser.add_argument(
            "--max-claimed-minutes",
            type=float,
            default=5,
            help="How long a worker may hold a claimed message before it counts as stuck (5).",
        )
        parser.add_argument(
            "--max-queued-age-minutes",
            type=float,
            default=120,
            help="Age of the oldest queued message, retries included (120).",
        )
        parser.add_argument(
            "--max-scan-intervals",
            type=float,
            default=3,
            help="Scan intervals the date-trigger scanner may go without a successful run (3).",
        )

    def handle(
        self,
        *args,
        max_queued,
        max_age_minutes,
        max_failures,
        max_scan_intervals,
        max_claimed_minutes,
        max_queued_age_minutes,
        **options,
    ):
        health = outbox_health(claimed_for=timedelta(minutes=max_claimed_minutes))
        scans = scan_health(now=health.now)
        age_minutes = health.oldest_due_age.total_seconds() / 60
        self.stdout.write(f"queued: {health.queued} (due now: {health.queued_due}, retrying: {health.retrying})")
        self.stdout.write(f"awaiting confirmation: {health.awaiting_confirmation}")
        self.stdout.write(f"oldest due message: {age_minutes:.1f} min" if health.oldest_due_at else "oldest due: none")
        queued_age_minutes = health.oldest_queued_age.total_seconds() / 60
        if health.oldest_queued_at:
            self.stdout.write(f"oldest queued message: queued {queued_age_minutes:.1f} min ago")
        self.stdout.write(
            f"claimed by a worker: {health.claimed} (longer than {max_claimed_minutes:g} min: "
            f"{health.claimed_too_long}; lease expired, free again: {health.lease_expired})"
        )
        self.stdout.write(f"failed in the last hour: {health.failures_last_hour}")
        interval_minutes = scans.interval.total_seconds() / 60
        late_minutes = scans.late_by.total_seconds() / 60
        if scans.last_run_at:
            self.stdout.write(
                f"trigger scan: last successful run {scans.last_run_at:%Y-%m-%d %H:%M:%S %Z}, "
                f"late by {late_minutes:.1f} min (every {interval_minutes:g} min)"
            )
        else:
            self.stdout.write(f"trigger scan: no successful run yet, late by {late_minutes:.1f} min")
        if scans.last_failure:
            self.stdout.write("trigger scan: the last scan failed in part: " + scans.last_failure.replace("\n", "; "))
        problems = []
        silent_minutes = scans.silent_for.total_seconds() / 60
        if silent_minutes > max_scan_intervals * interval_minutes:
            problems.append(
                f"the trigger scan has not succeeded for {silent_minutes:.1f} min > "
                f"{max_scan_intervals:g} intervals of {interval_minutes:g} min"
            )
        if health.queued_due > max_queued:
            problems.append(f"{health.queued_due} due messages > {max_queued}")
        if age_minutes > max_age_minutes:
            problems.append(f"oldest due message waits {age_minutes:.1f} min > {max_age_minutes:g}")
        if health.claimed_too_long:
            problems.append(f"{health.claimed_too_long} messages claimed for more than {max_claimed_minutes:g} min")
        if queued_age_minutes > max_queued_age_minutes:
            problems.append(f"oldest queued message {queued_age_minutes:.1f} min old > {max_queued_age_minutes:g}")
        if health.failures_last_hour > max_failures:
            problems.append(f"{health.failures_last_hour} failures in the last hour > {max_failures}")
        if problems:
            self.stderr.write("PROBLEM: " + "; ".join(problems))
            sys.exit(2)
        self.stdout.write("OK")
