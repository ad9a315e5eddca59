"""Benchmark of the Notify buttons (seed 000) at scale, PostgreSQL only.

    manage.py bench_notify --learners 100000 [--processes N] [--no-one-process] [--no-naive] [--tracemalloc]

Builds a realistic population in bulk (groups requiring programs, assignments
in every state, pending invitations, certifications inside and outside their
recertification window, learners without consent, some recently notified),
then times one "Notify All Learners" over it: time to decide and enqueue,
queries issued, peak memory, seconds by phase. With several processes (the
default NOTIFY_PROCESSES) a second population is then run in one process, and
the figures of both are printed. --naive also runs a straightforward per-learner
loop over 1,000 learners (per-learner queries, rows created one at a time)
and prints how many times slower it is per learner.

Every run tags its rows (emails bench-<tag>-..., groups and programs named
after the tag), so it can be repeated in the same database; use a throwaway
database, the data is not cleaned up.
"""

import argparse
import gc
import os
import resource
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from learners.models import GroupMembership, Invitation, Learner, LearnerGroup
from notifications.models import NotifyOutcome, NotifyRun
from notifications.notify import engine
from notifications.notify.checklist import decide, new_assignment_rows, notify_message
from notifications.notify.engine import notify_learners
from notifications.notify.selectors import load_checklist_data
from notifications.notify.summary import describe_run
from notifications.outbox import enqueue
from notifications.templating import TemplateCache
from programs.models import Assignment, CourseSet, CourseSetCompletion, Program

BATCH = 5000


