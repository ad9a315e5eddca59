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
