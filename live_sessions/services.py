"""Live sessions: what changes a session learner's status, and the messages that go with it (seed 003).

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

import uuid
from collections import defaultdict
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from notifications.models import Event
from notifications.services import (
    Origin,
    OutgoingMessage,
    Recipient,
    compile_written,
    enqueue,
    render_written_part,
    send_all,
)
from notifications.templating import TemplateCache

from . import flow, ical, messages
from .emails import RULES, EmailPreview, EmailResult, EmailRule, EmailType, RenderedEmail
from .flow import FILLING_STATUSES, LiveSessionError, Trigger
from .models import LiveSession, ParticipationRequest, SessionLearner, StatusChange, session_dates_problem
from .windows import require_answerable, require_attendance_open

Status = SessionLearner.Status
SessionStatus = LiveSession.Status

__all__ = [
    "EmailResult",
    "EmailType",
    "LiveSessionError",
    "add_go_show",
    "add_learners",
    "cancel",
    "cancel_session",
    "choose_date",
    "decline_participation",
    "confirm_attendance",
    "convoke",
    "copy_learners",
    "copy_learners_with_outcomes",
    "decide_approval",
    "export_learners",
    "fill_rate",
    "mark_attendance",
    "mark_attendance_many",
    "preview_email",
    "promote_waiting_list",
    "publish",
    "record_feedback",
    "register",
    "request_participation",
    "reschedule",
    "respond",
    "send_email",
    "set_capacity",
    "set_status",
    "take_freed_place",
]


# --- Status changes -------------------------------------------------------------------------------------


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


def _refuse_full(session):
    raise LiveSessionError(
        gettext("The session “%(title)s” is full and has no waiting list.") % {"title": session.title}
    )


def _promote(session, *, actor=None, now=None) -> list[SessionLearner]:
    """Offer every free place to the first learners of the waiting list (first come, first served).

    The caller holds the session lock: two places freed at the same moment go to two different learners.
    """
    if session.status != SessionStatus.READY:
        return []
    free = _free_places(session)
    waiting = SessionLearner.objects.filter(session=session, status=Status.WAITING_LIST).select_related("learner")
    waiting = waiting.order_by("waiting_since", "pk")
    if free is not None:
        if free <= 0:
            return []
        waiting = waiting[:free]
    waiting = list(waiting)
    if not waiting:
        return []
    changes = _change([(sl, Status.INVITED) for sl in waiting], Trigger.PLACE_FREED, actor=actor, now=now)
    enqueue(messages.invitation_messages(session, [(sl, c.pk) for sl, c in zip(waiting, changes, strict=True)]))
    return waiting


def _invite(session, session_learners, changes, *, actor=None):
    enqueue(
        messages.invitation_messages(
            session, [(sl, c.pk) for sl, c in zip(session_learners, changes, strict=True)], actor=actor
        ),
        return_rows=False,
    )


# --- The contract ---------------------------------------------------------------------------------------


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


def publish(session, *, actor=None):
    """Draft -> ready; every `not_invited` learner becomes `invited` and gets the calendar invitation.

    Set-based (seed 003 "Not invited -> Invited"): a fixed number of queries for any number of learners.
    """
    with transaction.atomic():
        locked = _lock_session(session)
        if locked.status != SessionStatus.DRAFT:
            raise LiveSessionError(
                gettext("Only a draft session can be published; this one is %(status)s.")
                % {"status": str(SessionStatus(locked.status).label).lower()}
            )
        LiveSession.objects.filter(pk=locked.pk).update(status=SessionStatus.READY)
        locked.status = session.status = SessionStatus.READY
        to_invite = list(
            SessionLearner.objects.filter(session=locked, status=Status.NOT_INVITED).select_related("learner")
        )
        changes = _change([(sl, Status.INVITED) for sl in to_invite], Trigger.SESSION_PUBLISHED, actor=actor)
        _invite(locked, to_invite, changes, actor=actor)
    return locked


def register(session, learner) -> SessionLearner:
    """The learner's own registration (seed 003): `registered`; `needs_approval` (and the approver is emailed)
    when the session requires approval; `waiting_list` when full and the waiting list is enabled; otherwise a
    LiveSessionError that changes nothing. Registering again is harmless. An invited learner registering
    accepts the invitation. Capacity is checked when the approver approves, not at the request."""
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
        elif _has_place(session):
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
                enqueue([message])
    return current


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
        if not approve:
            _change([(current, Status.APPROVAL_DECLINED)], Trigger.APPROVAL_DECLINED, actor=actor)
        elif _has_place(session):
            _change([(current, Status.REGISTERED)], Trigger.APPROVED, actor=actor)
        elif session.waiting_list_enabled:
            _change([(current, Status.WAITING_LIST)], Trigger.APPROVED, actor=actor)
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

    Sends nothing and offers no place by itself (use `promote_waiting_list`). Returns how many changed.
    Set-based: a fixed number of queries.
    """
    if status not in Status.values:
        raise LiveSessionError(gettext("“%(status)s” is not a learner status.") % {"status": status})
    ids = [sl.pk if isinstance(sl, SessionLearner) else int(sl) for sl in session_learners]
    with transaction.atomic():
        # Rows locked in id order, so two overlapping updates wait for each other instead of deadlocking.
        rows = list(SessionLearner.objects.select_for_update().filter(pk__in=ids).exclude(status=status).order_by("pk"))
        changes = _change([(sl, status) for sl in rows], Trigger.MANUAL, actor=actor)
    by_pk = {sl.pk: sl for sl in rows}
    for sl in session_learners:
        if isinstance(sl, SessionLearner) and sl.pk in by_pk:
            _sync(sl, by_pk[sl.pk])
    return len(changes)


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
    from .selectors import filled_count

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
    """New dates: every invited and registered learner gets an update of the same calendar invitation
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
            recipients = list(
                SessionLearner.objects.filter(
                    session=locked, status__in=[Status.INVITED, Status.REGISTERED]
                ).select_related("learner")
            )
            enqueue(
                messages.calendar_update_messages(
                    locked, recipients, method=ical.REQUEST, actor=actor, admin_message=message
                ),
                return_rows=False,
            )
    return locked


def cancel_session(session, *, actor=None):
    """Cancel the whole session: it becomes `cancelled`, and so does every learner still not_invited, invited,
    needing approval, on the waiting list or registered (trigger "session_cancelled"); those who had heard of
    it (all but not_invited) get the cancellation with METHOD:CANCEL (same UID, SEQUENCE + 1). Learners who had
    declined, attended, etc. keep their status."""
    with transaction.atomic():
        locked = _lock_session(session)
        if locked.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
            raise LiveSessionError(gettext("This session is already cancelled or completed."))
        was_published = locked.status == SessionStatus.READY
        LiveSession.objects.filter(pk=locked.pk).update(
            status=SessionStatus.CANCELLED, calendar_sequence=F("calendar_sequence") + 1
        )
        locked.refresh_from_db(fields=["status", "calendar_sequence"])
        session.status, session.calendar_sequence = locked.status, locked.calendar_sequence
        affected = list(
            SessionLearner.objects.filter(session=locked, status__in=flow.SESSION_CANCELLED_FROM).select_related(
                "learner"
            )
        )
        informed = [sl for sl in affected if sl.status != Status.NOT_INVITED]
        _change([(sl, Status.CANCELLED) for sl in affected], Trigger.SESSION_CANCELLED, actor=actor)
        if was_published:
            enqueue(
                messages.calendar_update_messages(locked, informed, method=ical.CANCEL, actor=actor),
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


# --- Emails an administrator sends (seed 003 "Communicate with Learners") ---------------------------------


_OMIT_WORDS = {
    "no_consent": gettext_noop("No consent to receive messages."),
    "no_contact": gettext_noop("No email address."),
    "inactive": gettext_noop("The learner is inactive."),
}


def _skip_reasons(session, session_learners, email_type, rule=None) -> tuple[list, list]:
    """(eligible, [(session learner, reason in words)]) for one email type, with at most one query."""
    from .selectors import feedback_form_sent_ids

    rule = rule or RULES[email_type]
    eligible, skipped = [], []
    if rule.session_field and not getattr(session, rule.session_field):
        reason = (
            gettext("The session has no registration form.")
            if rule.session_field == "registration_form_url"
            else gettext("The session has no feedback form.")
        )
        return [], [(sl, reason) for sl in session_learners]
    sent_feedback = set()
    if email_type == EmailType.FEEDBACK_FORM_REMINDER:
        sent_feedback = feedback_form_sent_ids([sl.pk for sl in session_learners])
    for sl in session_learners:
        if sl.session_id != session.pk:
            skipped.append((sl, gettext("Not a learner of this session.")))
        elif rule.statuses is not None and sl.status not in rule.statuses:
            skipped.append(
                (
                    sl,
                    gettext("Status is %(status)s; this email is only for %(wanted)s learners.")
                    % {
                        "status": flow.status_label(sl.status),
                        "wanted": gettext(" or ").join(flow.status_label(s) for s in rule.statuses),
                    },
                )
            )
        elif email_type == EmailType.FEEDBACK_FORM_REMINDER and sl.feedback_answered_at is not None:
            skipped.append((sl, gettext("Already answered the feedback form.")))
        elif email_type == EmailType.FEEDBACK_FORM_REMINDER and sl.pk not in sent_feedback:
            skipped.append((sl, gettext("The feedback form was not sent to this learner yet.")))
        else:
            reason = Recipient(learner=sl.learner).omit_reason("email")
            if reason:
                skipped.append((sl, gettext(_OMIT_WORDS.get(reason, reason))))
            else:
                eligible.append(sl)
    return eligible, skipped


def _template_source(event, language):
    """The words an administrator edits: the edited template of the language over the built-in words."""
    from notifications.templating import source_parts

    return source_parts(event, language)


def _compile_written(event, *, subject, body, language="en"):
    """(subject, body) the administrator wrote for this sending, compiled (None: the built-in words), once they
    pass the checks every message template passes (issue 16: the same restricted engine, never Django's
    default one); a LiveSessionError names each refused part otherwise."""
    parts = {name: text for name, text in (("subject", subject), ("body", body)) if text is not None}
    try:
        compiled = compile_written(event=event, language=language, parts=parts)
    except ValidationError as exc:
        what = {"subject": gettext("subject"), "body": gettext("body")}
        raise LiveSessionError(
            [
                gettext("The %(what)s is refused: %(error)s") % {"what": what[part], "error": " ".join(errors)}
                for part, errors in exc.message_dict.items()
            ]
        ) from exc
    return compiled.get("subject"), compiled.get("body")


def _render_override(template, context, learner):
    return render_written_part(template, context, language=learner.language, tz=learner.timezone)


def _load_session_learners(session_learners):
    ids = [sl.pk if isinstance(sl, SessionLearner) else int(sl) for sl in session_learners]
    return list(SessionLearner.objects.filter(pk__in=ids).select_related("learner").order_by("pk"))


def _check_email_type(email_type):
    if email_type not in RULES:
        raise LiveSessionError(gettext("“%(type)s” is not an email type.") % {"type": email_type})


def preview_email(session, session_learners, email_type, *, subject=None, body=None, language="en", samples=3):
    """What `send_email` would send and skip, with the editable words and a few rendered samples."""
    _check_email_type(email_type)
    return _preview(
        session,
        session_learners,
        email_type,
        RULES[email_type],
        subject=subject,
        body=body,
        language=language,
        samples=samples,
    )


def _preview(session, session_learners, email_type, rule, *, subject, body, language, samples):
    rows = _load_session_learners(session_learners)
    eligible, skipped = _skip_reasons(session, rows, email_type, rule)
    source = _template_source(rule.event, language)
    subject_template = subject if subject is not None else source.subject
    body_template = body if body is not None else source.body
    compiled_subject, compiled_body = _compile_written(
        rule.event, subject=subject_template, body=body_template, language=language
    )
    lifetime = messages.link_lifetime(session)
    rendered = []
    for sl in eligible[:samples]:
        context = _email_context(session, sl, email_type, lifetime, rule)
        try:
            rendered.append(
                RenderedEmail(
                    sl,
                    _render_override(compiled_subject, context, sl.learner),
                    _render_override(compiled_body, context, sl.learner),
                )
            )
        except Exception as exc:  # an edited template that fails must be refused, not sent
            raise LiveSessionError(gettext("The email does not render: %(error)s") % {"error": exc}) from exc
    return EmailPreview(
        email_type=email_type,
        language=language,
        subject_template=subject_template,
        body_template=body_template,
        recipients=eligible,
        skipped=skipped,
        samples=rendered,
        variables=sorted(_email_context(session, eligible[0], email_type, lifetime, rule)) if eligible else [],
    )


def _email_context(session, session_learner, email_type, lifetime, rule=None):
    from notifications.models import Event

    rule = rule or RULES[email_type]
    context = messages.manual_email_context(session, session_learner, email_type, lifetime=lifetime)
    context.setdefault("recipient_name", session_learner.learner.full_name)
    context.setdefault("event_label", str(dict(Event.choices).get(rule.event, "")))
    return context


def send_email(session, session_learners, email_type, *, actor, subject=None, body=None, send_id=None) -> EmailResult:
    """Send one of the seven email types (seed 003 "Email Types") to the selected learners.

    Learners who do not meet the type's condition, or who cannot receive email (no consent, no address), are
    skipped with the reason in words. `subject` / `body` replace the built-in words (they may use the same
    {{ variables }}, rendered for each learner). `send_id` names this sending: the form passes one id per
    submission so a double click sends nothing twice, while sending again on purpose (a new id) does.
    """
    _check_email_type(email_type)
    rule = RULES[email_type]
    if rule.needs_text and not ((subject or "").strip() and (body or "").strip()):
        raise LiveSessionError(gettext("A custom notification needs a subject and a body."))
    return _send(session, session_learners, email_type, rule, actor=actor, subject=subject, body=body, send_id=send_id)


def _send(session, session_learners, email_type, rule, *, actor, subject, body, send_id, calendar=False):
    """Queue one administrator's email to each eligible learner; the EmailResult lists sent and skipped."""
    compiled_subject, compiled_body = _compile_written(rule.event, subject=subject, body=body)
    send_id = send_id or uuid.uuid4().hex
    rows = _load_session_learners(session_learners)
    eligible, skipped = _skip_reasons(session, rows, email_type, rule)
    lifetime = messages.link_lifetime(session)
    session_calendar = ical.SessionCalendar(session) if calendar else None
    outgoing = []
    for sl in eligible:
        context = _email_context(session, sl, email_type, lifetime, rule)
        rendered_subject = rendered_body = None
        try:
            if compiled_subject is not None:
                rendered_subject = _render_override(compiled_subject, context, sl.learner)
            if compiled_body is not None:
                rendered_body = _render_override(compiled_body, context, sl.learner)
        except Exception as exc:  # an edited template that fails must be refused, not half sent
            raise LiveSessionError(gettext("The email does not render: %(error)s") % {"error": exc}) from exc
        if (rendered_subject is None) != (rendered_body is None):
            # One part edited: the other keeps the built-in words, rendered for this learner.
            built_in = TemplateCache().render(rule.event, sl.learner.language, context, tz=sl.learner.timezone)
            rendered_subject = rendered_subject if rendered_subject is not None else built_in.subject
            rendered_body = rendered_body if rendered_body is not None else built_in.body
        outgoing.append(
            (
                sl,
                OutgoingMessage(
                    event=rule.event,
                    channel="email",
                    recipient=Recipient(learner=sl.learner),
                    occurrence=f"sl{sl.pk}:send{send_id}",
                    context=context,
                    refs={
                        "session": session.pk,
                        "session_learner": sl.pk,
                        "expect": list(rule.statuses or []),
                        "email_type": email_type,
                    },
                    actor=actor,
                    subject=rendered_subject,
                    body=rendered_body,
                    attachments=[session_calendar.attachment_for(sl.learner)] if session_calendar else [],
                ),
            )
        )
    created = enqueue([m for _, m in outgoing], return_rows=False) if outgoing else {}
    result = EmailResult(email_type=email_type, send_id=send_id, skipped=skipped)
    for sl, message in outgoing:
        if message.dedupe_key[:255] in created:
            result.sent.append(sl)
        else:
            result.skipped.append((sl, gettext("Already sent by this same request.")))
    return result


