"""Who is in a session and in which status (seed 003): adding, publishing, registering, answering,
approving, cancelling, attendance, capacity, new dates and the session's cancellation."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from notifications.services import Origin, send_all

from .. import answers, flow, ical, messages, selectors
from ..flow import FILLING_STATUSES, LiveSessionError, Trigger
from ..models import LiveSession, SessionLearner, session_dates_problem
from ..selectors import filled_count
from ..windows import require_answerable, require_attendance_open
from .status import (
    _change,
    _create,
    _has_place,
    _invite,
    _lock_learner,
    _lock_session,
    _open_to_newcomers,
    _promote,
    _refuse_full,
    _sync,
    waiting_position,
)

Status = SessionLearner.Status
SessionStatus = LiveSession.Status


def add_learners(session, learners, *, actor=None) -> list[SessionLearner]:
    """Add learners to a session (seed 003 "Add Learners"); learners already in it are returned unchanged.

    Draft session (or ready without calendar integration): `not_invited`. Ready session with calendar
    integration: `invited` at once, with the calendar invitation. Set-based: a fixed number of queries.
    """
    learners = list({learner.pk: learner for learner in learners}.values())
    with transaction.atomic():
        session = _lock_session(session)
        if session.status not in (SessionStatus.DRAFT, SessionStatus.READY):
            raise LiveSessionError(
                gettext("Learners cannot be added to a session that is %(status)s.")
                % {"status": str(SessionStatus(session.status).label).lower()}
            )
        existing = {
            sl.learner_id: sl
            for sl in SessionLearner.objects.filter(session=session, learner__in=[lr.pk for lr in learners])
        }
        fresh = [learner for learner in learners if learner.pk not in existing]
        if session.status == SessionStatus.READY and session.calendar_integration:
            pairs = _create(session, fresh, Status.INVITED, Trigger.ADDED_WITH_CALENDAR, actor=actor)
            _invite(session, [sl for sl, _ in pairs], [c for _, c in pairs], actor=actor)
        else:
            pairs = _create(session, fresh, Status.NOT_INVITED, Trigger.ADDED_BY_ADMIN, actor=actor)
        created = {sl.learner_id: sl for sl, _ in pairs}
    return [existing.get(learner.pk) or created[learner.pk] for learner in learners]


def publish(session, *, actor=None, origin=Origin.SYSTEM, expected_token=None):
    """Draft -> ready; every `not_invited` learner becomes `invited` and gets the calendar invitation.

    Set-based (seed 003 "Not invited -> Invited"): a fixed number of queries for any number of learners.
    From the confirmation page the invitations are the administrator's (`Origin.ADMIN`: not held
    again), and `expected_token` (`selectors.roster_token` as the page showed it) refuses when the session or its
    learners changed since.
    """
    with transaction.atomic():
        locked = _lock_session(session)
        if locked.status != SessionStatus.DRAFT:
            raise LiveSessionError(
                gettext("Only a draft session can be published; this one is %(status)s.")
                % {"status": str(SessionStatus(locked.status).label).lower()}
            )
        _check_token(locked, expected_token)
        LiveSession.objects.filter(pk=locked.pk).update(status=SessionStatus.READY)
        locked.status = session.status = SessionStatus.READY
        to_invite = list(selectors.to_invite_on_publish(locked))
        changes = _change([(sl, Status.INVITED) for sl in to_invite], Trigger.SESSION_PUBLISHED, actor=actor)
        _invite(locked, to_invite, changes, actor=actor, origin=origin)
    return locked


def _check_token(locked, expected_token):
    if expected_token is not None and selectors.roster_token(locked) != expected_token:
        raise LiveSessionError(
            gettext("The session or its learners changed in the meantime: look at who will be told and confirm again.")
        )


def register(session, learner) -> SessionLearner:
    """The learner's own registration (seed 003): `registered`; `needs_approval` (and the approver is emailed)
    when the session requires approval; `waiting_list` when full and the waiting list is enabled; otherwise a
    LiveSessionError that changes nothing. Registering again is harmless. An invited learner registering
    accepts the invitation. Capacity is checked when the approver approves, not at the request.

    A place someone is waiting for is not free for a newcomer; the learner hears what happened
    (waiting for approval, or her position on the waiting list), without a calendar invitation."""
    with transaction.atomic():
        session = _lock_session(session)
        require_answerable(session)
        current = (
            SessionLearner.objects.select_for_update(of=("self",))
            .select_related("learner")
            .filter(session=session, learner=learner)
            .first()
        )
        if current is not None:
            if current.status in (*FILLING_STATUSES, Status.NEEDS_APPROVAL, Status.WAITING_LIST):
                return current
            if current.status == Status.INVITED:
                return _respond_locked(session, current, accept=True, actor=None)
            if current.status in (Status.APPROVAL_DECLINED, Status.ABSENT):
                raise LiveSessionError(
                    gettext("You cannot register again for this session (you are %(status)s).")
                    % {"status": flow.status_label(current.status)}
                )
        if session.requires_approval:
            target = Status.NEEDS_APPROVAL
        elif _open_to_newcomers(session):
            target = Status.REGISTERED
        elif session.waiting_list_enabled:
            target = Status.WAITING_LIST
        else:
            _refuse_full(session)
        if current is None:
            ((current, change),) = _create(session, [learner], target, Trigger.REGISTRATION)
        else:
            (change,) = _change([(current, target)], Trigger.REGISTRATION)
        if target == Status.NEEDS_APPROVAL:
            message = messages.approval_request_message(session, current, change.pk)
            if message is not None:
                send_all([message], origin=Origin.SYSTEM, return_rows=False)
            send_all([answers.approval_pending(session, current, change.pk)], origin=Origin.ANSWER)
        elif target == Status.WAITING_LIST:
            # A place left unoffered (it should not happen) goes to those ahead of her, not to her.
            _promote(session)
            _tell_waiting(session, current, change)
    return current


def _tell_waiting(session, current, change, *, approved=False):
    position = waiting_position(current)
    if position is not None:
        draft = answers.waiting_list_joined(session, current, change.pk, position=position, approved=approved)
        send_all([draft], origin=Origin.ANSWER)


def _respond_locked(session, current, *, accept, actor):
    if current.status != Status.INVITED:
        raise LiveSessionError(
            gettext("This invitation was already answered: you are %(status)s.")
            % {"status": flow.status_label(current.status)}
        )
    if not accept:
        _change([(current, Status.DECLINED)], Trigger.INVITATION_DECLINED, actor=actor)
        # A declined offer from the waiting list frees the place it held.
        _promote(session, actor=actor)
        return current
    if _has_place(session, excluding=current):
        _change([(current, Status.REGISTERED)], Trigger.INVITATION_ACCEPTED, actor=actor)
    elif session.waiting_list_enabled:
        _change([(current, Status.WAITING_LIST)], Trigger.INVITATION_ACCEPTED, actor=actor)
    else:
        _refuse_full(session)
    return current


def respond(session_learner, *, accept: bool):
    """The learner's answer to the calendar invitation: `registered` or `declined` (seed 003).

    Accepting when every place is taken puts the learner on the waiting list if enabled, or is refused.
    """
    with transaction.atomic():
        session = _lock_session(session_learner.session)
        require_answerable(session)
        current = _lock_learner(session_learner)
        _respond_locked(session, current, accept=accept, actor=None)
    _sync(session_learner, current)
    return current


def take_freed_place(session_learner) -> SessionLearner:
    """A waiting learner takes a free place from their email ("Waiting learners invitation"): waiting list ->
    invited -> registered when a place is free; otherwise a LiveSessionError, and they keep their rank."""
    with transaction.atomic():
        session = _lock_session(session_learner.session)
        require_answerable(session)
        current = _lock_learner(session_learner)
        if current.status == Status.INVITED:
            _respond_locked(session, current, accept=True, actor=None)
        elif current.status == Status.WAITING_LIST:
            # Places already offered to learners ahead in the list are not free.
            if not _has_place(session):
                raise LiveSessionError(gettext("No place is free at the moment: you stay on the waiting list."))
            _change([(current, Status.INVITED)], Trigger.PLACE_FREED)
            _change([(current, Status.REGISTERED)], Trigger.INVITATION_ACCEPTED)
        else:
            raise LiveSessionError(
                gettext("You are no longer on the waiting list: you are %(status)s.")
                % {"status": flow.status_label(current.status)}
            )
    _sync(session_learner, current)
    return current


def decide_approval(session_learner, *, approve: bool, actor=None):
    """The approver's decision (seed 003): needs approval -> `registered` or `approval_declined`.

    Approving when the session is full puts the learner on the waiting list if enabled, or is refused.
    """
    with transaction.atomic():
        session = _lock_session(session_learner.session)
        current = _lock_learner(session_learner)
        if current.status == Status.NEEDS_APPROVAL:
            require_answerable(session)
        if current.status != Status.NEEDS_APPROVAL:
            raise LiveSessionError(
                gettext("This request was already decided: the learner is %(status)s.")
                % {"status": flow.status_label(current.status)}
            )
        # The decision reaches the learner; only an approval brings the calendar invitation.
        if not approve:
            (change,) = _change([(current, Status.APPROVAL_DECLINED)], Trigger.APPROVAL_DECLINED, actor=actor)
            send_all([answers.approval_refused(session, current, change.pk)], origin=Origin.ANSWER)
        elif _open_to_newcomers(session):
            (change,) = _change([(current, Status.REGISTERED)], Trigger.APPROVED, actor=actor)
            send_all([answers.approval_granted(session, current, change.pk)], origin=Origin.ANSWER)
        elif session.waiting_list_enabled:
            (change,) = _change([(current, Status.WAITING_LIST)], Trigger.APPROVED, actor=actor)
            _tell_waiting(session, current, change, approved=True)
        else:
            _refuse_full(session)
    _sync(session_learner, current)
    return current


def cancel(session_learner, *, actor=None):
    """The learner cancels (seed 003 "Registered -> Cancelled"; also leaving the waiting list or withdrawing a
    request for approval). A freed place goes to the first learner of the waiting list."""
    with transaction.atomic():
        session = _lock_session(session_learner.session)
        current = _lock_learner(session_learner)
        if current.status == Status.CANCELLED:
            return current
        _change([(current, Status.CANCELLED)], Trigger.LEARNER_CANCELLED, actor=actor)
        _promote(session, actor=actor)
    _sync(session_learner, current)
    return current


def confirm_attendance(session_learner) -> SessionLearner:
    """ "Confirm" from an attendance reminder: the learner stays registered; the answer is recorded once."""
    with transaction.atomic():
        current = _lock_learner(session_learner)
        if current.status != Status.REGISTERED:
            raise LiveSessionError(
                gettext("You are no longer registered for this session: you are %(status)s.")
                % {"status": flow.status_label(current.status)}
            )
        if current.attendance_confirmed_at is None:
            current.attendance_confirmed_at = timezone.now()
            SessionLearner.objects.filter(pk=current.pk).update(attendance_confirmed_at=current.attendance_confirmed_at)
    _sync(session_learner, current)
    return current


def mark_attendance(session_learner, *, attended: bool, actor):
    """The trainer's attendance form: registered -> `attended` / `absent`. Saving twice is harmless; a later
    save may correct attended <-> absent, within the attendance window (windows.require_attendance_open)."""
    with transaction.atomic():
        current = _lock_learner(session_learner)
        require_attendance_open(LiveSession.objects.get(pk=current.session_id))
        target = Status.ATTENDED if attended else Status.ABSENT
        if not (current.status == Status.GO_SHOW and attended):
            _change([(current, target)], Trigger.ATTENDANCE, actor=actor)
    _sync(session_learner, current)
    return current


def mark_attendance_many(session, attendance: dict, *, actor) -> int:
    """The whole attendance form at once: {session_learner id: attended?}. Set-based; returns how many changed.

    Learners not registered, attended or absent (e.g. cancelled meanwhile) are refused with a LiveSessionError
    naming them, and nothing is saved.
    """
    with transaction.atomic():
        require_attendance_open(LiveSession.objects.get(pk=session.pk))
        rows = list(
            SessionLearner.objects.select_for_update(of=("self",))
            .select_related("learner")
            .filter(session=session, pk__in=list(attendance))
            .order_by("pk")
        )
        wanted = []
        for sl in rows:
            attended = bool(attendance[sl.pk])
            if sl.status == Status.GO_SHOW and attended:
                continue
            wanted.append((sl, Status.ATTENDED if attended else Status.ABSENT))
        refused = [
            sl for sl, to in wanted if not flow.is_allowed(sl.status, to, Trigger.ATTENDANCE) and sl.status != to
        ]
        if refused:
            raise LiveSessionError(
                gettext("Attendance cannot be recorded for: %(names)s.")
                % {"names": ", ".join(f"{sl.learner.full_name} ({flow.status_label(sl.status)})" for sl in refused)}
            )
        return len(_change(wanted, Trigger.ATTENDANCE, actor=actor))


def add_go_show(session, learner, *, actor) -> SessionLearner:
    """A trainer adds someone who turned up without registration: `go_show` (seed 003). A registered learner
    is marked attended instead; someone already present is left as is."""
    with transaction.atomic():
        session = _lock_session(session)
        require_attendance_open(session)
        current = (
            SessionLearner.objects.select_for_update(of=("self",))
            .select_related("learner")
            .filter(session=session, learner=learner)
            .first()
        )
        if current is None:
            ((current, _change_row),) = _create(session, [learner], Status.GO_SHOW, Trigger.GO_SHOW, actor=actor)
        elif current.status in (Status.REGISTERED, Status.ABSENT):
            _change([(current, Status.ATTENDED)], Trigger.ATTENDANCE, actor=actor)
        elif current.status not in (Status.ATTENDED, Status.GO_SHOW):
            _change([(current, Status.GO_SHOW)], Trigger.GO_SHOW, actor=actor)
    return current


def set_status(session_learners, status, *, actor) -> int:
    """ "Update status" by an administrator (seed 003): any status, recorded with the trigger "manual".
    Returns how many changed; `update_status` also says who was offered a freed place."""
    return update_status(session_learners, status, actor=actor).changed


@dataclass(frozen=True)
class StatusUpdate:
    changed: int
    offered: list  # the waiting learners offered a place it freed, in the order of the list


def update_status(session_learners, status, *, actor) -> StatusUpdate:
    """Sends nothing to the learners changed; a place it frees (a learner who held one leaves it) is offered at
    once to the first learner of the waiting list, under the session lock, like every other way a
    place frees. Set-based: a fixed number of queries per session.
    """
    if status not in Status.values:
        raise LiveSessionError(gettext("“%(status)s” is not a learner status.") % {"status": status})
    ids = [sl.pk if isinstance(sl, SessionLearner) else int(sl) for sl in session_learners]
    offered = []
    with transaction.atomic():
        # Sessions, then rows, each in id order: the order every service locks in, so nothing deadlocks.
        session_ids = SessionLearner.objects.filter(pk__in=ids).values("session_id")
        sessions = list(LiveSession.objects.select_for_update(of=("self",)).filter(pk__in=session_ids).order_by("pk"))
        rows = list(SessionLearner.objects.select_for_update().filter(pk__in=ids).exclude(status=status).order_by("pk"))
        freeing = {sl.session_id for sl in rows if _holds_place(sl)} if status not in FILLING_STATUSES else set()
        changes = _change([(sl, status) for sl in rows], Trigger.MANUAL, actor=actor)
        for session in sessions:
            if session.pk in freeing:
                offered.extend(_promote(session, actor=actor, passing_over=[sl.pk for sl in rows]))
    by_pk = {sl.pk: sl for sl in rows}
    for sl in session_learners:
        if isinstance(sl, SessionLearner) and sl.pk in by_pk:
            _sync(sl, by_pk[sl.pk])
    return StatusUpdate(changed=len(changes), offered=offered)


def _holds_place(session_learner) -> bool:
    """Taking a place, or holding one offered from the waiting list."""
    if session_learner.status in FILLING_STATUSES:
        return True
    return session_learner.status == Status.INVITED and session_learner.waiting_since is not None


def promote_waiting_list(session, *, actor=None) -> list[SessionLearner]:
    """Offer the free places to the first learners of the waiting list; returns those invited."""
    with transaction.atomic():
        locked = _lock_session(session)
        return _promote(locked, actor=actor)


def set_capacity(session, *, capacity: int, actor=None) -> list[SessionLearner]:
    """Change the capacity; places it frees go to the waiting list at once. Returns the learners invited."""
    if capacity < 0:
        raise LiveSessionError(gettext("The capacity cannot be negative."))
    with transaction.atomic():
        locked = _lock_session(session)
        LiveSession.objects.filter(pk=locked.pk).update(capacity=capacity)
        locked.capacity = session.capacity = capacity
        return _promote(locked, actor=actor)


def fill_rate(session) -> float:
    """(registered + go show + attended) / capacity (seed 003 "Fill Rate"); 0.0 without a capacity."""
    if not session.capacity:
        return 0.0
    return filled_count(session) / session.capacity


def reschedule(
    session,
    *,
    starts_at: datetime,
    ends_at: datetime,
    actor=None,
    message: str = "",
    expected_sequence: int | None = None,
):
    """New dates: every invited and registered learner who received the calendar file gets an update of it
    (same UID, SEQUENCE + 1), with the administrator's extra `message` if any (seed 002 §IV).

    `expected_sequence` is the calendar sequence the administrator confirmed against: if the session was
    rescheduled or cancelled since (a second click on Confirm, another administrator), nothing changes, so
    no learner is told twice."""
    if ends_at <= starts_at:
        raise LiveSessionError(gettext("The session must end after it starts."))
    problems = session_dates_problem(starts_at, ends_at)
    if problems:
        raise LiveSessionError(next(iter(problems.values())))
    with transaction.atomic():
        locked = _lock_session(session)
        if locked.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            raise LiveSessionError(gettext("A cancelled or completed session cannot be rescheduled."))
        if expected_sequence is not None and locked.calendar_sequence != expected_sequence:
            raise LiveSessionError(
                gettext("The session's dates changed in the meantime: check the new dates and confirm again.")
            )
        LiveSession.objects.filter(pk=locked.pk).update(
            starts_at=starts_at, ends_at=ends_at, calendar_sequence=F("calendar_sequence") + 1
        )
        locked.refresh_from_db(fields=["starts_at", "ends_at", "calendar_sequence"])
        for name in ("starts_at", "ends_at", "calendar_sequence"):
            setattr(session, name, getattr(locked, name))
        if locked.status == SessionStatus.READY:
            # Only those who received the calendar file have an event to update (seed 002 §IV).
            recipients = list(selectors.calendar_holders(locked).select_related("learner"))
            # New dates are the administrator's, confirmed on the rescheduling page: not held twice.
            send_all(
                messages.calendar_update_messages(
                    locked, recipients, method=ical.REQUEST, actor=actor, admin_message=message
                ),
                origin=Origin.ADMIN,
                return_rows=False,
            )
    return locked


def cancel_session(session, *, actor=None, reason="", origin=Origin.SYSTEM, expected_token=None):
    """Cancel the whole session: it becomes `cancelled`, and so does every learner still not_invited, invited,
    needing approval, on the waiting list or registered (trigger "session_cancelled"); those who had heard of
    it (all but not_invited) get the cancellation with METHOD:CANCEL (same UID, SEQUENCE + 1) and the
    administrator's `reason`. Learners who had declined, attended, etc. keep their status. `origin` and
    `expected_token` as for `publish`."""
    with transaction.atomic():
        locked = _lock_session(session)
        if locked.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            raise LiveSessionError(gettext("This session is already cancelled or completed."))
        _check_token(locked, expected_token)
        was_published = locked.status == SessionStatus.READY
        LiveSession.objects.filter(pk=locked.pk).update(
            status=SessionStatus.CANCELLED, calendar_sequence=F("calendar_sequence") + 1
        )
        affected = list(
            SessionLearner.objects.filter(session=locked, status__in=flow.SESSION_CANCELLED_FROM).select_related(
                "learner"
            )
        )
        locked.refresh_from_db(fields=["status", "calendar_sequence"])
        session.status, session.calendar_sequence = locked.status, locked.calendar_sequence
        # Those who had heard of it, as `selectors.told_of_cancellation` (the confirmation page) counts them.
        informed = [sl for sl in affected if sl.status != Status.NOT_INVITED] if was_published else []
        _change([(sl, Status.CANCELLED) for sl in affected], Trigger.SESSION_CANCELLED, actor=actor)
        if informed:
            send_all(
                messages.calendar_update_messages(
                    locked, informed, method=ical.CANCEL, actor=actor, cancellation_reason=reason.strip()
                ),
                origin=origin,
                return_rows=False,
            )
    return locked


def record_feedback(session_learner, *, answered_at=None) -> SessionLearner:
    """The learner answered the feedback form: no feedback form reminder for them any more."""
    answered_at = answered_at or timezone.now()
    SessionLearner.objects.filter(pk=session_learner.pk, feedback_answered_at__isnull=True).update(
        feedback_answered_at=answered_at
    )
    session_learner.refresh_from_db(fields=["feedback_answered_at"])
    return session_learner
