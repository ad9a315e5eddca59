"""A look before a mass send: who publishing, cancelling or new dates would tell, and what.

Each function builds the very drafts its service would give the door (the same learners, the same message
builders, the session as it would then be) and asks `notifications.lookahead.look_ahead` what they would make,
as the administrator's (`Origin.ADMIN`: confirmed on the page, not held again). Nothing is written.
"""

import copy

from notifications.services import Lookahead, Origin, look_ahead

from .. import ical, messages, selectors
from ..models import LiveSession

SessionStatus = LiveSession.Status


def _as_it_would_be(session, **fields) -> LiveSession:
    future = copy.copy(session)
    for name, value in fields.items():
        setattr(future, name, value)
    return future


def publish_lookahead(session) -> Lookahead:
    """What `publish` would send: the calendar invitation to every learner not invited yet."""
    to_invite = list(selectors.to_invite_on_publish(session))
    ready = _as_it_would_be(session, status=SessionStatus.READY)
    # The status change that invites each learner names the occurrence; none exists yet.
    drafts = messages.invitation_messages(ready, [(sl, 0) for sl in to_invite])
    return look_ahead(drafts, origin=Origin.ADMIN)


def cancel_lookahead(session, *, reason="") -> Lookahead:
    """What `cancel_session` would send: the cancellation, with `reason`, to every learner who had heard of it."""
    informed = list(selectors.told_of_cancellation(session))
    cancelled = _as_it_would_be(
        session, status=SessionStatus.CANCELLED, calendar_sequence=session.calendar_sequence + 1
    )
    drafts = messages.calendar_update_messages(
        cancelled, informed, method=ical.CANCEL, cancellation_reason=reason.strip()
    )
    return look_ahead(drafts, origin=Origin.ADMIN)


def reschedule_lookahead(session, *, starts_at, ends_at, message="") -> Lookahead:
    """What `reschedule` would send: the updated calendar invitation to the invited and registered learners."""
    informed = list(selectors.told_of_new_dates(session))
    moved = _as_it_would_be(
        session, starts_at=starts_at, ends_at=ends_at, calendar_sequence=session.calendar_sequence + 1
    )
    drafts = messages.calendar_update_messages(moved, informed, method=ical.REQUEST, admin_message=message)
    return look_ahead(drafts, origin=Origin.ADMIN)
