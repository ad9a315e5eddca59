"""The Notify buttons (seed 000): one smart, spam-proof decision per learner.

For each learner in scope the checklist runs in this order and stops at the
first match: pending invitation (sent again), incomplete assigned training
(reminder listing complete and incomplete training), missing training required
by the learner's groups (assignments created, learner told), certification due
for renewal (new open assignment, learner told), else nothing.

Omissions are decided BEFORE anything is created: a learner without consent
or without an email address gets nothing at all, not even the assignments a
message would have announced. Notify is a messaging action; silently putting
training on the dashboard of someone we may not tell would start due-date
reminders and exceptions nobody asked for, and would make the preview lie
("0 missing training" while assignments appear). Administrators who want the
training assigned regardless assign it to the group explicitly. The same goes
for rate-limited learners: nothing sent, nothing created.

Rate limits (seed 000: 1 message per 24 hours, 3 per 14 days, rolling
windows, across every button and scope) count NotifyOutcome rows that were
not omitted. They hold under concurrent clicks because every chunk locks its
learners' rows (one SELECT ... FOR UPDATE in pk order) before counting, and
writes its outcomes in the same transaction.

Sending an invitation again does not touch the Invitation row (its own
reminder schedule belongs to seed 002); the outbox row and the outcome record
the resend.

Work is set-based: a chunk of up to CHUNK_SIZE learners costs a fixed number
of queries (see selectors.load_checklist_data), so 10 and 10,000 learners
cost the same per chunk. `preview_notify` runs the very same `decide` without
locks or writes.
"""

import html
import multiprocessing
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import urlize

from programs.models import Assignment, Program

from .models import Channel, Event, NotifyOutcome, NotifyRun
from .selectors import RATE_LIMITS, active_learner_ids, load_checklist_data, scope_learner_ids
from .services import OutgoingMessage, Recipient, enqueue
from .templating import RenderedMessage, TemplateCache
from .variables import person_values

CHUNK_SIZE = 5000

Action = NotifyOutcome.Action
Reason = NotifyOutcome.Reason

EVENT_FOR_ACTION = {
    Action.INVITATION: Event.NOTIFY_INVITATION,
    Action.TRAINING_REMINDER: Event.NOTIFY_TRAINING_REMINDER,
    Action.MISSING_TRAINING: Event.NOTIFY_MISSING_TRAINING,
    Action.RENEWAL: Event.NOTIFY_RENEWAL,
}


class Done(NamedTuple):
    """Training listed as complete in a reminder (templates read item.title, item.completed_at)."""

    title: str
    completed_at: object


class ToDo(NamedTuple):
    title: str
    due_at: object


@dataclass
class Decision:
    learner: object
    action: str
    reason: str = ""
    invitation_id: int | None = None
    complete: list = field(default_factory=list)
    incomplete: list = field(default_factory=list)
    # program pk -> group pk that requires it
    missing: dict = field(default_factory=dict)
    # [(program dict, expires_at)], soonest expiry first
    renewals: list = field(default_factory=list)
    # program pk -> title, for the message of missing training
    programs_titles: dict = field(default_factory=dict)

    @property
    def sends(self):
        return self.action != Action.OMITTED


def _still_valid(row, now):
    return (
        row["completed_at"] is not None
        and row["unassigned_at"] is None
        and (row["expires_at"] is None or row["expires_at"] > now)
    )


