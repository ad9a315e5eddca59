"""The waiting list's other doors: a learner removed from a session, and an offered place not taken
in time. Like a cancellation or a raised capacity, each frees a place that goes to the first learner of the
waiting list (first come, first served: `waiting_since`), under the session lock (status._promote)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.services import Origin, send_all

from .. import answers
from ..flow import Trigger
from ..models import LiveSession, SessionLearner
from .status import _change, _promote

Status = SessionLearner.Status


def remove_learners(session_learners, *, actor=None) -> int:
    """An administrator removes learners from their sessions; the places they held are offered to the waiting
    list at once. Returns how many were removed. (Their status history goes with them.)"""
    ids = [sl.pk if isinstance(sl, SessionLearner) else int(sl) for sl in session_learners]
    with transaction.atomic():
        session_ids = SessionLearner.objects.filter(pk__in=ids).values("session_id")
        sessions = list(LiveSession.objects.select_for_update(of=("self",)).filter(pk__in=session_ids).order_by("pk"))
        _total, per_model = SessionLearner.objects.filter(pk__in=ids).delete()
        for session in sessions:
            _promote(session, actor=actor)
    return per_model.get(SessionLearner._meta.label, 0)


def offer_deadline(now=None):
    """Offers made before this moment have expired (settings.WAITING_LIST_OFFER_HOURS)."""
    return (now or timezone.now()) - timedelta(hours=settings.WAITING_LIST_OFFER_HOURS)


def expired_offers():
    """Places offered to learners of the waiting list and not taken within WAITING_LIST_OFFER_HOURS."""
    return SessionLearner.objects.filter(
        status=Status.INVITED,
        waiting_since__isnull=False,
        status_changed_at__lte=offer_deadline(),
        session__status=LiveSession.Status.READY,
    )


def expire_offers() -> list[SessionLearner]:
    """Each expired offer passes to the next learner of the waiting list: the learner who did not answer is
    recorded as declined (trigger "offer_expired") and told the place has passed on, and the place is offered
    again in order. One transaction per session, under its lock; the learners who lost their offer hear it in
    one send for the whole scan. Returns the learners newly offered a place. Harmless to run twice."""
    offered, passed_on = [], []
    session_ids = sorted(set(expired_offers().values_list("session_id", flat=True)))
    for session_id in session_ids:
        with transaction.atomic():
            session = LiveSession.objects.select_for_update(of=("self",)).get(pk=session_id)
            # Read again under the lock: the learner may have answered meanwhile.
            late = list(
                expired_offers()
                .filter(session=session)
                .select_related("learner")
                .select_for_update(of=("self",))
                .order_by("pk")
            )
            if not late:
                continue
            changes = _change([(sl, Status.DECLINED) for sl in late], Trigger.OFFER_EXPIRED)
            passed_on.extend(
                answers.offer_expired(session, sl, change.pk) for sl, change in zip(late, changes, strict=True)
            )
            offered.extend(_promote(session))
    if passed_on:
        send_all(passed_on, origin=Origin.SYSTEM, return_rows=False)
    return offered
