"""Date-based triggers: each feature registers a scanner that creates the
notifications due now. Scanners must be idempotent (dedupe keys), so running
scan_triggers twice creates nothing new.

A scanner is called as ``scanner(since=..., now=...)`` and creates every
occurrence whose moment falls in ``(since, now]``. ``since`` is where the last
successful scan stopped (minus a small overlap), so a worker that was down
for a day catches up in one scan, and a scan right after another reads only a
few minutes of dates. Overlapping windows are harmless: the dedupe key of an
occurrence decides, whoever writes it first.

One scanner that fails, or one rule a scanner cannot read, fails alone: the
other scanners and rules still create their messages, and the scan is recorded
as failed with what failed and why (the scan record, `outbox_status`, the log).
A failed scan does not move the window, so the next scan redoes it; the dedupe
keys keep what the others already created from being created twice.

Features also describe their date triggers (`register_date_trigger`): which
timings a rule of the event may use, the date it is counted from (for the
rule screen), and how to list the occurrences a rule would create (preview).
"""

import inspect
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule

from lms_notify.locks import SessionAdvisoryLock

from .models import TriggerScan
from .schedules import SCHEDULES

logger = logging.getLogger(__name__)

_SCANNERS = []

# Windows overlap by this much: a clock a little behind on another worker cannot lose an occurrence.
SCAN_OVERLAP = timedelta(minutes=10)
# The first scan ever (or after the scan history was purged) looks back this far at most;
# rules' active_since keeps past dates out anyway.
FIRST_SCAN_LOOKBACK = timedelta(days=1)
# pg_try_advisory_lock key: one scan at a time across every worker of the cluster.
_ADVISORY_LOCK_KEY = 0x5CA11E


def register_scanner(func):
    """Register `func(since=..., now=...) -> int`; a scanner taking no arguments (it finds what is due
    now on its own, idempotently) is called as `func()`."""
    if func not in _SCANNERS:
        _SCANNERS.append(func)
    return func


class ScanFailures(Exception):
    """Raised by a scanner that did what it could while some of its parts (rules) failed: `created` rows
    were still made, and each of `failures` says which part failed and why."""

    def __init__(self, failures, *, created=0):
        super().__init__("; ".join(failures))
        self.failures = list(failures)
        self.created = created


def _run(scanner, *, since, now) -> int:
    parameters = inspect.signature(scanner).parameters
    takes_window = "since" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    return (scanner(since=since, now=now) if takes_window else scanner()) or 0


def _scanner_name(scanner) -> str:
    return f"{getattr(scanner, '__module__', '?')}.{getattr(scanner, '__qualname__', scanner)}"


def _run_alone(scanner, *, since, now) -> tuple[int, list[str]]:
    """(rows created, failures) of one scanner; whatever it raises stays with it.

    Outside a transaction a scanner's own commits stand and a failed statement leaves the connection
    usable; inside a caller's transaction a savepoint keeps a failed statement from aborting the rest.
    """
    isolated = transaction.atomic if connection.in_atomic_block else nullcontext
    try:
        with isolated():
            try:
                return _run(scanner, since=since, now=now), []
            except ScanFailures as partial:
                # The scanner isolated its failed parts itself: what the others wrote stays.
                for failure in partial.failures:
                    logger.error("Trigger scan: %s: %s", _scanner_name(scanner), failure)
                return partial.created, [f"{_scanner_name(scanner)}: {failure}" for failure in partial.failures]
    except Exception as exc:
        logger.exception("Trigger scan: scanner %s failed; the other scanners still ran", _scanner_name(scanner))
        # The traceback is in the log; the scan record says which scanner failed and why, in one line.
        return 0, [f"{_scanner_name(scanner)}: {exc.__class__.__name__}: {exc}"]