@contextmanager
def count_queries():
    counter = {"n": 0}

    def wrapper(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def _cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _backend_cpu_seconds():
    """CPU seconds used so far by this connection's PostgreSQL backend, or None when the server's
    processes cannot be read (a server on another machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_SERVER_CPU = "PostgreSQL CPU"


@contextmanager
def measure_server_cpu():
    """Adds the CPU of the PostgreSQL backends that served the run, forked processes included, to the run's
    phase_seconds under _SERVER_CPU (each process reads its own backend before its connection closes)."""
    original = engine._process_chunks

    def measured(run, chunks):
        before = _backend_cpu_seconds()
        phases = original(run, chunks)
        after = _backend_cpu_seconds()
        if before is not None and after is not None:
            phases[_SERVER_CPU] += after - before
        return phases

    engine._process_chunks = measured
    try:
        yield
    finally:
        engine._process_chunks = original


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Time Notify All Learners over a large generated population (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, default=1000)
        parser.add_argument(
            "--processes", type=int, default=None, help="Processes sharing the run (default: NOTIFY_PROCESSES)."
        )
        parser.add_argument(
            "--naive",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Also time a per-learner loop over 1,000 learners and print the ratio (default: yes).",
        )
        parser.add_argument("--naive-learners", type=int, default=1000)
        parser.add_argument(
            "--one-process",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="With several processes, also time the same work in one process (default: yes).",
        )
        parser.add_argument("--tracemalloc", action="store_true", help="Measure Python allocations (slower).")
        parser.add_argument("--profile", action="store_true", help="Print where the set-based run spends its time.")
        parser.add_argument("--sort", default="cumtime", help="Profile order (cumtime, tottime).")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_notify runs on PostgreSQL only (set DATABASE_URL).")
        n = options["learners"]
        tag = timezone.now().strftime("%Y%m%d%H%M%S")
        self.stdout.write(f"Building {n} learners (tag {tag})...")
        started = time.perf_counter()
        ids = self.build(n, f"{tag}a")
        self.stdout.write(f"  built in {time.perf_counter() - started:.1f} s")
        gc.collect()

        processes = options["processes"] or settings.NOTIFY_PROCESSES
        elapsed = self.timed_run(ids, processes=processes, options=options)
        if options["one_process"] and processes > 1:
            # The same work in one process, on a second population of the same shape (the first one
            # is now rate limited): what a click costs where forking is not possible (django-q2 workers).
            self.stdout.write(f"Building {n} more learners for the one-process run...")
            one_ids = self.build(n, f"{tag}b")
            gc.collect()
            one = self.timed_run(one_ids, processes=1, options={**options, "profile": False, "tracemalloc": False})
            self.stdout.write(f"  {processes} processes take {elapsed / one:.2f} of the one-process time")

        if options["naive"]:
            m = options["naive_learners"]
            naive_ids = self.build(m, f"{tag}n")
            with count_queries() as queries:
                started = time.perf_counter()
                self.naive(naive_ids)
                naive_elapsed = time.perf_counter() - started
            per_naive, per_set = naive_elapsed / m, elapsed / n
            self.stdout.write(
                f"Naive loop: {m} learners in {naive_elapsed:.2f} s ({per_naive * 1000:.3f} ms per learner), "
                f"{queries['n']} queries"
            )
            self.stdout.write(self.style.SUCCESS(f"Set-based is {per_naive / per_set:.1f}x faster per learner"))

    def timed_run(self, ids, *, processes, options):
        """Time one Notify All Learners over `ids` with `processes` processes; print and return seconds."""
        n = len(ids)
        settings.NOTIFY_PROCESSES = processes
        self.stdout.write(f"  processes sharing the run: {processes}")
        rss_before = maxrss_mb()
        if options["tracemalloc"]:
            tracemalloc.start()
        profiler = None
        if options["profile"]:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds()
        with count_queries() as queries, measure_server_cpu():
            started = time.perf_counter()
            run = notify_learners(ids, actor=None, scope=NotifyRun.Scope.ALL_LEARNERS)
            elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        server_cpu = run.phase_seconds.pop(_SERVER_CPU, None)
        if profiler is not None:
            import io
            import pstats

            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(options.get("sort") or "cumtime").print_stats(35)
            self.stdout.write(out.getvalue())
        self.stdout.write(
            self.style.SUCCESS(
                f"Set-based, {processes} process{'es' if processes > 1 else ''}: "
                f"{n} learners decided and enqueued in {elapsed:.2f} s"
            )
        )
        self.stdout.write(f"  {elapsed / n * 1000:.3f} ms per learner, {queries['n']} queries")
        server = f"{server_cpu:.2f} s" if server_cpu is not None else "not readable"
        self.stdout.write(
            f"  CPU of the Python processes {cpu:.2f} s, of their PostgreSQL backends {server}; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after on {os.cpu_count()} cores"
        )
        self.stdout.write(f"  {describe_run(run.summary)}")
        self.stdout.write(f"  peak RSS {maxrss_mb():.0f} MB (before the run: {rss_before:.0f} MB)")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if processes > 1 and children:
            # Forked processes: their queries are not counted here, only their memory and phases.
            self.stdout.write(f"  peak RSS of one forked process {children:.0f} MB (queries above: parent only)")
        phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run.phase_seconds.items())
        self.stdout.write(f"  phases (seconds summed over the processes): {phases}")
        if processes > 1:
            each = ", ".join(f"{name} {seconds / processes:.2f} s" for name, seconds in run.phase_seconds.items())
            self.stdout.write(f"  phases per process (mean): {each}")
        if options["tracemalloc"]:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.stdout.write(f"  peak Python allocations during the run: {peak / 1024 / 1024:.0f} MB")
        return elapsed

    # --- data -----------------------------------------------------------------------------

    def build(self, n, tag):
        """A realistic population; returns the learners' pks. Category by i % 100."""
        now = timezone.now()
        programs = Program.objects.bulk_create(
            [Program(title=f"{tag} program {k}") for k in range(15)]
            + [
                Program(
                    title=f"{tag} certification {k}",
                    kind=Program.Kind.CERTIFICATION,
                    validity_days=365,
                    recertification_window_days=60,
                )
                for k in range(5)
            ]
        )
        plain, certs = programs[:15], programs[15:]
        course_sets = CourseSet.objects.bulk_create(
            [CourseSet(program=p, title=f"Part {k}", position=k) for p in programs for k in range(3)]
        )
        first_set = {cs.program_id: cs for cs in course_sets if cs.position == 0}
        group_count = max(5, n // 500)
        groups = LearnerGroup.objects.bulk_create([LearnerGroup(name=f"{tag} group {k}") for k in range(group_count)])
        required = {}
        for k, group in enumerate(groups):
            required[group.pk] = [plain[k % 15], plain[(k + 1) % 15]]
            group.programs.add(*required[group.pk])
        run = NotifyRun.objects.create(scope=NotifyRun.Scope.ALL_LEARNERS, status=NotifyRun.Status.DONE)

        # Emails are unique, blank included: only one learner without an address per database.
        blank_email_free = not Learner.objects.filter(email="").exists()
        ids = []
        for start in range(0, n, BATCH):
            with transaction.atomic():
                batch = Learner.objects.bulk_create(
                    [
                        Learner(
                            email="" if i == min(99, n - 1) and blank_email_free else f"bench-{tag}-{i}@example.com",
                            first_name=f"Learner{i}",
                            last_name=tag,
                            language=("en", "fr", "pl")[i % 3],
                            consent_given_at=None if i % 100 < 5 else now - timedelta(days=400),
                        )
                        for i in range(start, min(n, start + BATCH))
                    ]
                )
                memberships, invitations, assignments, outcomes, completions = [], [], [], [], []
                for offset, learner in enumerate(batch):
                    i, cat = start + offset, (start + offset) % 100
                    group = groups[i % group_count]
                    memberships.append(GroupMembership(learner=learner, group=group))
                    a, b = required[group.pk]
                    done = dict(completed_at=now - timedelta(days=30))
                    if 5 <= cat < 15:
                        invitations.append(Invitation(learner=learner, sent_at=now - timedelta(days=10)))
                        if cat < 10:
                            assignments.append(Assignment(learner=learner, program=a))
                    elif 15 <= cat < 55:
                        assignments.append(Assignment(learner=learner, program=a, due_at=now + timedelta(days=cat)))
                        assignments.append(Assignment(learner=learner, program=b, **done))
                    elif 55 <= cat < 70:
                        pass  # missing: the group requires a and b, nothing on the dashboard
                    elif 70 <= cat < 85:
                        assignments += [Assignment(learner=learner, program=p, **done) for p in (a, b)]
                        expires = now + timedelta(days=20 if cat < 80 else 200)  # in / out of the window
                        cert = certs[i % 5]
                        assignments.append(
                            Assignment(
                                learner=learner,
                                program=cert,
                                completed_at=expires - timedelta(days=365),
                                expires_at=expires,
                            )
                        )
                    elif 85 <= cat < 90:
                        outcomes.append(
                            NotifyOutcome(
                                run=run,
                                learner=learner,
                                action=NotifyOutcome.Action.MISSING_TRAINING,
                                created_at=now - timedelta(hours=2),
                            )
                        )
                    else:
                        assignments += [Assignment(learner=learner, program=p, **done) for p in (a, b)]
                GroupMembership.objects.bulk_create(memberships)
                Invitation.objects.bulk_create(invitations)
                Assignment.objects.bulk_create(assignments)
                NotifyOutcome.objects.bulk_create(outcomes)
                completions = [
                    CourseSetCompletion(assignment=x, course_set=first_set[x.program_id])
                    for x in assignments
                    if x.completed_at is None and x.pk % 2
                ]
                CourseSetCompletion.objects.bulk_create(completions)
                ids.extend(learner.pk for learner in batch)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return ids

    # --- the naive comparison -----------------------------------------------------------------

    def naive(self, ids):
        """What one would write first: per learner, read, decide, create and send one at a time."""
        run = NotifyRun.objects.create(scope=NotifyRun.Scope.ALL_LEARNERS, total=len(ids))
        templates = TemplateCache()
        for pk in ids:
            with transaction.atomic():
                now = timezone.now()
                data = load_checklist_data([pk], now=now, lock=True)
                for learner in data.learners:
                    decision = decide(learner, data, now=now)
                    for learner_id, program_id, group_id, due_at in new_assignment_rows([decision], now=now):
                        Assignment.objects.create(
                            learner_id=learner_id, program_id=program_id, group_id=group_id, due_at=due_at
                        )
                    notification = None
                    if decision.sends:
                        created = enqueue([notify_message(decision, run=run, actor=None)], templates=templates)
                        notification = created[0] if created else None
                    NotifyOutcome.objects.create(
                        run=run,
                        learner=learner,
                        action=decision.action,
                        reason=decision.reason,
                        notification=notification,
                        created_at=now,
                    )
                    NotifyRun.objects.filter(pk=run.pk).update(processed=run.processed + 1)
                    run.processed += 1
