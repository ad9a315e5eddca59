"""django-q2 entry points: thin wrappers that call one service each."""

from django_q.tasks import async_task


def dispatch_outbox_task():
    from .services import dispatch_outbox

    return dispatch_outbox()


def scan_triggers_task():
    from .services import scan_triggers

    return scan_triggers()


def schedule_dispatch():
    """Send what was just queued without waiting for the minute schedule."""
    async_task("notifications.tasks.dispatch_outbox_task", group="outbox")


def notify_learners_task(run_id):
    """A Notify click over a large scope (seed 000), run by the worker; progress is on the run."""
    from .models import NotifyRun
    from .notify import execute_run

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
