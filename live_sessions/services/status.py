"""The status engine (seed 003): every status change, the session lock, and the places it guards.

Every status change goes through `_change`, which checks the flow table
(`live_sessions.flow`) and writes one `StatusChange` row per learner; no other
code writes StatusChange rows.

Capacity (seed 003 "Fill Rate"): registered, go show and attended learners
take a place. A place offered to the first learner of the waiting list
(waiting list -> invited) stays held for them until they answer, so that two
places freed at the same moment go to two different learners. Every service
that can take or free a place locks the session row first
(`select_for_update`), which serialises them per session; a capacity of 0
means no limit.
"""

from collections import defaultdict

from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from notifications.services import Origin, send_all

from .. import flow, messages
from ..flow import FILLING_STATUSES, LiveSessionError, Trigger
from ..models import LiveSession, SessionLearner, StatusChange

Status = SessionLearner.Status
SessionStatus = LiveSession.Status


def _waiting_since_after(to_status, trigger):
    """What `waiting_since` becomes: joining the waiting list stamps it (keeping an earlier stamp, so a learner
    sent back to the list keeps their rank); an offered place keeps it; anything else clears it."""
    if to_status == Status.WAITING_LIST:
        return "stamp"
    if to_status == Status.INVITED and trigger == Trigger.PLACE_FREED:
        return "keep"
    return "clear"


def _change(rows, trigger, *, actor=None, now=None) -> list[StatusChange]:
    """Move each (session_learner, to_status) of `rows`, checked against the flow table.

    Set-based: one UPDATE per (from, to) pair and one INSERT of the history, whatever the number of learners.
    Rows already in their target status are left alone (no history row). The instances are updated in place.
    Returns the StatusChange rows, in the order of the changed learners.
    """
    now = now or timezone.now()
    changing = [(sl, sl.status, to) for sl, to in rows if sl.status != to]
    for _sl, from_status, to in changing:
        flow.check(from_status, to, trigger)
    groups = defaultdict(list)
    for sl, from_status, to in changing:
        groups[(from_status, to)].append(sl)
    mode = {to: _waiting_since_after(to, trigger) for _from, to in groups}
    for (_from, to_status), members in groups.items():
        waiting = {
            "stamp": Coalesce(F("waiting_since"), Value(now)),
            "keep": F("waiting_since"),
            "clear": None,
        }[mode[to_status]]
        SessionLearner.objects.filter(pk__in=[sl.pk for sl in members]).update(
            status=to_status, status_changed_at=now, waiting_since=waiting
        )
    for sl, _from, to in changing:
        sl.status, sl.status_changed_at = to, now
        if mode[to] == "stamp":
            sl.waiting_since = sl.waiting_since or now
        elif mode[to] == "clear":
            sl.waiting_since = None
    return StatusChange.objects.bulk_create(
        [
            StatusChange(
                session_learner=sl, from_status=from_status or "", to_status=to, trigger=trigger, actor=actor, at=now
            )
            for sl, from_status, to in changing
        ]
    )


def _create(session, learners, status, trigger, *, actor=None, now=None) -> list[tuple[SessionLearner, StatusChange]]:
    """New session learners of `session` in `status` ("-" rows of the flow table), with their history."""
    flow.check(None, status, trigger)
    now = now or timezone.now()
    created = SessionLearner.objects.bulk_create(
        [
            SessionLearner(
                session=session,
                learner=learner,
                status=status,
                created_at=now,
                status_changed_at=now,
                waiting_since=now if status == Status.WAITING_LIST else None,
            )
            for learner in learners
        ]
    )
    for sl, learner in zip(created, learners, strict=True):
        sl.learner, sl.session = learner, session
    history = StatusChange.objects.bulk_create(
        [
            StatusChange(session_learner=sl, from_status="", to_status=status, trigger=trigger, actor=actor, at=now)
            for sl in created
        ]
    )
    return list(zip(created, history, strict=True))


def _lock_session(session) -> LiveSession:
    """The session row, locked until the transaction ends: places are decided one service at a time."""
    locked = LiveSession.objects.select_for_update(of=("self",)).select_related("approver").get(pk=session.pk)
    if isinstance(session, LiveSession):
        for name in ("status", "capacity", "calendar_sequence", "starts_at", "ends_at"):
            setattr(session, name, getattr(locked, name))
    return locked


