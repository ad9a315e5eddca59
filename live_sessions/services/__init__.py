"""Live sessions: what changes a session learner's status, and the messages that go with it (seed 003).

One module per job: `status` (the status engine: every change checked against the flow table, the session
lock and its places), `roster` (who is in a session and in which status), `communication` (the emails an
administrator sends), `copying` (copy and export) and `participation` (convocations and date choices, seed
002). Callers import from `live_sessions.services`, whose names are the public contract.
"""

from ..emails import EmailResult, EmailType
from ..flow import LiveSessionError
from .communication import _email_context, preview_email, send_email
from .copying import CopyOutcome, copy_learners, copy_learners_with_outcomes, export_learners
from .lookahead import cancel_lookahead, publish_lookahead, reschedule_lookahead
from .participation import (
    CONVOCATION,
    approve_with_date_choice,
    choose_date,
    convoke,
    decline_participation,
    preview_convocation,
    request_participation,
)
from .roster import (
    add_go_show,
    add_learners,
    cancel,
    cancel_session,
    confirm_attendance,
    decide_approval,
    fill_rate,
    mark_attendance,
    mark_attendance_many,
    promote_waiting_list,
    publish,
    record_feedback,
    register,
    reschedule,
    respond,
    set_capacity,
    set_status,
    take_freed_place,
    update_status,
)
from .status import waiting_position
from .waiting import expire_offers, remove_learners
from .walk_ins import add_walk_in

__all__ = [
    "CONVOCATION",
    "CopyOutcome",
    "EmailResult",
    "EmailType",
    "LiveSessionError",
    "_email_context",
    "add_go_show",
    "add_learners",
    "add_walk_in",
    "approve_with_date_choice",
    "cancel",
    "cancel_lookahead",
    "cancel_session",
    "choose_date",
    "confirm_attendance",
    "convoke",
    "copy_learners",
    "copy_learners_with_outcomes",
    "decide_approval",
    "decline_participation",
    "expire_offers",
    "export_learners",
    "fill_rate",
    "mark_attendance",
    "mark_attendance_many",
    "preview_convocation",
    "preview_email",
    "promote_waiting_list",
    "publish",
    "publish_lookahead",
    "record_feedback",
    "register",
    "remove_learners",
    "request_participation",
    "reschedule",
    "reschedule_lookahead",
    "respond",
    "send_email",
    "set_capacity",
    "set_status",
    "update_status",
    "take_freed_place",
    "waiting_position",
]
