"""The public services of notifications (the contract's facade): import from here.

It only re-exports; each name lives where its concern does:

- the outbox door and dispatcher: `notifications.outbox` (enqueue, confirm, dispatch_outbox, ...)
- who receives a message and whether they may: `notifications.recipients`
- from an event to messages through the rules: `notifications.events`; date-based triggers:
  `notifications.triggers`
- the Notify buttons (seed 000): `notifications.notify`
- mail that comes back (issue 19): `notifications.inbound`
"""

from .events import messages_for_rules, notify_event, recipients_for_rule
from .inbound.receive import receive_email
from .notify.engine import notify_learners
from .outbox.dispatch import cancel, dispatch_outbox, retry_now
from .outbox.enqueue import OutgoingMessage, build_notification, confirm, enqueue
from .outbox.sendchecks import register_send_check
from .outbox.wakeup import request_dispatch
from .recipients import Reason, Recipient
from .triggers import register_scanner, scan_triggers

# The name omitted rows' reasons had before Recipient owned them.
OmitReason = Reason

__all__ = [
    "OmitReason",
    "OutgoingMessage",
    "Reason",
    "Recipient",
    "build_notification",
    "cancel",
    "confirm",
    "dispatch_outbox",
    "enqueue",
    "messages_for_rules",
    "notify_event",
    "notify_learners",
    "receive_email",
    "recipients_for_rule",
    "register_scanner",
    "register_send_check",
    "request_dispatch",
    "retry_now",
    "scan_triggers",
]
