"""Running a Notify click (seed 000): chunk by chunk, locked, set-based, shared between processes.

Each chunk of up to CHUNK_SIZE learners is one transaction: lock the learners
and read what the checklist needs (notify.selectors, a fixed number of
queries), decide (notify.checklist), create the announced assignments through
programs.services.assign_many, render and enqueue the messages through the
outbox door, write one NotifyOutcome per learner and add the counts to the run.
`preview_notify` runs the very same decision without locks or writes.

Phase timings are measured per chunk and returned with the run
(`run.phase_seconds`), from forked processes too.
"""

import multiprocessing
import time
from collections import Counter

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from lms_notify.bulk import copy_rows, is_postgresql
from programs.services import assign_many

from ..models import NotifyOutcome, NotifyRun
from ..outbox.enqueue import enqueue
from .checklist import Action, decide, new_assignment_rows, notify_message
from .selectors import active_learner_ids, load_checklist_data, scope_learner_ids
from .shapes import ShapeCachedTemplates

CHUNK_SIZE = 5000


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
    now = timezone.now()
    for chunk in _chunks(ids):
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
    return {
        "total": len(ids),
        "actions": dict(actions),
        "omitted": dict(omitted),
        "to_send": sum(actions.values()),
        "omitted_total": sum(omitted.values()),
        "samples": samples,
        "assignments": {action: n for action, n in assignments.items() if n},
        "assignments_total": sum(assignments.values()),
    }


# --- Run ---


_OUTCOME_COLUMNS = ("run", "learner", "action", "reason", "notification", "created_at")


def _write_outcomes(rows):
    """One NotifyOutcome per learner of the chunk; on PostgreSQL streamed with COPY (no conflict is possible)."""
    if not rows:
        return
    if is_postgresql():
        copy_rows(NotifyOutcome, _OUTCOME_COLUMNS, rows)
        return
    names = [f"{name}_id" if name in ("run", "learner", "notification") else name for name in _OUTCOME_COLUMNS]
    NotifyOutcome.objects.bulk_create(
        [NotifyOutcome(**dict(zip(names, row, strict=True))) for row in rows], batch_size=CHUNK_SIZE
    )


def _process_chunk(run, chunk, *, actor, templates) -> Counter:
    """Decide and act for one chunk of learners in one transaction; returns seconds per phase."""
    clock = time.perf_counter
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
        messages = [notify_message(d, run=run, actor=actor) for d in decisions if d.sends]
        created = enqueue(messages, templates=templates, return_rows=False) if messages else {}
        t4 = clock()
        notification_of = {m.recipient.learner.pk: created.get(m.dedupe_key[:255]) for m in messages}
        _write_outcomes(
            [(run.pk, d.learner.pk, d.action, d.reason, notification_of.get(d.learner.pk), now) for d in decisions]
        )
        chunk_summary = {"sent": Counter(), "omitted": Counter(), "assigned": assigned}
        for d in decisions:
            if d.action == Action.OMITTED:
                chunk_summary["omitted"][d.reason] += 1
            else:
                chunk_summary["sent"][d.action] += 1
        _record_progress(run, processed=len(chunk), chunk_summary=chunk_summary)
        t5 = clock()
    return Counter(
        {
            "lock and read": t1 - t0,
            "decide": t2 - t1,
            "create assignments": t3 - t2,
            "render and enqueue": t4 - t3,
            "outcomes and progress": t5 - t4,
            "commit": clock() - t5,
        }
    )


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
    for chunk in chunks:
        phases.update(_process_chunk(run, chunk, actor=run.actor, templates=templates))
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
