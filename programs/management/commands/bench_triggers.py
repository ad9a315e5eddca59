"""Benchmark of the date-trigger scan (seed 001) at scale, PostgreSQL only.

    manage.py bench_triggers --assignments 1000000 [--flush]

Builds learners (4 assignments each, 4 time zones, managers, 5 % without
consent), 12 programs and certifications with course sets, and 10 rules
covering every date trigger; 1 assignment in 20 has exactly one occurrence due
in the last 24 hours, the others have dates far from any rule's moment. Then,
each in a fresh process so its peak memory is its own:

1. a full scan of the day (the last successful scan was 24 hours earlier);
2. a scan right after it (nothing new);
3. a scan of a quiet five minutes (nothing due).

For each: time, queries, outbox rows created, peak RSS of the process.
Use a throwaway database (`createdb lms_bench_triggers && manage.py migrate`);
--flush empties the learners, programs and outbox tables first.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from learners.models import Learner
from notifications.models import Notification, NotificationRule, TriggerScan
from notifications.services import SCAN_OVERLAP, scan_triggers
from programs.models import Assignment, CourseSet, CourseSetCompletion, Program

TIMEZONES = ("Europe/Paris", "Europe/Warsaw", "UTC", "America/New_York")
LANGUAGES = ("en", "fr", "pl")
HOUR = 8
Timing = NotificationRule.Timing

# (event, timing, days, notify_manager, kind of program it needs)
RULES = (
    ("program.due", Timing.BEFORE, 3, True, "program"),
    ("program.due", Timing.ON_EVENT, 0, False, "program"),
    ("program.due", Timing.AFTER, 7, False, "program"),
    ("program.course_set_due", Timing.BEFORE, 2, False, "course_set"),
    ("program.completed", Timing.AFTER, 3, False, "program"),
    ("program.course_set_completed", Timing.AFTER, 1, False, "program"),
    ("certification.expiry", Timing.BEFORE, 30, True, "certification"),
    ("certification.window_open", Timing.ON_EVENT, 0, False, "certification"),
    ("certification.window_open", Timing.AFTER, 14, False, "certification"),
    ("certification.recertification_failed", Timing.ON_EVENT, 0, True, "certification"),
)
WINDOW_DAYS = 60


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def copy_rows(model, columns, rows):
    table = model._meta.db_table
    names = ", ".join(model._meta.get_field(c).column for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def last_local_8(now, tz):
    """The last 8:00 in `tz` at or before `now`: a moment inside the scanned day."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    day = local.date() if local.hour >= HOUR else local.date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, HOUR, tzinfo=zone)


def at_noon(day, tz):
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(tz))