# --- Copy and export (seed 003 "Copy Learners", "Export the list of learners") ----------------------------


class CopyOutcome:
    """What happened to one learner copied into another session."""

    def __init__(self, source, session_learner, outcome, message):
        self.source = source
        self.session_learner = session_learner
        self.outcome = outcome
        self.message = message

    def __repr__(self):
        return f"CopyOutcome({self.outcome!r}, {self.message!r})"


def copy_learners_with_outcomes(session_learners, target_session, *, status, actor) -> list[CopyOutcome]:
    """Copy learners into `target_session` with `status`; the target's automation still applies.

    - `registered`: when the target is full they go on its waiting list if enabled, else are not copied;
    - `not_invited` / `invited`: a ready target with calendar integration invites them at once (with the
      calendar invitation); a draft target keeps them not invited; a ready target without calendar integration
      invites them when `invited` was asked;
    - `waiting_list`: they join its waiting list, and free places are offered at once;
    - any other status is set as asked (recorded as copied).
    Learners already in the target keep their status there. Set-based: a fixed number of queries.
    """
    if status not in Status.values:
        raise LiveSessionError(gettext("“%(status)s” is not a learner status.") % {"status": status})
    sources = _load_session_learners(session_learners)
    with transaction.atomic():
        target = _lock_session(target_session)
        if target.status not in (SessionStatus.DRAFT, SessionStatus.READY):
            raise LiveSessionError(gettext("Learners cannot be copied into a cancelled or completed session."))
        existing = {
            sl.learner_id: sl
            for sl in SessionLearner.objects.filter(session=target, learner__in=[s.learner_id for s in sources])
        }
        outcomes, by_status = [], defaultdict(list)
        free = _free_places(target)
        seen = set()
        for source in sources:
            if source.learner_id in seen:
                continue
            seen.add(source.learner_id)
            if source.learner_id in existing:
                there = existing[source.learner_id]
                outcomes.append(
                    CopyOutcome(
                        source,
                        there,
                        "already_in_session",
                        gettext("%(name)s is already in the target session (%(status)s).")
                        % {"name": source.learner.full_name, "status": flow.status_label(there.status)},
                    )
                )
                continue
            wanted = status
            if status in (Status.NOT_INVITED, Status.INVITED):
                if target.status == SessionStatus.DRAFT:
                    wanted = Status.NOT_INVITED
                elif target.calendar_integration:
                    wanted = Status.INVITED
            elif status == Status.REGISTERED and free is not None:
                if free > 0:
                    free -= 1
                elif target.waiting_list_enabled:
                    wanted = Status.WAITING_LIST
                else:
                    outcomes.append(
                        CopyOutcome(
                            source,
                            None,
                            "refused_full",
                            gettext("%(name)s was not copied: the target session is full and has no waiting list.")
                            % {"name": source.learner.full_name},
                        )
                    )
                    continue
            elif status in FILLING_STATUSES and free is not None:
                free -= 1
            by_status[wanted].append(source)
        now = timezone.now()
        for wanted, group in by_status.items():
            pairs = _create(target, [s.learner for s in group], wanted, Trigger.COPIED, actor=actor, now=now)
            if wanted == Status.INVITED and target.status == SessionStatus.READY:
                _invite(target, [sl for sl, _ in pairs], [c for _, c in pairs], actor=actor)
            for source, (sl, _c) in zip(group, pairs, strict=True):
                if wanted == status:
                    words = gettext("%(name)s was copied as %(status)s.")
                else:
                    words = gettext("%(name)s was copied as %(status)s (the target session's automation).")
                outcomes.append(
                    CopyOutcome(
                        source,
                        sl,
                        wanted,
                        words % {"name": source.learner.full_name, "status": flow.status_label(wanted)},
                    )
                )
        if Status.WAITING_LIST in by_status:
            promoted = {sl.pk for sl in _promote(target, actor=actor)}
            for outcome in outcomes:
                if outcome.session_learner is not None and outcome.session_learner.pk in promoted:
                    outcome.session_learner.status = Status.INVITED
                    outcome.outcome = Status.INVITED
                    outcome.message = gettext("%(name)s was offered a free place (invited).") % {
                        "name": outcome.source.learner.full_name
                    }
    return outcomes


