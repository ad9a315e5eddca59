"""Running a Notify click (seed 000): chunk by chunk, locked, set-based, shared between processes.

Each chunk of up to CHUNK_SIZE learners is one transaction: lock the learners
and read what the checklist needs (notify.selectors, a fixed number of
queries), decide (notify.checklist), create the announced assignments through
programs.services.assign_many (notify.assigning), render and enqueue the messages through the
outbox door, write one NotifyOutcome per learner and add the counts to the run.
`preview_notify` runs the very same decision without locks or writes.

Phase timings are measured per chunk and returned with the run
(`run.phase_seconds`), from forked processes too.
"""

import gc
import multiprocessing
import time
from collections import Counter
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from lms_notify.bulk import is_postgresql

from ..door import Origin, Plans, compose
from ..models import Channel, NotifyOutcome, NotifyRun
from ..outbox.enqueue import build_notification, enqueue
from ..templating import TemplateCache
from .assigning import assign_many
from .checklist import Action, decide, new_assignment_rows, notify_messages
from .selectors import active_learner_ids, load_checklist_data, scope_learner_ids
from .shapes import ShapeCachedTemplates

CHUNK_SIZE = 5000


@contextmanager
def _cycles_collected_after():
    """Python's cycle collector held back while a chunk runs, then run once over what the chunk left.

    A chunk allocates a few hundred thousand containers (rows, learners, messages) that stay alive until
    it ends: the collector, triggered by the allocations, would scan them again and again (and the whole
    heap now and then), a quarter of the Python time of a run (seed 000). Nearly everything is freed by
    reference counting when the chunk ends; the young generation, checked at the end, holds any cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect(1)


def _chunks(ids, size=None):
    size = size or CHUNK_SIZE
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- Preview --------------------------------------------------------------------------------


def preview_notify(learners, *, sample_size=5) -> dict:
    """What a click would do, computed by the same `decide`, with no lock and no write."""
    ids = active_learner_ids(learners)
    return preview_ids(ids, sample_size=sample_size)


def preview_ids(ids, *, sample_size=5) -> dict:
    actions, omitted, assignments = Counter(), Counter(), Counter()
    samples = {}
    # One learner per language the scope reads in: the preview shows the email she would get.
    first_by_language = {}
    now = timezone.now()
    for chunk in _chunks(ids):
        with _cycles_collected_after():
            data = load_checklist_data(chunk, now=now)
            for learner in data.learners:
                decision = decide(learner, data, now=now)
                key = decision.reason if decision.action == Action.OMITTED else decision.action
                (omitted if decision.action == Action.OMITTED else actions)[key] += 1
                # The same rows the run gives programs.services.assign_many: missing training, renewals.
                assignments[decision.action] += len(new_assignment_rows([decision], now=now))
                names = samples.setdefault(key, [])
                if len(names) < sample_size:
                    names.append(learner.full_name)
                if decision.sends:
                    first_by_language.setdefault(learner.language, decision)
    return {
        "emails": sample_emails(list(first_by_language.values()), now=now),
        "total": len(ids),
        "actions": dict(actions),
        "omitted": dict(omitted),
        "to_send": sum(actions.values()),
        "omitted_total": sum(omitted.values()),
        "samples": samples,
        "assignments": {action: n for action, n in assignments.items() if n},
        "assignments_total": sum(assignments.values()),
    }


class _PreviewRun:
    pk = None  # a run not started: its messages' references name no run


def sample_emails(decisions, *, now) -> list:
    """The email each decision's learner would get, as unsaved outbox rows (subject, body, html_body, language):
    the run's own path (the door's rules, then the outbox's rendering), nothing written."""
    if not decisions:
        return []
    messages = compose(notify_messages(decisions, run=_PreviewRun, actor=None), origin=Origin.ADMIN)
    own = {f"l{d.learner.pk}" for d in decisions}
    templates = TemplateCache(quiet=True)  # nothing is sent: the page shows a fallback, the log does not
    rows = [
        build_notification(m, templates=templates, now=now)
        for m in messages
        if m.recipient.key in own and m.channel == Channel.EMAIL
    ]
    return sorted(rows, key=lambda row: row.language)


# --- Run ---


_OUTCOME_SQL = """
    INSERT INTO {table} (run_id, learner_id, action, reason, notification_id, created_at)
    SELECT %s, learner, action, reason, notification, %s
    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[]) AS o(learner, action, reason, notification)
"""


