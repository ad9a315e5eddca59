"""The notifications admin, split by concern (importing registers each part): the outbox, the Notify
buttons and runs, rules and message templates, and django-q2's task lists."""

from . import inbound, notify, outbox, rules, tasks, templates  # noqa: F401