def copy_learners(session_learners, target_session, *, status, actor) -> list[SessionLearner]:
    """Copy learners into another session (seed 003 "Copy Learners"); returns the learners of the target
    session that this copy created, each with `copy_outcome` (code) and `copy_message` (words).
    `copy_learners_with_outcomes` also reports those not copied."""
    result = []
    for outcome in copy_learners_with_outcomes(session_learners, target_session, status=status, actor=actor):
        if outcome.session_learner is not None and outcome.outcome != "already_in_session":
            outcome.session_learner.copy_outcome = outcome.outcome
            outcome.session_learner.copy_message = outcome.message
            result.append(outcome.session_learner)
    return result


def export_learners(session, session_learners) -> bytes:
    """The selected learners as an .xlsx workbook (seed 003 "Export the list of learners")."""
    from .export import learners_workbook

    return learners_workbook(session, session_learners)


# --- Seed 002 (convocations, date choices): minimal ---------------------------------------------------------


CONVOCATION = "convocation"
_CONVOCATION_RULE = EmailRule(Event.SESSION_CONVOCATION, (Status.REGISTERED,))


def convoke(session, session_learners, *, actor, subject=None, body=None, include_calendar=True) -> EmailResult:
    """Convene the registered learners of a session (seed 002 §III-A), with the calendar invitation unless
    `include_calendar` is False; subject and body may be edited as for `send_email`. Others are skipped."""
    return _send(
        session,
        session_learners,
        CONVOCATION,
        _CONVOCATION_RULE,
        actor=actor,
        subject=subject,
        body=body,
        send_id=uuid.uuid4().hex,
        calendar=include_calendar,
    )


