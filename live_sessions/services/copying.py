"""Copy and export (seed 003 "Copy Learners", "Export the list of learners")."""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import flow
from ..export import learners_workbook
from ..flow import FILLING_STATUSES, LiveSessionError, Trigger
from ..models import LiveSession, SessionLearner
from .communication import _load_session_learners
from .status import _create, _free_places, _invite, _lock_session, _promote

Status = SessionLearner.Status
SessionStatus = LiveSession.Status


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
        if free is not None:
            # A copy never takes a place someone on the target's waiting list is waiting for.
            waiting = SessionLearner.objects.filter(session=target, status=Status.WAITING_LIST).count()
            free = max(free - waiting, 0)
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
    return learners_workbook(session, session_learners)
