"""The outbox: every message is one `Notification` row, put there by one door and sent by one dispatcher.

- `enqueue`: the door (`enqueue`, `OutgoingMessage`, `confirm`); renders, decides omission
  through `notifications.recipients.Recipient`, dedupes.
- `wakeup`: asks for a dispatch after a commit, at most one task waiting at a time.
- `dispatch`: claims due rows (skip-locked), runs the send-time checks, sends, retries.
- `sendchecks`: the registry of send-time checks (is this message still worth sending?).
- `channels`: how a row leaves per channel (email, SMS; the inbox needs no transport).
"""

from .enqueue import OutgoingMessage, build_notification, confirm, enqueue

__all__ = ["OutgoingMessage", "build_notification", "confirm", "enqueue"]