def _array(values) -> str:
    """A PostgreSQL array literal of integers (None for NULL): one parameter for a whole chunk."""
    return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"


def _text_array(values) -> str:
    """A PostgreSQL array literal of texts (a chunk's actions or reasons: a handful of distinct values)."""
    quoted = {v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in set(values)}
    return "{" + ",".join(map(quoted.__getitem__, values)) + "}"


def _write_outcomes(run, decisions, notification_of, *, now):
    """One NotifyOutcome per learner of the chunk, with the message sent to them (notification_of: learner
    pk -> outbox row, None if not sent). On PostgreSQL one INSERT from arrays: no conflict is possible."""
    if not decisions:
        return
    learners = [d.learner.pk for d in decisions]
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                _OUTCOME_SQL.format(table=connection.ops.quote_name(NotifyOutcome._meta.db_table)),
                [
                    run.pk,
                    now,
                    _array(learners),
                    _text_array([d.action for d in decisions]),
                    _text_array([d.reason for d in decisions]),
                    _array([notification_of.get(pk) for pk in learners]),
                ],
            )
        return
    NotifyOutcome.objects.bulk_create(
        [
            NotifyOutcome(
                run_id=run.pk,
                learner_id=pk,
                action=d.action,
                reason=d.reason,
                notification_id=notification_of.get(pk),
                created_at=now,
            )
            for pk, d in zip(learners, decisions, strict=True)
        ],
        batch_size=CHUNK_SIZE,
    )


def _process_chunk(run, chunk, *, actor, templates, plans=None) -> Counter:
    """Decide and act for one chunk of learners in one transaction; returns seconds per phase."""
    clock = time.perf_counter
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        t0 = clock()
        now = timezone.now()
        data = load_checklist_data(chunk, now=now, lock=True)
        t1 = clock()
        decisions = [decide(learner, data, now=now) for learner in data.learners]
        t2 = clock()
        # Not announced by program.assigned: the Notify message itself names the training, and a
        # second message would break seed 000's limit of one message per learner per 24 hours.
        assigned = Counter()
        for action in (Action.MISSING_TRAINING, Action.RENEWAL):
            # One call per kind, so that the run can say what it assigned, as the preview announced it.
            rows = new_assignment_rows([d for d in decisions if d.action == action], now=now)
            if rows:
                assigned[action] = len(assign_many(rows, actor=actor, announce=False, now=now))
        t3 = clock()
        # The same door as every event: the rules of the Notify events (or their default rule: an email to
        # the learner), their recipients; sent by an administrator's click, so not held unless a rule says so.
        messages = compose(notify_messages(decisions, run=run, actor=actor), origin=Origin.ADMIN, plans=plans)
        created = enqueue(messages, templates=templates, return_rows=False) if messages else {}
        t4 = clock()
        notification_of = {}
        for m in messages:
            own = m.recipient.learner
            if own is not None and not m.recipient.as_manager and notification_of.get(own.pk) is None:
                notification_of[own.pk] = created.get(m.dedupe_key[:255])
        _write_outcomes(run, decisions, notification_of, now=now)
        chunk_summary = {"sent": Counter(), "omitted": Counter(), "assigned": assigned}
        for d in decisions:
            if d.action == Action.OMITTED:
                chunk_summary["omitted"][d.reason] += 1
            else:
                chunk_summary["sent"][d.action] += 1
        t5 = clock()
        if own_transaction:
            _check_references_now()
        t6 = clock()
        _record_progress(run, processed=len(chunk), chunk_summary=chunk_summary)
        t7 = clock()
    return Counter(
        {
            "lock and read": t1 - t0,
            "decide": t2 - t1,
            "create assignments": t3 - t2,
            "render and enqueue": t4 - t3,
            "outcomes": t5 - t4,
            "foreign keys checked": t6 - t5,
            "progress": t7 - t6,
            "commit": clock() - t7,
        }
    )


