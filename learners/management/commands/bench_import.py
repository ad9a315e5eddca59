"""Benchmark of the learner import (seed 002 §I): N learners from a CSV file, with managers and groups.

    python manage.py bench_import --learners 10000

Prints the time of the preview (dry run), of three later pages of the preview (2, the middle one, the
last: each reads the kept file again and checks only its own rows), and of the import, the learners
created, and the messages queued (must be 0: an import sends nothing). Run it on PostgreSQL; it adds its
learners to the database (their emails name the run, so running it again imports new ones).
"""

import time
import uuid

import tablib
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from learners import uploads
from learners.import_preview import preview_page, summarise
from learners.imports import COLUMNS, import_learners
from learners.models import Invitation, Learner, LearnerGroup
from notifications.models import Notification


def build_dataset(n, *, tag, groups) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=COLUMNS)
    for i in range(n):
        # One learner in ten manages the nine after them, who are all in the same file.
        manager = "" if i % 10 == 0 else f"bench.{tag}.{i - i % 10}@example.com"
        dataset.append(
            [
                f"bench.{tag}.{i}@example.com",
                f"First{i}",
                f"Last{i}",
                f"+3361{i:07d}",
                ("en", "fr", "pl")[i % 3],
                ("Europe/Paris", "Europe/Warsaw", "UTC")[i % 3],
                manager,
                groups[i % len(groups)],
                "yes",
            ]
        )
    return dataset


class Command(BaseCommand):
    help = "Time the import of N learners from a file (preview and import); nothing must be sent."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=10_000)

    def handle(self, *args, learners, **options):
        groups = [LearnerGroup.objects.get_or_create(name=f"Bench group {i}")[0].name for i in range(4)]
        tag = uuid.uuid4().hex[:8]
        dataset = build_dataset(learners, tag=tag, groups=groups)
        csv_text = dataset.export("csv")
        messages_before = Notification.objects.count()

        started = time.perf_counter()
        preview = import_learners(tablib.Dataset().load(csv_text, format="csv"), dry_run=True)
        preview_seconds = time.perf_counter() - started
        if preview.has_errors() or preview.has_validation_errors():
            raise CommandError(f"The generated file has bad rows: {preview.invalid_rows[:3]}")

        user, _created = get_user_model().objects.get_or_create(username="bench-import", defaults={"is_staff": True})
        key = uploads.keep_upload(
            user=user, file_name="bench.csv", file_format="csv", content=csv_text.encode(), preview=summarise(preview)
        )
        page_seconds = []
        for page in (2, "middle", "last"):
            count = preview_page(key=key, user=user, page=1)[0].count
            number = {"middle": count // 2, "last": count}.get(page, page)
            started = time.perf_counter()
            shown, _result = preview_page(key=key, user=user, page=number)
            page_seconds.append(f"page {shown.number}/{shown.count} {time.perf_counter() - started:.2f} s")

        started = time.perf_counter()
        result = import_learners(tablib.Dataset().load(csv_text, format="csv"))
        import_seconds = time.perf_counter() - started

        created = Learner.objects.filter(email__startswith=f"bench.{tag}.").count()
        invitations = Invitation.objects.filter(learner__email__startswith=f"bench.{tag}.", source="bulk_import")
        messages = Notification.objects.count() - messages_before
        self.stdout.write(
            f"{learners} learners on {connection.vendor}: preview {preview_seconds:.1f} s "
            f"(then {', '.join(page_seconds)}), "
            f"import {import_seconds:.1f} s; created {created} ({result.totals['new']} new rows), "
            f"{invitations.count()} invitations recorded (bulk_import), {messages} messages queued"
        )
        if messages:
            raise CommandError("An import must send nothing.")
