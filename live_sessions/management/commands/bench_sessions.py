"""Benchmark of a large live session (seed 003).

    manage.py bench_sessions --learners 2000 [--repeat 3]

Builds a draft session with calendar integration and N consenting learners,
then times, each with its query count:
- adding the N learners (live_sessions.services.add_learners);
- the publish confirmation page (who will get what, a sample) and publishing through it: N
  learners invited, N calendar invitations queued;
- the admin session page (Session Learners card, each learner's last message), the session's full learner
  list and the cancel confirmation page;
- the trainer's attendance form (reading it, and saving N answers).
Pages are rendered through Django's test client, signed in as a superuser
and a trainer the command creates. Every run tags its rows, so it can be
repeated in the same database; use a throwaway one, nothing is cleaned up.
"""

import re
import statistics
import time
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner
from live_sessions import services
from live_sessions.models import LiveSession, SessionLearner


@contextmanager
def measured():
    """{"seconds", "queries"} of the block."""
    result = {"queries": 0}

    def count(execute, sql, params, many, context):
        result["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - started


def shown_token(page) -> str:
    """The token the confirmation page posts back (what it showed): read from the page as a browser would."""
    return re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)


class Command(BaseCommand):
    help = "Time publishing a large live session and rendering its admin page and attendance form."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=2000)
        parser.add_argument("--repeat", type=int, default=3, help="Page renders to time (the median is printed).")

    def handle(self, *args, **options):
        n, repeat = options["learners"], max(1, options["repeat"])
        tag = timezone.now().strftime("%Y%m%d%H%M%S%f")
        now = timezone.now()
        self.stdout.write(f"Building {n} learners and a draft session (tag {tag}) on {connection.vendor}...")
        learners = Learner.objects.bulk_create(
            Learner(
                email=f"bench-{tag}-{i}@example.com",
                first_name="Bench",
                last_name=f"{tag}-{i:06d}",
                consent_given_at=now,
                timezone="Europe/Paris",
            )
            for i in range(n)
        )
        user_model = get_user_model()
        admin = user_model.objects.create_superuser(f"bench-admin-{tag}", f"bench-admin-{tag}@example.com", None)
        trainer = user_model.objects.create_user(f"bench-trainer-{tag}", f"bench-trainer-{tag}@example.com", None)
        session = LiveSession.objects.create(
            title=f"Bench session {tag}",
            starts_at=now + timedelta(days=7),
            ends_at=now + timedelta(days=7, hours=3),
            timezone="Europe/Paris",
            capacity=n,
            calendar_integration=True,
        )
        session.trainers.add(trainer)

        with measured() as add:
            services.add_learners(session, learners, actor=admin)
        self.report(f"Add {n} learners to the draft session", add)
        admin_client, trainer_client = Client(), Client()
        admin_client.force_login(admin)
        trainer_client.force_login(trainer)
        # The administrator looks at who will be invited, then confirms on the same page.
        publish_url = reverse("admin:live_sessions_livesession_publish", args=[session.pk])
        with measured() as look:
            page = admin_client.get(publish_url)
        assert page.status_code == 200, page.status_code
        self.report("Publish confirmation page (who will get what, a sample)", look, highlight=True)
        with measured() as publish:
            response = admin_client.post(publish_url, {"token": shown_token(page), "confirm": "1"})
        assert response.status_code == 302, response.status_code
        invited = session.session_learners.filter(status=SessionLearner.Status.INVITED).count()
        self.report(f"Publish: {invited} learners invited, calendar invitations queued", publish, highlight=True)

        # Everyone accepted: the attendance form lists the whole roster.
        session.session_learners.update(status=SessionLearner.Status.REGISTERED)
        pages = [
            ("Admin session page (Session Learners card)", admin_client, "admin:live_sessions_livesession_change"),
            ("Admin list of the session's learners (page 1)", admin_client, None),
            ("Admin session list", admin_client, "admin:live_sessions_livesession_changelist"),
            (
                "Cancel confirmation page (who will get what, a sample)",
                admin_client,
                "admin:live_sessions_livesession_cancel",
            ),
            ("Trainer attendance form", trainer_client, "trainer:attendance"),
        ]
        for label, client, name in pages:
            if name == "admin:live_sessions_livesession_changelist":
                url = reverse(name)
            elif name:
                url = reverse(name, args=[session.pk])
            else:
                url = reverse("admin:live_sessions_sessionlearner_changelist") + f"?session__id__exact={session.pk}"
            client.get(url)  # warm caches (templates, permissions) once
            runs = []
            for _ in range(repeat):
                with measured() as run:
                    response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                runs.append(run)
            median = {
                "seconds": statistics.median(r["seconds"] for r in runs),
                "queries": max(r["queries"] for r in runs),
            }
            self.report(
                f"{label}, {len(response.content) // 1024} KB",
                median,
                highlight=label.startswith(("Admin s", "Cancel")),
            )

        # The trainer takes attendance as the session starts: attendance is only open from then.
        started = timezone.now() - timedelta(minutes=5)
        LiveSession.objects.filter(pk=session.pk).update(starts_at=started, ends_at=started + timedelta(hours=3))
        answers = {f"learner_{pk}": "attended" for pk in session.session_learners.values_list("pk", flat=True)}
        with measured() as save:
            response = trainer_client.post(reverse("trainer:attendance", args=[session.pk]), answers)
        attended = session.session_learners.filter(status=SessionLearner.Status.ATTENDED).count()
        self.report(f"Save the attendance form: {attended} marked attended", save)

    def report(self, label, measure, *, highlight=False):
        line = f"{label}: {measure['seconds']:.3f} s, {measure['queries']} queries"
        self.stdout.write(self.style.SUCCESS(line) if highlight else line)
