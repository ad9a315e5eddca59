"""Waking the dispatcher right after messages are queued, with at most one dispatch task waiting.

Every enqueue that queues something calls `request_dispatch` once its
transaction commits. Queueing one django-q2 task per call made a Notify run
over 100,000 learners queue hundreds of tasks that mostly found nothing to do;
instead a single-row flag (`DispatchRequest`) records that a task is waiting,
and only the call that raises the flag queues one. The task lowers the flag as
it starts, so whatever is queued while it sends gets a task of its own.

A wake-up whose task could not be queued (broker down) lowers the flag it
raised, so the next enqueue asks again. A flag left raised by a
task that was queued and then lost (broker restarted empty, worker killed)
goes stale after STALE_AFTER, and the every-minute schedule runs the same
task, so nothing waits longer than it did without coalescing.
"""

from datetime import timedelta

import django_q.tasks
from django.db.models import Q
from django.utils import timezone

from ..models import DispatchRequest

STALE_AFTER = timedelta(minutes=5)
DISPATCH_TASK = "notifications.tasks.dispatch_outbox_task"


def _queue_task():
    # Looked up when called: tests replace django_q.tasks.async_task to see what would be queued.
    django_q.tasks.async_task(DISPATCH_TASK, group="outbox")


def request_dispatch() -> bool:
    """Queue a dispatch task unless one is already waiting; True when this call queued it."""
    now = timezone.now()
    raised = DispatchRequest.objects.filter(
        Q(requested_at__isnull=True) | Q(requested_at__lt=now - STALE_AFTER), pk=1
    ).update(requested_at=now)
    if not raised:
        _, raised = DispatchRequest.objects.get_or_create(pk=1, defaults={"requested_at": now})
    if raised:
        try:
            _queue_task()
        except Exception:
            # No task is waiting after all: a raised flag would silence every wake-up until it went stale.
            DispatchRequest.objects.filter(pk=1, requested_at=now).update(requested_at=None)
            raise
    return bool(raised)


def dispatch_started() -> None:
    """Called by the dispatch task as it starts: what is queued from now on needs a new task."""
    DispatchRequest.objects.filter(pk=1).update(requested_at=None)
