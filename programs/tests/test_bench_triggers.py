"""A tiny run of the date-trigger scan benchmark (seed 001 at scale), end to end: the population built, each
scan in a process of its own against the same database, the figures printed. The benchmark once broke
without any test noticing; the figures the README quotes come from it."""

import io
import re

import pytest
from django.core.management import call_command

from notifications.models import Notification


@pytest.mark.django_db(transaction=True)
def test_the_scan_benchmark_creates_every_due_occurrence_once_and_nothing_on_the_scans_after():
    out = io.StringIO()
    call_command("bench_triggers", "--assignments", "8000", stdout=out)

    text = out.getvalue()
    due = int(re.search(r"Built 8,000 assignments in [\d.]+ s; ([\d,]+) occurrences due", text).group(1))
    assert due == 400  # 1 assignment in 20

    def figures(label):
        line = re.search(rf"{re.escape(label)}\s+([\d.]+) s\s+(\d+)\s+([\d,]+)\s+(\d+) MB", text)
        assert line, text
        return float(line.group(1)), int(line.group(2)), int(line.group(3).replace(",", ""))

    seconds, queries, created = figures("full scan (5 % due)")
    # Each occurrence reaches its learner; the rules that copy the manager add one copy each.
    assert due < created == Notification.objects.count() and seconds > 0
    for label in ("second scan right after", "scan with nothing due"):
        _, later_queries, later_created = figures(label)
        assert later_created == 0 and later_queries < queries
    assert Notification.objects.count() == created
