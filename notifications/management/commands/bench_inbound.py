"""Benchmark of the inbound door: mixed inbound mail through receive_email.

    manage.py bench_inbound --messages 1000

Builds a ready session with learners invited and an email sent to each, then feeds `--messages` messages:
40 % calendar replies (Outlook, Google, Apple, Thunderbird; accept and decline), 30 % bounces (Postfix, Exim,
Microsoft 365; permanent and temporary), 15 % auto-replies, 15 % other mail. Prints the time of the receive
loop alone, messages per second and the rows by kind. Rows are tagged by run: use a throwaway database.
"""

import os
import random
import time
import uuid
from collections import Counter

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from learners.models import Learner
from live_sessions import services as sessions
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession, SessionLearner
from notifications.inbound import samples
from notifications.models import InboundMessage, Notification
from notifications.services import receive_email


def _plain(kind, n, tag) -> bytes:
    extra = "Auto-Submitted: auto-replied\r\nSubject: Automatic reply: out of office\r\n" if kind == "auto" else ""
    subject = "" if extra else "Subject: Question about the workshop\r\n"
    return (
        f"From: Someone <person{n}@example.net>\r\nTo: lms@inbound.example.org\r\n{extra}{subject}"
        f"Message-ID: <{kind}.{tag}.{n}@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "I am away until Monday.\r\n"
    ).encode()


class Command(BaseCommand):
    help = "Time receive_email over mixed inbound mail."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=19)

    def handle(self, *args, messages, seed, **options):
        rng = random.Random(seed)
        tag = uuid.uuid4().hex[:8]
        learners_needed = max(1, messages * 40 // 100)
        learners = Learner.objects.bulk_create(
            Learner(
                email=f"in-{tag}-{i}@example.org",
                first_name="In",
                last_name=str(i),
                consent_given_at=timezone.now(),
            )
            for i in range(learners_needed)
        )
        session = LiveSession.objects.create(
            title=f"Inbound bench {tag}",
            starts_at=timezone.now() + timezone.timedelta(days=30),
            ends_at=timezone.now() + timezone.timedelta(days=30, hours=3),
            capacity=0,
        )
        sessions.add_learners(session, learners)
        sessions.publish(session)
        rows = {
            row.recipient_learner_id: row
            for row in Notification.objects.filter(event="session.invitation", recipient_learner__in=learners)
        }
        Notification.objects.filter(pk__in=[r.pk for r in rows.values()]).update(status="sent", sent_at=timezone.now())
        bodies = []
        for n in range(messages):
            learner = learners[n % len(learners)]
            roll = rng.random()
            if roll < 0.40:
                client = samples.CLIENTS[n % 4]
                bodies.append(
                    samples.calendar_reply(
                        client,
                        uid=event_uid(session.pk, learner.pk),
                        attendee=learner.email,
                        partstat=rng.choice(["ACCEPTED", "DECLINED"]),
                        message_id=f"<reply.{tag}.{n}@example.net>",
                    )
                )
            elif roll < 0.70:
                bodies.append(
                    samples.bounce(
                        samples.BOUNCERS[n % 3],
                        recipient=learner.email,
                        original_message_id=rows[learner.pk].message_id,
                        status=rng.choice(["5.1.1", "5.1.1", "4.2.2"]),
                    ).replace(b"@mx.example.net>", f".{tag}.{n}@mx.example.net>".encode(), 1)
                )
            else:
                bodies.append(_plain("auto" if roll < 0.85 else "other", n, tag))
        database = {"queries": 0, "seconds": 0.0}

        def timed(execute, sql, params, many, context):
            database["queries"] += 1
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                database["seconds"] += time.perf_counter() - begun

        cpu = time.process_time()
        begun_at = timezone.now()
        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            for body in bodies:
                receive_email(body)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        received = InboundMessage.objects.filter(received_at__gte=begun_at)
        kinds = Counter(received.values_list("kind", flat=True))
        registered = SessionLearner.objects.filter(session=session, status="registered").count()
        self.stdout.write(
            f"{messages} messages in {elapsed:.2f} s ({messages / elapsed:.0f}/s); by kind: {dict(kinds)}; "
            f"registered from calendar replies: {registered}\n"
            f"{database['queries']} queries ({database['queries'] / messages:.1f} per message) waiting "
            f"{database['seconds']:.2f} s on the database; {cpu:.2f} s of CPU in this process; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