def _checklist(learner, data, now) -> Decision | None:
    pk = learner.pk
    # 1. Pending invitation: sent again.
    if pk in data.pending_invitation:
        return Decision(learner, Action.INVITATION, invitation_id=data.pending_invitation[pk])

    rows = data.assignments.get(pk, [])
    open_rows = [r for r in rows if r["completed_at"] is None and r["unassigned_at"] is None]
    # 2. Incomplete assigned training: what is complete, what still needs attention.
    if open_rows:
        complete, incomplete = [], []
        for row in sorted(rows, key=lambda r: r["completed_at"] or now):
            if _still_valid(row, now):
                complete.append(Done(data.programs[row["program_id"]]["title"], row["completed_at"]))
        for row in open_rows:
            program = data.programs[row["program_id"]]
            course_sets = data.course_sets.get(row["program_id"], [])
            if not course_sets:
                incomplete.append(ToDo(program["title"], row["due_at"]))
            done = data.completions.get(row["pk"], {})
            for cs in course_sets:
                title = f"{program['title']}: {cs['title']}"
                if cs["pk"] in done:
                    complete.append(Done(title, done[cs["pk"]]))
                else:
                    incomplete.append(ToDo(title, cs["due_at"] or row["due_at"]))
        return Decision(learner, Action.TRAINING_REMINDER, complete=complete, incomplete=incomplete)

    # 3. Missing training: required by a group, neither open (none here) nor completed and still valid.
    have = {r["program_id"] for r in rows if _still_valid(r, now)}
    missing = {p: g for p, g in data.required.get(pk, {}).items() if p not in have}
    if missing:
        return Decision(learner, Action.MISSING_TRAINING, missing=missing)

    # 4. Renewal: the latest completion of a certification expires and its window is open.
    latest = {}
    for row in rows:
        if row["completed_at"] is not None and row["unassigned_at"] is None:
            best = latest.get(row["program_id"])
            if best is None or row["completed_at"] > best["completed_at"]:
                latest[row["program_id"]] = row
    renewals = []
    for program_id, row in latest.items():
        program = data.programs[program_id]
        if program["kind"] != Program.Kind.CERTIFICATION or row["expires_at"] is None:
            continue
        window = timedelta(days=program["recertification_window_days"] or 0)
        if now >= row["expires_at"] - window:
            renewals.append((program, row["expires_at"]))
    if renewals:
        renewals.sort(key=lambda item: item[1])
        return Decision(learner, Action.RENEWAL, renewals=renewals)
    return None


def decide(learner, data, *, now) -> Decision:
    """The one decision both the preview and the real run use."""
    if learner.consent_given_at is None:
        return Decision(learner, Action.OMITTED, Reason.NO_CONSENT)
    if not (learner.email or "").strip():
        return Decision(learner, Action.OMITTED, Reason.NO_CONTACT)
    decision = _checklist(learner, data, now)
    if decision is None:
        return Decision(learner, Action.OMITTED, Reason.UP_TO_DATE)
    recent = data.recent.get(learner.pk, (0, 0))
    if any(count >= limit for count, (_, limit) in zip(recent, RATE_LIMITS, strict=True)):
        return Decision(learner, Action.OMITTED, Reason.RATE_LIMITED)
    return decision


# --- Rendering 100,000 messages -----------------------------------------------------------------

_MARK = "\x01{}\x02"
_LEARNER_FIELDS = ("first_name", "last_name", "full_name")
# Stands in for the learner (a dict of plain values, notifications.variables) while a shape is rendered once.
_SENTINEL_LEARNER = {name: _MARK.format(name) for name in _LEARNER_FIELDS}


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    try:
        hash(value)  # the Notify contexts are tuples of named tuples: hashable as they are
        return value
    except TypeError:
        if isinstance(value, list | tuple):
            return tuple(_freeze(v) for v in value)
        raise


def _html_value(value):
    # The generated HTML version urlizes the body: addresses and links become anchors there too.
    if "." in value or "@" in value or ":" in value:
        return urlize(value, nofollow=True, autoescape=True)
    return html.escape(value)  # what django.utils.html.escape does, without its lazy-argument wrapper


