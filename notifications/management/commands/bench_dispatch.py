"""Dispatch throughput against a local SMTP server, with 1 and 2 workers, and duplicate count.

Needs PostgreSQL (SKIP LOCKED is what lets workers share the queue):

    createdb lms_bench
    DATABASE_URL=postgres://root@127.0.0.1:5432/lms_bench python manage.py migrate
    DATABASE_URL=postgres://root@127.0.0.1:5432/lms_bench python manage.py bench_dispatch --messages 10000

It creates its own learners (addresses @bench.invalid) and messages, and deletes
them before each run and at the end; other data in the database is left alone.
"""

import multiprocessing
import os
import re
import socket
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

BENCH_DOMAIN = "bench.invalid"
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


class SinkHandler:
    """aiosmtpd handler that accepts everything and counts Message-IDs."""

    def __init__(self):
        self.ids = Counter()

    async def handle_DATA(self, server, session, envelope):
        match = _MESSAGE_ID.search(envelope.original_content or envelope.content)
        self.ids[match.group(1).decode() if match else None] += 1
        return "250 Message accepted for delivery"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp_server():
    import logging

    from aiosmtpd.controller import Controller

    # aiosmtpd logs every SMTP command at INFO: that alone would halve the throughput measured.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
    controller.start()
    return controller, handler


def point_email_at(host, port):
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = host, port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 30


def _worker(db_name, host, port, batch_size, barrier, results):
    """One dispatch worker in a fresh process with its own database connection."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_notify.settings")
    import logging

    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    # The parent may run on another database name (a test database).
    connections["default"].settings_dict["NAME"] = db_name
    point_email_at(host, port)
    if batch_size:
        settings.OUTBOX_BATCH_SIZE = batch_size
    logging.getLogger("notifications.outbox").setLevel(logging.WARNING)
    from notifications.outbox.dispatch import dispatch_outbox

    connections["default"].ensure_connection()
    barrier.wait(timeout=120)
    started, cpu = time.perf_counter(), time.process_time()
    sent = dispatch_outbox()
    results.put((sent, started, time.perf_counter(), time.process_time() - cpu))
    connections.close_all()


def delete_bench_data():
    from learners.models import Learner
    from notifications.models import Notification

    Notification.objects.filter(dedupe_key__startswith="bench:").delete()
    Learner.objects.filter(email__endswith="@" + BENCH_DOMAIN).delete()


def create_bench_messages(n, *, run):
    """n consenting learners with one queued email each (about 1 KB of text plus HTML)."""
    from django.utils import timezone

    from learners.models import Learner
    from notifications.models import Notification

    now = timezone.now()
    learners = Learner.objects.bulk_create(
        (
            Learner(
                email=f"r{run}-{i}@{BENCH_DOMAIN}",
                first_name="Bench",
                last_name=f"Learner {i}",
                consent_given_at=now,
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    paragraph = "You have been assigned the program Safety at work. Please complete it before the due date. " * 8
    rows = Notification.objects.bulk_create(
        (
            Notification(
                event="program.assigned",
                channel="email",
                recipient_learner=learner,
                to=learner.email,
                subject="You have been assigned: Safety at work",
                body=f"Hello {learner.full_name},\n\n{paragraph}\n",
                html_body=f"<p>Hello {learner.full_name},</p><p>{paragraph}</p>",
                status=Notification.Status.QUEUED,
                dedupe_key=f"bench:{run}:{learner.pk}",
                created_at=now,
                next_attempt_at=now,
            )
            for learner in learners
        ),
        batch_size=2000,
    )
    return {row.message_id for row in rows}


class Command(BaseCommand):
    help = "Measure outbox dispatch throughput to a local SMTP server with 1 and 2 worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=10000)
        parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker counts to run (1 2).")
        parser.add_argument("--batch-size", type=int, default=0, help="OUTBOX_BATCH_SIZE for the workers.")
        parser.add_argument("--keep", action="store_true", help="Leave the last run's data in the database.")

    def handle(self, *args, messages, workers, batch_size, keep, **options):
        from django.db import connection, connections

        from notifications.models import Notification

        if connection.vendor != "postgresql":
            raise CommandError("bench_dispatch needs PostgreSQL: set DATABASE_URL=postgres://... and migrate first.")
        if messages < 1 or any(w < 1 for w in workers):
            raise CommandError("--messages and --workers must be positive.")
        others = Notification.objects.filter(status=Notification.Status.QUEUED).exclude(dedupe_key__startswith="bench:")
        if others.exists():
            raise CommandError(
                f"{others.count()} queued messages that are not the benchmark's are in this database; "
                "use a dedicated database (createdb lms_bench) so none of them is sent."
            )
        controller, sink = start_smtp_server()
        db_name = connection.settings_dict["NAME"]
        self.stdout.write(f"SMTP sink on 127.0.0.1:{controller.port}; {messages} messages per run on {db_name}")
        self.results = []
        try:
            for run, count in enumerate(workers, start=1):
                delete_bench_data()
                expected = create_bench_messages(messages, run=run)
                sink.ids.clear()
                # Children open their own connections; none may inherit ours.
                connections.close_all()
                elapsed, sent, worker_cpu, sink_cpu = self._run_workers(count, db_name, controller, batch_size)
                received = Counter({mid: n for mid, n in sink.ids.items() if mid in expected})
                duplicates = sum(n - 1 for n in received.values())
                missing = len(expected - set(received))
                marked = Notification.objects.filter(dedupe_key__startswith=f"bench:{run}:", status="sent").count()
                rate = messages / elapsed if elapsed else float("inf")
                self.results.append(
                    {"workers": count, "seconds": elapsed, "rate": rate, "duplicates": duplicates, "missing": missing}
                )
                self.stdout.write(
                    f"{count} worker(s): {messages} messages in {elapsed:.2f} s = {rate:,.0f} messages/s; "
                    f"sent {sum(sent)} {sent}; rows marked sent {marked}; "
                    f"duplicate Message-IDs {duplicates}; missing {missing}"
                )
                self.stdout.write(
                    f"    CPU per message: dispatcher {1000 * worker_cpu / messages:.2f} ms, "
                    f"SMTP sink {1000 * sink_cpu / messages:.2f} ms"
                )
        finally:
            controller.stop()
            if not keep:
                delete_bench_data()
        if any(r["duplicates"] or r["missing"] for r in self.results):
            raise CommandError("Some messages were sent twice or not at all.")

    def _run_workers(self, count, db_name, controller, batch_size):
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(count)
        results = context.Queue()
        processes = [
            context.Process(
                target=_worker, args=(db_name, controller.hostname, controller.port, batch_size, barrier, results)
            )
            for _ in range(count)
        ]
        for process in processes:
            process.start()
        sink_cpu = time.process_time()
        outcomes = [results.get(timeout=3600) for _ in processes]
        # This process only runs the SMTP sink meanwhile (plus process start-up, a few ms).
        sink_cpu = time.process_time() - sink_cpu
        for process in processes:
            process.join(timeout=60)
        failed = [p.exitcode for p in processes if p.exitcode]
        if failed:
            raise CommandError(f"A worker process failed (exit codes {failed}).")
        started = min(o[1] for o in outcomes)
        finished = max(o[2] for o in outcomes)
        return finished - started, [o[0] for o in outcomes], sum(o[3] for o in outcomes), sink_cpu