def _lock_learner(session_learner) -> SessionLearner:
    locked = SessionLearner.objects.select_for_update(of=("self",)).select_related("learner").get(pk=session_learner.pk)
    if isinstance(session_learner, SessionLearner):
        session_learner.status = locked.status
        session_learner.waiting_since = locked.waiting_since
    return locked


def _sync(target, source):
    """Copy the state a service changed onto the caller's instance."""
    if isinstance(target, SessionLearner) and target is not source:
        for name in ("status", "status_changed_at", "waiting_since", "attendance_confirmed_at", "feedback_answered_at"):
            setattr(target, name, getattr(source, name))


def _free_places(session, *, excluding=None) -> int | None:
    """Places neither taken (registered, go show, attended) nor offered to a waiting learner; None: no limit."""
    if not session.capacity:
        return None
    offers = Q(status=Status.INVITED, waiting_since__isnull=False)
    if excluding is not None:
        offers &= ~Q(pk=excluding.pk)
    counts = SessionLearner.objects.filter(session=session).aggregate(
        taken=Count("pk", filter=Q(status__in=FILLING_STATUSES)), offered=Count("pk", filter=offers)
    )
    return session.capacity - counts["taken"] - counts["offered"]


def _has_place(session, *, excluding=None) -> bool:
    free = _free_places(session, excluding=excluding)
    return free is None or free > 0


def _open_to_newcomers(session) -> bool:
    """Whether someone not on the waiting list may take a place now: a free place nobody is waiting for
    (a date-chooser, a registration or a copy never takes a place someone is waiting for)."""
    free = _free_places(session)
    if free is None:
        return True
    return free > SessionLearner.objects.filter(session=session, status=Status.WAITING_LIST).count()


def waiting_position(session_learner) -> int | None:
    """Her place in the waiting list, 1 being the next offered (first come, first served); None off the list."""
    if session_learner.status != Status.WAITING_LIST or session_learner.waiting_since is None:
        return None
    ahead = SessionLearner.objects.filter(session_id=session_learner.session_id, status=Status.WAITING_LIST).filter(
        Q(waiting_since__lt=session_learner.waiting_since)
        | Q(waiting_since=session_learner.waiting_since, pk__lt=session_learner.pk)
    )
    return ahead.count() + 1


def _refuse_full(session):
    raise LiveSessionError(
        gettext("The session “%(title)s” is full and has no waiting list.") % {"title": session.title}
    )


def _promote(session, *, actor=None, now=None, passing_over=()) -> list[SessionLearner]:
    """Offer every free place to the first learners of the waiting list (first come, first served).

    The caller holds the session lock: two places freed at the same moment go to two different learners.
    `passing_over`: ids of learners an administrator has just put on the list by hand, whose choice stands.
    """
    if session.status != SessionStatus.READY:
        return []
    free = _free_places(session)
    waiting = SessionLearner.objects.filter(session=session, status=Status.WAITING_LIST).select_related("learner")
    waiting = waiting.exclude(pk__in=list(passing_over))
    waiting = waiting.order_by("waiting_since", "pk")
    if free is not None:
        if free <= 0:
            return []
        waiting = waiting[:free]
    waiting = list(waiting)
    if not waiting:
        return []
    changes = _change([(sl, Status.INVITED) for sl in waiting], Trigger.PLACE_FREED, actor=actor, now=now)
    invited = [(sl, c.pk) for sl, c in zip(waiting, changes, strict=True)]
    send_all(messages.invitation_messages(session, invited), origin=Origin.SYSTEM, return_rows=False)
    return waiting


def _invite(session, session_learners, changes, *, actor=None, origin=Origin.SYSTEM):
    """The calendar invitations of a status change (publish, added to a ready session): the system's own, or the
    administrator's when she confirmed them on the publish page."""
    invited = [(sl, c.pk) for sl, c in zip(session_learners, changes, strict=True)]
    send_all(messages.invitation_messages(session, invited, actor=actor), origin=origin, return_rows=False)