@dataclass(frozen=True)
class DateTrigger:
    event: str
    # Timings a rule of this event may use (NotificationRule.Timing values).
    timings: tuple
    # "the program due date": the words the rule screen uses for the date counted from.
    anchor: str
    # preview(rule, *, since, until) -> [{"when", "learner", "recipients", "subject"}]
    preview: object = None
    # Event triggers whose rules may also say "N days after": those rules become dates.
    has_event: bool = False


_DATE_TRIGGERS: dict[str, DateTrigger] = {}


def register_date_trigger(trigger: DateTrigger):
    _DATE_TRIGGERS[trigger.event] = trigger
    return trigger


def date_trigger(event) -> DateTrigger | None:
    return _DATE_TRIGGERS.get(str(event))


def date_triggers() -> dict[str, DateTrigger]:
    return dict(_DATE_TRIGGERS)


def scan_interval() -> timedelta:
    minutes = next((s.minutes for s in SCHEDULES if s.func.endswith("scan_triggers_task")), 5)
    return timedelta(minutes=minutes)


def last_successful_scan():
    return TriggerScan.objects.filter(status=TriggerScan.Status.DONE).order_by("-window_end").first()


def _scan_lock():
    """One scan at a time across the cluster."""
    return SessionAdvisoryLock(_ADVISORY_LOCK_KEY, what="Trigger scan")


def scan_triggers(*, now=None) -> int:
    """Create every date-based notification due now; returns how many outbox rows were created.

    One scan at a time across the cluster (_scan_lock); a scan that finds another one running
    returns 0 at once: the running one covers its window, or the next scan does.
    """
    now = now or timezone.now()
    lock = _scan_lock()
    if not lock.acquire():
        logger.info("Trigger scan skipped: another worker is scanning")
        return 0
    try:
        last = last_successful_scan()
        since = last.window_end - SCAN_OVERLAP if last else now - FIRST_SCAN_LOOKBACK
        since = min(since, now)
        scan = TriggerScan.objects.create(started_at=timezone.now(), window_start=since, window_end=now)
        created, failures = 0, []
        for scanner in _SCANNERS:
            made, failed = _run_alone(scanner, since=since, now=now)
            created += made
            failures.extend(failed)
        TriggerScan.objects.filter(pk=scan.pk).update(
            status=TriggerScan.Status.FAILED if failures else TriggerScan.Status.DONE,
            finished_at=timezone.now(),
            created=created,
            error="\n".join(failures)[:4000],
        )
        # Keep a week of history: enough for the status command and the admin.
        TriggerScan.objects.filter(started_at__lt=now - timedelta(days=7)).delete()
        return created
    finally:
        lock.release()


@dataclass
class ScanHealth:
    last_run_at: object  # when the last successful scan finished, or None
    late_by: timedelta  # how much later than its interval the next scan is
    interval: timedelta
    never_ran: bool
    # What the latest scan says failed, when it failed (which scanner or rule, and why); else "".
    last_failure: str = ""

    @property
    def silent_for(self) -> timedelta:
        return self.late_by + self.interval


def scan_health(*, now=None) -> ScanHealth:
    """When the scanner last succeeded and how late it is (for `outbox_status`).

    Before any scan succeeded, silence is counted from the moment the schedule first
    wanted to run, so a worker that never started is noticed too.
    """

    now = now or timezone.now()
    interval = scan_interval()
    last = last_successful_scan()
    if last is not None:
        reference = last.finished_at or last.window_end
    else:
        schedule = Schedule.objects.filter(func="notifications.tasks.scan_triggers_task").first()
        reference = schedule.next_run if schedule and schedule.next_run else now
    late_by = max(now - reference - interval, timedelta(0))
    latest = TriggerScan.objects.exclude(status=TriggerScan.Status.RUNNING).order_by("-started_at").first()
    return ScanHealth(
        last_run_at=last.finished_at if last else None,
        late_by=late_by,
        interval=interval,
        never_ran=last is None,
        last_failure=latest.error if latest is not None and latest.status == TriggerScan.Status.FAILED else "",
    )
