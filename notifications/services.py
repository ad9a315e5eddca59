"""The public services of notifications (the contract's facade): import from here.

It only re-exports; each name lives where its concern does:

- the outbox door and dispatcher: `notifications.outbox` (enqueue, confirm, dispatch_outbox, ...)
- who receives a message and whether they may: `notifications.recipients`
- the one door from an event to its messages (rules or default rule, recipients, confirmation per
  channel): `notifications.door` (`send`, `send_all`; `notify_event` wraps it); date-based triggers:
  `notifications.triggers`
- the Notify buttons (seed 000): `notifications.notify`
- the one check and engine of every text an administrator writes for messages: `notifications.templating`
- mail that comes back: `notifications.inbound`
"""

from .door import Origin, awaiting_confirmation_count, compose, draft, send, send_all, set_channel_confirmation
from .events import notify_event
from .inbound.receive import receive_email
from .notify.engine import notify_learners
from .outbox.dispatch import cancel, cancel_waiting_for_learners, dispatch_outbox, retry_now
from .outbox.enqueue import OutgoingMessage, build_notification, confirm, enqueue
from .outbox.sendchecks import register_send_check
from .outbox.wakeup import request_dispatch
from .recipients import Reason, Recipient
from .templating import check_template, compile_written, render_written_part
from .triggers import register_scanner, scan_triggers

__all__ = [
    "Origin",
    "OutgoingMessage",
    "Reason",
    "Recipient",
    "build_notification",
    "cancel",
    "check_template",
    "compile_written",
    "cancel_waiting_for_learners",
    "confirm",
    "dispatch_outbox",
    "enqueue",
    "awaiting_confirmation_count",
    "compose",
    "draft",
    "notify_event",
    "notify_learners",
    "receive_email",
    "register_scanner",
    "register_send_check",
    "render_written_part",
    "request_dispatch",
    "retry_now",
    "scan_triggers",
    "send",
    "send_all",
    "set_channel_confirmation",
]
