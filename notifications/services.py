"""The public services of notifications (the contract's facade): the only module of notifications, with
`notifications.models`, that another app imports (an import-linter `forbidden` contract holds it).

It only re-exports; each name lives where its concern does:

- declaring an event (`declare`, `DefaultRule`, the reader sets): `notifications.registry`
- the outbox door and dispatcher: `notifications.outbox` (enqueue, confirm, dispatch_outbox, ...)
- who receives a message and whether they may: `notifications.recipients`
- the one door from an event to its messages (rules or default rule, recipients, confirmation per
  channel): `notifications.door` (`send`, `send_all`; `notify_event` wraps it); date-based triggers:
  `notifications.triggers`
- the Notify buttons (seed 000): `notifications.notify` (programs hands it `assign_many` at start-up)
- signed links and their handlers: `notifications.links`; the values templates read: `notifications.variables`
- the one check and engine of every text an administrator writes for messages: `notifications.templating`
- mail that comes back: `notifications.inbound`
"""

# The declaration API comes first, before anything that reads the catalogue: the first read of the registry
# imports every `<app>/notifications.py` (registry.discover), and those import these names from this module
# while it is still loading.
from .registry import (
    ABOUT_A_LEARNER,
    ABOUT_A_SESSION,
    ADDRESSEE_APPROVER,
    ADDRESSEE_MANAGER,
    ADDRESSEE_RECIPIENT,
    SILENT,
    DefaultRule,
    declare,
)

# isort: split
from .door import (
    Origin,
    Plans,
    awaiting_confirmation_count,
    compose,
    draft,
    send,
    send_all,
    set_channel_confirmation,
)
from .events import notify_event
from .inbound.calendar import register_calendar_reply_handler
from .inbound.receive import receive_email
from .inbound.types import CalendarReply, Verdict
from .links import ActionHandler, learner_home_url, make_action_url, register_action
from .lookahead import Lookahead, look_ahead
from .notify.assigning import register_assigner
from .notify.engine import notify_learners
from .notify.pages import notify_url
from .notify.shapes import ShapeCachedTemplates
from .outbox.channels import PermanentSendError
from .outbox.dispatch import cancel, cancel_waiting_for_learners, dispatch_outbox, record_failure, retry_now
from .outbox.enqueue import OutgoingMessage, build_notification, confirm, enqueue
from .outbox.sendchecks import register_send_check
from .outbox.wakeup import request_dispatch
from .reasons import reason_in_words
from .recipients import Reason, Recipient, learner_key
from .schedules import ensure_schedules
from .selectors import messages_needing_attention
from .templating import TemplateCache, check_template, compile_written, render_written_part, source_parts
from .timeline import timeline_messages, timeline_notify_outcomes
from .triggers import (
    SCAN_OVERLAP,
    DateTrigger,
    ScanFailures,
    register_date_trigger,
    register_scanner,
    scan_health,
    scan_triggers,
)
from .variables import person_values, session_values

__all__ = [
    "Lookahead",
    "look_ahead",
    "reason_in_words",
    "ABOUT_A_LEARNER",
    "ABOUT_A_SESSION",
    "ADDRESSEE_APPROVER",
    "ADDRESSEE_MANAGER",
    "ADDRESSEE_RECIPIENT",
    "SCAN_OVERLAP",
    "SILENT",
    "ActionHandler",
    "CalendarReply",
    "DateTrigger",
    "DefaultRule",
    "Origin",
    "OutgoingMessage",
    "PermanentSendError",
    "Plans",
    "Reason",
    "Recipient",
    "ScanFailures",
    "ShapeCachedTemplates",
    "TemplateCache",
    "Verdict",
    "awaiting_confirmation_count",
    "build_notification",
    "cancel",
    "cancel_waiting_for_learners",
    "check_template",
    "compile_written",
    "compose",
    "confirm",
    "declare",
    "dispatch_outbox",
    "draft",
    "enqueue",
    "ensure_schedules",
    "learner_home_url",
    "learner_key",
    "make_action_url",
    "messages_needing_attention",
    "notify_event",
    "notify_learners",
    "notify_url",
    "person_values",
    "receive_email",
    "record_failure",
    "register_action",
    "register_assigner",
    "register_calendar_reply_handler",
    "register_date_trigger",
    "register_scanner",
    "register_send_check",
    "render_written_part",
    "request_dispatch",
    "retry_now",
    "scan_health",
    "scan_triggers",
    "send",
    "send_all",
    "session_values",
    "set_channel_confirmation",
    "source_parts",
    "timeline_messages",
    "timeline_notify_outcomes",
]
