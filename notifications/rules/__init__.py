"""Which events produce which messages: the administrators' rules and the date-based scanners.

- `events`: `notify_event` expands the enabled rules of an event into messages for the outbox.
- `changes`: saving, enabling and disabling rules.
- `scanners`: date-based triggers that features register; `scan_triggers` runs them all.

The catalogue of events is `notifications.models.Event`.
"""

from .changes import save_rule, set_rules_enabled
from .events import messages_for_rules, notify_event, recipients_for_rule

__all__ = ["messages_for_rules", "notify_event", "recipients_for_rule", "save_rule", "set_rules_enabled"]