def preview_convocation(session, session_learners, *, subject=None, body=None, language="en", samples=3):
    """The auto-generated convocation (seed 002 §III-A) an administrator reviews and may edit before `convoke`:
    its editable words, who gets it, who is skipped and why, and a few rendered samples."""
    return _preview(
        session,
        session_learners,
        CONVOCATION,
        _CONVOCATION_RULE,
        subject=subject,
        body=body,
        language=language,
        samples=samples,
    )


def request_participation(learner, sessions, *, actor=None, training_request=None) -> ParticipationRequest:
    """Ask the learner to choose one date among several sessions (seed 002 §III-B): the email links to a page
    offering each date; choosing one registers the learner in that session (its automation applies).

    After an approved training request (`training_request`) the email has its own words. Without an answer
    the learner is reminded 7 and 14 days later (live_sessions.scanners)."""
    sessions = list(sessions)
    if len(sessions) < 1:
        raise LiveSessionError(gettext("Choose at least one session."))
    closed = [s for s in sessions if s.status != SessionStatus.READY]
    if closed:
        raise LiveSessionError(
            gettext("Only sessions open for registration can be offered: “%(title)s” is %(status)s.")
            % {"title": closed[0].title, "status": str(SessionStatus(closed[0].status).label).lower()}
        )
    with transaction.atomic():
        request = ParticipationRequest.objects.create(
            learner=learner, created_by=actor, training_request=training_request
        )
        request.sessions.set(sessions)
        send_all([messages.participation_request_message(request, sessions, actor=actor)], origin=Origin.ADMIN)
    return request