class Command(BaseCommand):
    help = "Time scan_triggers over a large generated population (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--assignments", type=int, default=1_000_000)
        parser.add_argument("--flush", action="store_true", help="Empty learners, programs and the outbox first.")
        parser.add_argument("--scan", help=argparse.SUPPRESS, default=None)
        parser.add_argument("--since", help=argparse.SUPPRESS, default=None)
        # The database the parent built in (a test database too), whatever DATABASE_URL says.
        parser.add_argument("--database-name", help=argparse.SUPPRESS, default=None)

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_triggers runs on PostgreSQL only (set DATABASE_URL).")
        if options["scan"]:
            if options["database_name"]:
                connection.close()
                connection.settings_dict["NAME"] = options["database_name"]
            return self.scan(datetime.fromisoformat(options["scan"]), datetime.fromisoformat(options["since"]))
        if options["flush"]:
            self.flush()
        elif Assignment.objects.exists() or Notification.objects.exists():
            raise CommandError("The database already holds assignments or messages: use a throwaway one, or --flush.")
        # A fixed hour of the day far from 8:00 in every time zone used: the windows are not at an edge.
        now0 = timezone.now().replace(hour=17, minute=0, second=0, microsecond=0)
        started = time.perf_counter()
        expected = self.build(options["assignments"], now0)
        self.stdout.write(
            f"Built {options['assignments']:,} assignments in {time.perf_counter() - started:.1f} s; "
            f"{expected:,} occurrences due in the scanned day"
        )
        self.stdout.write("scan                      time      queries  created   peak RSS")
        runs = (
            ("full scan (5 % due)", now0, now0 - timedelta(days=1)),
            ("second scan right after", now0 + timedelta(minutes=1), now0),
            ("scan with nothing due", now0 + timedelta(hours=1, minutes=5), now0 + timedelta(hours=1)),
        )
        for label, at, since in runs:
            TriggerScan.objects.create(
                started_at=since, finished_at=since, window_start=since, window_end=since, status="done"
            )
            out = subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "bench_triggers",
                    "--scan",
                    at.isoformat(),
                    "--since",
                    since.isoformat(),
                    "--database-name",
                    connection.settings_dict["NAME"],
                ],
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            self.stdout.write(
                f"{label:<25} {result['seconds']:>6.2f} s  {result['queries']:>7}  {result['created']:>7,}  "
                f"{result['maxrss_mb']:>6.0f} MB"
            )

    def scan(self, at, since):
        TriggerScan.objects.filter(window_end__gt=since).delete()
        counter = {"n": 0}

        def count(execute, sql, params, many, context):
            counter["n"] += 1
            return execute(sql, params, many, context)

        baseline = maxrss_mb()
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            created = scan_triggers(now=at)
        seconds = time.perf_counter() - started
        assert SCAN_OVERLAP < timedelta(hours=1)
        self.stdout.write(
            json.dumps(
                {
                    "seconds": seconds,
                    "queries": counter["n"],
                    "created": created,
                    "maxrss_mb": maxrss_mb(),
                    "baseline_mb": baseline,
                }
            )
        )

    def flush(self):
        with connection.cursor() as cursor:
            for model in (Notification, TriggerScan, NotificationRule, CourseSetCompletion, Assignment, CourseSet):
                cursor.execute(f"TRUNCATE {model._meta.db_table} CASCADE")
            cursor.execute(f"TRUNCATE {Program._meta.db_table}, {Learner._meta.db_table} CASCADE")

    def build(self, total, now0) -> int:
        learners = max(1000, total // 4)
        # Learners, by COPY; managers are the first 1,000.
        copy_rows(
            Learner,
            [
                "email",
                "first_name",
                "last_name",
                "phone",
                "language",
                "timezone",
                "consent_given_at",
                "is_active",
                "created_at",
                "needs_review",
            ],
            (
                (
                    f"bench{i}@example.com",
                    f"First{i}",
                    f"Last{i}",
                    "",
                    LANGUAGES[i % 3],
                    TIMEZONES[i % 4],
                    None if i % 20 == 7 else now0 - timedelta(days=400),
                    True,
                    now0 - timedelta(days=400),
                    False,
                )
                for i in range(learners)
            ),
        )
        learner_ids = list(Learner.objects.order_by("pk").values_list("pk", flat=True))
        first = learner_ids[0]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Learner._meta.db_table} SET manager_id = %s + (id - %s) %% 1000 WHERE id >= %s",
                [first, first, first + 1000],
            )
        # Programs: 5 programs, 1 program whose course set is due in two days, 6 certifications.
        programs = [Program.objects.create(title=f"Program {i}") for i in range(5)]
        course_set_program = Program.objects.create(title="Program with a course set due soon")
        certifications = [
            Program.objects.create(
                title=f"Certification {i}",
                kind=Program.Kind.CERTIFICATION,
                validity_days=365,
                recertification_window_days=WINDOW_DAYS,
            )
            for i in range(6)
        ]
        all_programs = programs + [course_set_program] + certifications
        far = now0 + timedelta(days=300)
        course_sets = {
            p.pk: CourseSet.objects.create(program=p, title="Part 1", position=1, due_at=far) for p in all_programs
        }
        # The course set due date is a program-wide date: the day after tomorrow where most learners are.
        soon = last_local_8(now0, "Europe/Paris").date() + timedelta(days=2)
        CourseSet.objects.filter(pk=course_sets[course_set_program.pk].pk).update(due_at=at_noon(soon, "UTC"))
        for event, timing, days, manager, _kind in RULES:
            NotificationRule.objects.create(
                event=event,
                timing=timing,
                offset_days=days,
                channels=["email"],
                notify_learner=True,
                notify_manager=manager,
                requires_confirmation=True,
                active_since=now0 - timedelta(days=30),
            )
        by_kind = {
            "program": [r for r in RULES if r[4] == "program"],
            "certification": [r for r in RULES if r[4] == "certification"],
            "course_set": [r for r in RULES if r[4] == "course_set"],
        }
        completions = []
        expected = 0

        def rows():
            nonlocal expected
            for i in range(total):
                learner_index, slot = divmod(i, 4)
                learner_index %= learners
                tz = TIMEZONES[learner_index % 4]
                program = all_programs[(learner_index + 3 * slot) % len(all_programs)]
                kind = (
                    "course_set"
                    if program is course_set_program
                    else "certification"
                    if program.is_certification
                    else "program"
                )
                assigned = now0 - timedelta(days=500)
                due = completed = expires = unassigned = None
                spread = timedelta(days=(i * 7919) % 360)
                if i % 20 == 0 and learner_index % 20 != 7:
                    # Due in the scanned day under exactly one rule.
                    rules = by_kind[kind]
                    event, timing, days, _manager, _kind = rules[(i // 20) % len(rules)]
                    moment = last_local_8(now0, tz)
                    day = moment.date()
                    expected += 1
                    if event == "program.due":
                        shift = {Timing.BEFORE: days, Timing.AFTER: -days}.get(timing, 0)
                        due = at_noon(day + timedelta(days=shift), tz)
                    elif event == "program.course_set_due":
                        pass  # open: the course set's own date makes it due
                    elif event == "program.completed":
                        completed = at_noon(day - timedelta(days=days), tz)
                    elif event == "program.course_set_completed":
                        completions.append((i, at_noon(day - timedelta(days=days), tz)))
                    elif event == "certification.expiry":
                        completed = at_noon(day + timedelta(days=days), tz) - timedelta(days=365)
                    elif event == "certification.window_open":
                        opens = at_noon(day - timedelta(days=days), tz)
                        completed = opens + timedelta(days=WINDOW_DAYS) - timedelta(days=365)
                    else:  # failure to recertify: expired at 7:00 this morning
                        completed = moment - timedelta(hours=1) - timedelta(days=365)
                    if completed is not None and program.is_certification:
                        expires = completed + timedelta(days=365)
                elif kind == "course_set" or i % 20 in (5, 10):
                    completed = now0 - timedelta(days=30) - spread
                    if program.is_certification:
                        completed = now0 - timedelta(days=30) - spread / 2
                        expires = completed + timedelta(days=365)
                elif i % 20 == 15:
                    unassigned = now0 - timedelta(days=10) - spread
                else:
                    due = now0 + timedelta(days=40) + spread
                yield (
                    learner_ids[learner_index],
                    program.pk,
                    assigned,
                    due,
                    completed,
                    expires,
                    unassigned,
                )

        copy_rows(
            Assignment,
            ["learner", "program", "assigned_at", "due_at", "completed_at", "expires_at", "unassigned_at"],
            rows(),
        )
        if completions:
            first_assignment = Assignment.objects.order_by("pk").values_list("pk", flat=True).first()
            copy_rows(
                CourseSetCompletion,
                ["assignment", "course_set", "completed_at"],
                (
                    (
                        first_assignment + i,
                        course_sets[all_programs[((i // 4) % learners + 3 * (i % 4)) % 12].pk].pk,
                        at,
                    )
                    for i, at in completions
                ),
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return expected
