"""django-q2 entry points: thin wrappers that call one service each."""

from django_q.tasks import async_task

from .inbound.imap import poll_mailbox
from .inbound.maildir import poll_maildir
from .inbound.retention import purge_old_inbound
from .models import NotifyRun
from .notify.engine import execute_run
from .outbox.dispatch import dispatch_outbox
from .outbox.wakeup import dispatch_started
from .triggers import scan_triggers


def dispatch_outbox_task():
    # First, so that whatever is queued while this task sends asks for a task of its own.
    dispatch_started()
    return dispatch_outbox()


def scan_triggers_task():
    return scan_triggers()


def poll_mailbox_task():
    # Calendar replies and bounces read from INBOUND_IMAP_URL and INBOUND_MAILDIR (nothing to do when unset).
    results = [poll_mailbox(), poll_maildir()]
    purged = purge_old_inbound()
    return {
        "received": sum(r.received for r in results),
        "repeated": sum(r.repeated for r in results),
        "moved": sum(r.moved for r in results),
        "error": "; ".join(r.error for r in results if r.error),
        "purged": purged,
    }


def notify_learners_task(run_id):
    """A Notify click over a large scope (seed 000), run by the worker; progress is on the run."""
    # Claiming the run atomically: a retried or duplicated task must not notify the scope twice.
    claimed = NotifyRun.objects.filter(pk=run_id, status=NotifyRun.Status.PENDING).update(
        status=NotifyRun.Status.RUNNING
    )
    if not claimed:
        return None
    run = NotifyRun.objects.select_related("actor").get(pk=run_id)
    return execute_run(run).status


def start_notify_task(run_id):
    async_task("notifications.tasks.notify_learners_task", run_id, group="notify")
