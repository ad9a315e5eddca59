"""`notify_event`: the name apps and tests have long called, now a thin wrapper of the one door
(notifications.door.send): the event's rules or its default rule, recipients, confirmation, the outbox."""

from .door import Origin, send
from .models import Notification


def notify_event(*, event, learner, occurrence, program=None, origin=Origin.SYSTEM, **fields) -> list[Notification]:
    """Queue what the rules of `event` (or its default rule) say about `learner` for this occurrence."""
    return send(event, about=learner, occurrence=occurrence, program=program, origin=origin, **fields)
