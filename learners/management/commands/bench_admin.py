"""Benchmark of two admin pages: a learner's timeline and the home page's attention panel.

    python manage.py bench_admin --learners 100000 --timeline 2000

Builds the data inside one transaction (learners, half of them without consent; one learner with
`--timeline` entries of every kind; an outbox; this week's sessions), measures each page through
Django's test client signed in as a superuser (queries and milliseconds, the median of `--repeat`
requests after one warm-up) and rolls everything back: the database is left as it was. Run it on
PostgreSQL; the figures go in the issue's note.
"""

import statistics
import time
from datetime import timedelta
from math import ceil

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner
from learners.timeline import learner_timeline
from live_sessions.models import LiveSession, SessionLearner
from lms_notify.bench_data import ENTRIES_PER_EACH, history, learner
from notifications.models import Notification

BUDGET_MS = 300


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the learner timeline page and the admin home's attention panel on large data (rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=100_000)
        parser.add_argument("--timeline", type=int, default=2_000, help="Entries in the measured learner's timeline.")
        parser.add_argument("--messages", type=int, default=50_000, help="Outbox rows besides the timeline's.")
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args, learners, timeline, messages, repeat, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run the bench on PostgreSQL (DATABASE_URL=postgres://…).")
        try:
            with transaction.atomic():
                self.report(*self.build(learners, timeline, messages), repeat=repeat)
                raise Rollback
        except Rollback:
            self.stdout.write("Data rolled back.")

    def build(self, n_learners, timeline, n_messages):
        started = time.perf_counter()
        now = timezone.now()
        Learner.objects.bulk_create(
            (
                Learner(
                    email=f"bench.admin.{i}@example.com",
                    first_name=f"First{i}",
                    last_name=f"Last{i}",
                    consent_given_at=now if i % 2 else None,
                )
                for i in range(n_learners)
            ),
            batch_size=5_000,
        )
        ids = list(Learner.objects.filter(email__startswith="bench.admin.").values_list("pk", flat=True)[:n_messages])
        statuses = ["sent"] * 7 + ["failed", "awaiting_confirmation", "omitted"]
        Notification.objects.bulk_create(
            (
                Notification(
                    event="program.assigned",
                    channel="email",
                    status=statuses[i % len(statuses)],
                    recipient_learner_id=ids[i % len(ids)],
                    dedupe_key=f"bench.admin.{i}",
                )
                for i in range(n_messages)
            ),
            batch_size=5_000,
        )
        for day in range(7):
            starts = now + timedelta(days=day - now.weekday(), hours=1)
            session = LiveSession.objects.create(
                title=f"Bench session {day}", status="ready", starts_at=starts, ends_at=starts + timedelta(hours=3)
            )
            SessionLearner.objects.bulk_create(
                SessionLearner(session=session, learner_id=pk, status="registered" if j < 18 else "waiting_list")
                for j, pk in enumerate(ids[day * 25 : day * 25 + 25])
            )
        chloe = learner(email="bench.admin.timeline@example.com")
        history(chloe, each=ceil(timeline / ENTRIES_PER_EACH))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"Built in {time.perf_counter() - started:.1f} s.")
        return chloe, n_learners

    def report(self, chloe, n_learners, *, repeat):
        superuser = get_user_model().objects.create_superuser("bench.admin", "bench@example.com", None)
        client = Client()
        client.force_login(superuser)
        timeline = reverse("admin:learners_learner_timeline", args=[chloe.pk])
        whole = learner_timeline(learner=chloe, user=superuser)
        self.stdout.write(f"The measured learner's timeline holds {whole.total} entries ({whole.num_pages} pages).")
        last_page = whole.num_pages
        pages = {
            "learner timeline, page 1": timeline,
            "learner timeline, last page": timeline + f"?page={last_page}",
            "learner timeline, failed or omitted messages": timeline + "?status=omitted",
            "admin home with the attention panel": reverse("admin:index"),
        }
        self.stdout.write(f"{n_learners} learners, {Notification.objects.count()} messages in the outbox.")
        with override_settings(ALLOWED_HOSTS=["*"]):
            for name, url in pages.items():
                queries, ms = self.measure(client, url, repeat)
                verdict = "ok" if ms < BUDGET_MS else f"OVER {BUDGET_MS} ms"
                self.stdout.write(f"{name}: {queries} queries, {ms:.0f} ms (median of {repeat}) — {verdict}")

    def measure(self, client, url, repeat):
        response = client.get(url)  # warm-up: templates, translations, the planner's caches
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
        return len(queries), statistics.median(times)