class _Same:
    """A lazy translation (the event label) in a shape key, compared by identity: building the key
    must not translate it for every message. The key holds the object, so its id is never reused."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return id(self.value)

    def __eq__(self, other):
        return type(other) is _Same and other.value is self.value


class ShapeCachedTemplates(TemplateCache):
    """Renders each message *shape* once per batch instead of once per learner.

    Most Notify messages of a batch differ only by the learner's name, address
    and link: the same event, language, time zone and training lists. The first
    message of a shape is rendered for real and once more with placeholders; the
    rest are filled in by string substitution. A shape whose placeholder version,
    filled in, does not give exactly the real first message (a filter applied to
    the name, another learner attribute used, ...) is always rendered for real,
    so the shortcut can never change a word.
    """

    def __init__(self):
        super().__init__()
        self._shapes = {}

    def render(self, event, language, context, *, tz="UTC"):
        learner = context.get("learner")
        if type(learner) is not dict or not learner.keys() <= set(_LEARNER_FIELDS):
            return super().render(event, language, context, tz=tz)
        values = {name: str(learner.get(name) or "") for name in _LEARNER_FIELDS}
        values["recipient_name"] = str(context.get("recipient_name", ""))
        values["action_url"] = str(context.get("action_url", ""))
        rest = {k: v for k, v in context.items() if k not in ("learner", "recipient_name", "action_url")}
        flags = tuple(bool(v) for v in values.values())
        try:
            # Hashable as they come (tuples of named tuples): no need to freeze them message by message.
            items = tuple((k, _Same(v) if issubclass(type(v), Promise) else v) for k, v in rest.items())
            key = (event, language, tz, items, flags)
            hash(key)
        except TypeError:
            try:
                key = (event, language, tz, _freeze(rest), flags)
            except TypeError:
                return super().render(event, language, context, tz=tz)
        proto = self._shapes.get(key)
        if proto is None:
            real = super().render(event, language, context, tz=tz)
            marked = {
                **context,
                "learner": _SENTINEL_LEARNER,
                "recipient_name": _MARK.format("recipient_name"),
                **({"action_url": _MARK.format("action_url")} if "action_url" in context else {}),
            }
            proto = _Proto(super().render(event, language, marked, tz=tz))
            if proto.fill(values) != real:
                proto = False
            self._shapes[key] = proto
            return real
        if proto is False:
            return super().render(event, language, context, tz=tz)
        return proto.fill(values)


_MARK_RE = re.compile("\x01([a-z_]+)\x02")


class _Proto:
    """A message rendered with placeholders, split once into text and placeholder names."""

    def __init__(self, rendered):
        self.parts = tuple(
            _MARK_RE.split(text) for text in (rendered.subject, rendered.body, rendered.html_body, rendered.sms_body)
        )

    def fill(self, values):
        html_values = {}

        def join(parts, html=False):
            if len(parts) == 1:
                return parts[0]
            out = list(parts)
            for i in range(1, len(out), 2):
                name = out[i]
                if name not in values:
                    out[i] = _MARK.format(name)
                elif html:
                    if name not in html_values:
                        html_values[name] = _html_value(values[name])
                    out[i] = html_values[name]
                else:
                    out[i] = values[name]
            return "".join(out)

        subject, body, html_body, sms_body = self.parts
        return RenderedMessage(
            subject=" ".join(join(subject).split())[:300],
            body=join(body),
            html_body=join(html_body, html=True),
            sms_body=join(sms_body),
        )


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
    actions, omitted = Counter(), Counter()
    samples = {}
    now = timezone.now()
    for chunk in _chunks(ids):
        data = load_checklist_data(chunk, now=now)
        for learner in data.learners:
            decision = decide(learner, data, now=now)
            key = decision.reason if decision.action == Action.OMITTED else decision.action
            (omitted if decision.action == Action.OMITTED else actions)[key] += 1
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
    }


# --- Run --------------------------------------------------------------------------------------


def _invitation_url(invitation_id, learner):
    try:
        from .links import make_action_url
    except ImportError:
        return f"{settings.SITE_URL}/invitations/{invitation_id}/"
    return make_action_url(
        purpose="invitation",
        obj=invitation_id,
        recipient=Recipient(learner=learner),
        expires_in=timedelta(days=settings.ACTION_LINK_DAYS),
    )


def _message(decision: Decision, *, run, actor) -> OutgoingMessage:
    learner = decision.learner
    context = {"learner": person_values(learner)}
    refs = {"notify_run": run.pk}
    if decision.action == Action.INVITATION:
        context["action_url"] = _invitation_url(decision.invitation_id, learner)
        refs["invitation"] = decision.invitation_id
    elif decision.action == Action.TRAINING_REMINDER:
        context.update(complete=tuple(decision.complete), incomplete=tuple(decision.incomplete))
    elif decision.action == Action.MISSING_TRAINING:
        context["programs"] = tuple(decision.programs_titles[p] for p in decision.missing)
    elif decision.action == Action.RENEWAL:
        program, expires_at = decision.renewals[0]
        context.update(
            program=program["title"], expires_at=expires_at, programs=tuple(p["title"] for p, _ in decision.renewals)
        )
    return OutgoingMessage(
        event=EVENT_FOR_ACTION[decision.action],
        channel=Channel.EMAIL,
        recipient=Recipient(learner=learner),
        occurrence=f"run{run.pk}",
        context=context,
        refs=refs,
        requires_confirmation=False,
        actor=actor,
    )


_ASSIGNMENT_COLUMNS = ("learner_id", "program_id", "group_id", "assigned_at", "due_at")


def _new_assignment_rows(decisions, data, now):
    """The assignments the decisions announce, as (learner, program, group, assigned_at, due_at) tuples."""
    rows = []
    for d in decisions:
        if d.action == Action.MISSING_TRAINING:
            d.programs_titles = {p: data.programs[p]["title"] for p in d.missing}
            rows.extend((d.learner.pk, p, g, now, None) for p, g in d.missing.items())
        elif d.action == Action.RENEWAL:
            # Due at the expiry of the current certificate while it is still ahead.
            rows.extend(
                (d.learner.pk, program["pk"], None, now, expires_at if expires_at > now else None)
                for program, expires_at in d.renewals
            )
    return rows


def _new_assignments(decisions, data, now):
    return [
        Assignment(**dict(zip(_ASSIGNMENT_COLUMNS, row, strict=True)))
        for row in _new_assignment_rows(decisions, data, now)
    ]


def _create_assignments(rows):
    """Insert the new assignments; assignment_one_open_per_program keeps a program open once per
    learner, so a conflicting row is skipped (ON CONFLICT DO NOTHING, as bulk_create's ignore_conflicts)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Assignment.objects.bulk_create(
            [Assignment(**dict(zip(_ASSIGNMENT_COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True,
            batch_size=CHUNK_SIZE,
        )
        return
    table, columns = Assignment._meta.db_table, ", ".join(_ASSIGNMENT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS _notify_assignments ON COMMIT DROP "
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY _notify_assignments ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH moved AS (DELETE FROM _notify_assignments RETURNING *) "
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved ON CONFLICT DO NOTHING"
        )


_OUTCOME_COLUMNS = ("run_id", "learner_id", "action", "reason", "notification_id", "created_at")


def _write_outcomes(rows):
    """One NotifyOutcome per learner of the chunk; on PostgreSQL streamed with COPY (no conflict is possible)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        NotifyOutcome.objects.bulk_create(
            [NotifyOutcome(**dict(zip(_OUTCOME_COLUMNS, row, strict=True))) for row in rows], batch_size=CHUNK_SIZE
        )
        return
    with connection.cursor() as cursor:
        copy_sql = f"COPY {NotifyOutcome._meta.db_table} ({', '.join(_OUTCOME_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)


# Seconds spent per phase since the process started (bench_notify prints them).
PHASE_SECONDS = Counter()


def _process_chunk(run, chunk, *, actor, templates):
    clock = time.perf_counter
    with transaction.atomic():
        t0 = clock()
        now = timezone.now()
        data = load_checklist_data(chunk, now=now, lock=True)
        t1 = clock()
        decisions = [decide(learner, data, now=now) for learner in data.learners]
        new_rows = _new_assignment_rows(decisions, data, now)
        t2 = clock()
        _create_assignments(new_rows)
        t3 = clock()
        messages = [_message(d, run=run, actor=actor) for d in decisions if d.sends]
        created = enqueue(messages, templates=templates, return_rows=False) if messages else {}
        t4 = clock()
        notification_of = {m.recipient.learner.pk: created.get(m.dedupe_key[:255]) for m in messages}
        _write_outcomes(
            [(run.pk, d.learner.pk, d.action, d.reason, notification_of.get(d.learner.pk), now) for d in decisions]
        )
        chunk_summary = {"sent": Counter(), "omitted": Counter()}
        for d in decisions:
            if d.action == Action.OMITTED:
                chunk_summary["omitted"][d.reason] += 1
            else:
                chunk_summary["sent"][d.action] += 1
        _record_progress(run, processed=len(chunk), chunk_summary=chunk_summary)
        t5 = clock()
    PHASE_SECONDS.update(
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
    for bucket in ("sent", "omitted"):
        merged = Counter(summary.get(bucket, {}))
        merged.update(chunk_summary[bucket])
        summary[bucket] = dict(merged)
    NotifyRun.objects.filter(pk=run.pk).update(processed=F("processed") + processed, summary=summary)
    run.processed += processed
    run.summary = summary


def _process_part(run_pk, chunks):
    """One process's share of a run (runs in a forked child: opens its own connection)."""
    try:
        run = NotifyRun.objects.select_related("actor").get(pk=run_pk)
        templates = ShapeCachedTemplates()
        for chunk in chunks:
            _process_chunk(run, chunk, actor=run.actor, templates=templates)
        return ""
    except Exception as exc:  # reported to the parent, which marks the run failed
        return repr(exc)[:2000]
    finally:
        connections.close_all()


def _can_fork():
    # django-q2 workers are daemonic unless configured otherwise: they may not have children.
    return connection.vendor == "postgresql" and not multiprocessing.current_process().daemon


def execute_run(run: NotifyRun, ids=None, *, processes=None) -> NotifyRun:
    """Decide and send for every learner of the run, chunk by chunk; progress after each chunk.

    With `processes` > 1 (default settings.NOTIFY_PROCESSES) a scope of several chunks is
    shared between forked processes, so the Python work of deciding and rendering uses
    every core. Each learner belongs to exactly one chunk and every chunk locks its own
    learners, so rate limits and exactly-once hold as in a single process.
    """
    if ids is None:
        ids = scope_learner_ids(scope=run.scope, group=run.group_id, learner=run.learner_id)
    run.total, run.processed, run.status = len(ids), 0, NotifyRun.Status.RUNNING
    run.summary = {"sent": {}, "omitted": {}}
    NotifyRun.objects.filter(pk=run.pk).update(total=run.total, processed=0, status=run.status, summary=run.summary)
    chunks = list(_chunks(ids))
    processes = min(settings.NOTIFY_PROCESSES if processes is None else processes, len(chunks))
    try:
        if processes > 1 and _can_fork() and not connection.in_atomic_block:
            # Children must not share the parent's socket: close it; each opens its own.
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                errors = [
                    e
                    for e in pool.starmap(_process_part, [(run.pk, chunks[i::processes]) for i in range(processes)])
                    if e
                ]
            if errors:
                raise RuntimeError("; ".join(errors))
        else:
            templates = ShapeCachedTemplates()
            for chunk in chunks:
                _process_chunk(run, chunk, actor=run.actor, templates=templates)
    except Exception as exc:
        run.status, run.error, run.finished_at = NotifyRun.Status.FAILED, repr(exc)[:2000], timezone.now()
        NotifyRun.objects.filter(pk=run.pk).update(status=run.status, error=run.error, finished_at=run.finished_at)
        raise
    run.refresh_from_db(fields=["processed", "summary"])
    run.status, run.finished_at = NotifyRun.Status.DONE, timezone.now()
    NotifyRun.objects.filter(pk=run.pk).update(status=run.status, finished_at=run.finished_at)
    return run


def notify_learners(learners, *, actor, scope, group=None, learner=None) -> NotifyRun:
    """One click of a Notify button over `learners` (queryset, Learner objects or pks)."""
    ids = active_learner_ids(learners)
    if scope == NotifyRun.Scope.LEARNER and learner is None and len(ids) == 1:
        learner = ids[0]
    run = start_run(actor=actor, scope=scope, group=group, learner=learner, total=len(ids))
    return execute_run(run, ids)


ACTION_WORDS = {
    Action.INVITATION: "invitation",
    Action.TRAINING_REMINDER: "training reminder",
    Action.MISSING_TRAINING: "missing training",
    Action.RENEWAL: "renewal",
}
REASON_WORDS = {
    Reason.RATE_LIMITED: "rate limited",
    Reason.UP_TO_DATE: "up to date",
    Reason.NO_CONSENT: "no consent",
    Reason.NO_CONTACT: "no email address",
}


def describe_summary(sent: dict, omitted: dict) -> str:
    """'N sent (by kind), M omitted (by reason)' as the admin reports it."""

    def detail(counts, words):
        parts = [f"{n} {words.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n]
        return f" ({', '.join(parts)})" if parts else ""

    return (
        f"{sum(sent.values())} sent{detail(sent, ACTION_WORDS)}, "
        f"{sum(omitted.values())} omitted{detail(omitted, REASON_WORDS)}"
    )