def approve_with_date_choice(training_request, sessions, *, actor) -> ParticipationRequest | None:
    """Approve a training request and offer its next step (seed 002 §II, §III-B): the learner chooses one of
    `sessions`, with the words of a date choice after an approved request. No sessions: approval only."""
    from programs.services import approve_training_request

    sessions = list(sessions)
    with transaction.atomic():
        approve_training_request(training_request, actor=actor)
        if not sessions:
            return None
        return request_participation(training_request.learner, sessions, actor=actor, training_request=training_request)


def choose_date(participation_request, *, session) -> SessionLearner:
    """The learner's choice from a date-choice request: registration in the chosen session, and the
    confirmation with its calendar invitation. A full session is refused in words and the request stays
    open, so the other dates are still offered."""
    with transaction.atomic():
        request = ParticipationRequest.objects.select_for_update().get(pk=participation_request.pk)
        if request.status != ParticipationRequest.Status.PENDING:
            raise LiveSessionError(gettext("You have already answered this request."))
        if not request.sessions.filter(pk=session.pk).exists():
            raise LiveSessionError(gettext("This date was not offered."))
        locked = _lock_session(session)
        require_answerable(locked)
        if not locked.requires_approval and not _has_place(locked):
            raise LiveSessionError(
                gettext("The session “%(title)s” on this date is full: please choose another date.")
                % {"title": locked.title}
            )
        session_learner = register(locked, request.learner)
        ParticipationRequest.objects.filter(pk=request.pk).update(
            status=ParticipationRequest.Status.CHOSEN, chosen_session=session, responded_at=timezone.now()
        )
        send_all([messages.participation_confirmed_message(locked, session_learner)], origin=Origin.ANSWER)
    participation_request.refresh_from_db()
    return session_learner


def decline_participation(participation_request) -> None:
    ParticipationRequest.objects.filter(pk=participation_request.pk, status=ParticipationRequest.Status.PENDING).update(
        status=ParticipationRequest.Status.DECLINED, responded_at=timezone.now()
    )
    participation_request.refresh_from_db()
