"""Admin of live sessions and their learners (seed 003 "Manage Learners", seed 002 journey).

The session page carries the Session Learners card: fill rate, counts per
status, the most recent learners with status badges, filter and search, and
the actions on selected learners (add, update status, send email, export,
copy). Every status change goes through live_sessions.services, which records
the StatusChange rows; nothing here writes a status or its history itself.

Everything shown costs a fixed number of queries whatever the number of
learners: counts come from one aggregate query, lists are capped or paginated.

One module per page family: `sessions` (LiveSessionAdmin), `learners` (SessionLearnerAdmin), `history`
(the status history and date-choice requests), `journey` (the seed 002 actions, as mixins of those admins),
`forms` and `common`. Importing this package registers them all.
"""

from .common import LEARNERS_SHOWN
from .history import ParticipationRequestAdmin, StatusChangeAdmin, StatusChangeInline
from .learners import SessionLearnerAdmin
from .sessions import LiveSessionAdmin

__all__ = [
    "LEARNERS_SHOWN",
    "LiveSessionAdmin",
    "ParticipationRequestAdmin",
    "SessionLearnerAdmin",
    "StatusChangeAdmin",
    "StatusChangeInline",
]
