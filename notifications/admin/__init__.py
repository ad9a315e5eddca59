"""The notifications admin: the outbox, the Notify buttons and runs, rules and message templates."""

from . import notify, outbox, templates  # noqa: F401