def _check_references_now():
    """Check the chunk's foreign keys (deferred to commit by default) before the run's row is locked.

    The progress update locks the run's row until commit, and chunks of one run are processed by
    several processes at once: checked at commit, the references of 10,000 new rows would keep the
    other processes waiting for the run's row. Checked here, the lock lasts only the commit itself.
    Only for a chunk that is its own transaction: the setting lasts until the transaction ends."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def start_run(*, actor, scope, group=None, learner=None, total=0) -> NotifyRun:
    """Record a click before its work starts (the admin shows progress of a queued run).

    `group` and `learner` may be objects or pks."""
    return NotifyRun.objects.create(
        actor=actor,
        scope=scope,
        group_id=getattr(group, "pk", group),
        learner_id=getattr(learner, "pk", learner),
        total=total,
        summary={"sent": {}, "omitted": {}},
    )


def _record_progress(run, *, processed, chunk_summary):
    """Add a chunk's counts to the run. The run row is locked: chunks of one run may be
    processed by several processes at once (see execute_run) and must not lose counts."""
    locked = NotifyRun.objects.select_for_update().only("summary").get(pk=run.pk)
    summary = locked.summary or {}
    for bucket in ("sent", "omitted", "assigned"):
        merged = Counter(summary.get(bucket, {}))
        merged.update(chunk_summary.get(bucket, {}))
        summary[bucket] = dict(merged)
    NotifyRun.objects.filter(pk=run.pk).update(processed=F("processed") + processed, summary=summary)
    run.processed += processed
    run.summary = summary


def _process_chunks(run, chunks) -> Counter:
    phases = Counter()
    templates = ShapeCachedTemplates()
    plans = Plans()
    for chunk in chunks:
        with _cycles_collected_after():
            phases.update(_process_chunk(run, chunk, actor=run.actor, templates=templates, plans=plans))
    return phases


def _process_part(run_pk, chunks) -> tuple[str, Counter]:
    """One process's share of a run (runs in a forked child: opens its own connection).
    Returns (error or "", seconds per phase) to the parent."""
    try:
        run = NotifyRun.objects.select_related("actor").get(pk=run_pk)
        return "", _process_chunks(run, chunks)
    except Exception as exc:  # reported to the parent, which marks the run failed
        return repr(exc)[:2000], Counter()
    finally:
        connections.close_all()


def _can_fork():
    # django-q2 workers are daemonic unless configured otherwise: they may not have children.
    return is_postgresql() and not multiprocessing.current_process().daemon


def execute_run(run: NotifyRun, ids=None, *, processes=None) -> NotifyRun:
    """Decide and send for every learner of the run, chunk by chunk; progress after each chunk.

    With `processes` > 1 (default settings.NOTIFY_PROCESSES) a scope of several chunks is
    shared between forked processes, so the Python work of deciding and rendering uses
    every core. Each learner belongs to exactly one chunk and every chunk locks its own
    learners, so rate limits and exactly-once hold as in a single process.

    The returned run carries `phase_seconds`: seconds per phase summed over every process.
    """
    if ids is None:
        ids = scope_learner_ids(scope=run.scope, group=run.group_id, learner=run.learner_id)
    run.total, run.processed, run.status = len(ids), 0, NotifyRun.Status.RUNNING
    run.summary = {"sent": {}, "omitted": {}}
    NotifyRun.objects.filter(pk=run.pk).update(total=run.total, processed=0, status=run.status, summary=run.summary)
    chunks = list(_chunks(ids))
    processes = min(settings.NOTIFY_PROCESSES if processes is None else processes, len(chunks))
    phases = Counter()
    try:
        if processes > 1 and _can_fork() and not connection.in_atomic_block:
            # Children must not share the parent's socket: close it; each opens its own.
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                parts = pool.starmap(_process_part, [(run.pk, chunks[i::processes]) for i in range(processes)])
            for _, part_phases in parts:
                phases.update(part_phases)
            errors = [error for error, _ in parts if error]
            if errors:
                raise RuntimeError("; ".join(errors))
        else:
            phases = _process_chunks(run, chunks)
    except Exception as exc:
        run.status, run.error, run.finished_at = NotifyRun.Status.FAILED, repr(exc)[:2000], timezone.now()
        NotifyRun.objects.filter(pk=run.pk).update(status=run.status, error=run.error, finished_at=run.finished_at)
        raise
    run.refresh_from_db(fields=["processed", "summary"])
    run.status, run.finished_at = NotifyRun.Status.DONE, timezone.now()
    NotifyRun.objects.filter(pk=run.pk).update(status=run.status, finished_at=run.finished_at)
    run.phase_seconds = phases
    return run


def notify_learners(learners, *, actor, scope, group=None, learner=None) -> NotifyRun:
    """One click of a Notify button over `learners` (queryset, Learner objects or pks)."""
    ids = active_learner_ids(learners)
    if scope == NotifyRun.Scope.LEARNER and learner is None and len(ids) == 1:
        learner = ids[0]
    run = start_run(actor=actor, scope=scope, group=group, learner=learner, total=len(ids))
    return execute_run(run, ids)
