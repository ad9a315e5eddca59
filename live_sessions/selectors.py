"""Queries about live sessions and their learners (seed 003): counts, fill rate, waiting list order."""

from django.db.models import Count, Q

from notifications.models import Event, Notification

from .flow import FILLING_STATUSES
from .models import LiveSession, SessionLearner, StatusChange

Status = SessionLearner.Status


def counts_by_status(session) -> dict[str, int]:
    """{status: number of learners} with every status present (0 when none); one query."""
    counts = dict.fromkeys(Status.values, 0)
    rows = SessionLearner.objects.filter(session=session).values_list("status").annotate(n=Count("pk"))
    counts.update(dict(rows))
    return counts


def filled_count(session) -> int:
    """Learners taking a place: registered, go show and attended (seed 003 "Fill Rate")."""
    return SessionLearner.objects.filter(session=session, status__in=FILLING_STATUSES).count()


def fill_rate(session) -> float:
    if not session.capacity:
        return 0.0
    return filled_count(session) / session.capacity


def session_summary(session) -> dict:
    """Counts per status, places taken, places offered to the waiting list and the fill rate, in one query."""
    aggregates = {status: Count("pk", filter=Q(status=status)) for status in Status.values}
    aggregates["offered"] = Count("pk", filter=Q(status=Status.INVITED, waiting_since__isnull=False))
    row = SessionLearner.objects.filter(session=session).aggregate(**aggregates)
    filled = sum(row[status] for status in FILLING_STATUSES)
    capacity = session.capacity
    return {
        "counts": {status: row[status] for status in Status.values},
        "filled": filled,
        "offered": row["offered"],
        "capacity": capacity,
        "free": None if not capacity else max(capacity - filled - row["offered"], 0),
        "fill_rate": filled / capacity if capacity else 0.0,
        "total": sum(row[status] for status in Status.values),
    }


def reached_by_new_dates(session) -> int:
    """How many learners new dates reach: the invited and registered learners of a ready session, who hold
    its calendar invitation and get it updated (seed 002 §IV); a draft has told nobody yet. One query."""
    if session.status != LiveSession.Status.READY:
        return 0
    return SessionLearner.objects.filter(session=session, status__in=[Status.INVITED, Status.REGISTERED]).count()


def waiting_list(session):
    """The waiting list in the order places are offered: first come, first served."""
    return (
        SessionLearner.objects.filter(session=session, status=Status.WAITING_LIST)
        .select_related("learner")
        .order_by("waiting_since", "pk")
    )


def status_history(session_learners) -> dict[int, list[StatusChange]]:
    """{session learner id: its StatusChange rows in order}; one query."""
    ids = [sl.pk if isinstance(sl, SessionLearner) else sl for sl in session_learners]
    history = {pk: [] for pk in ids}
    for change in StatusChange.objects.filter(session_learner__in=ids).order_by("at", "pk"):
        history[change.session_learner_id].append(change)
    return history


# Outbox rows that count as "the feedback form was sent" for the reminder's condition.
_SENT_OR_ON_ITS_WAY = [Notification.Status.SENT, Notification.Status.QUEUED, Notification.Status.AWAITING_CONFIRMATION]


def feedback_form_sent_ids(session_learner_ids) -> set[int]:
    """Session learners who were sent the feedback form (seed 003 "Feedback Form Reminder"); one query."""
    if not session_learner_ids:
        return set()
    rows = Notification.objects.filter(
        event=Event.SESSION_FEEDBACK_FORM,
        status__in=_SENT_OR_ON_ITS_WAY,
        context__session_learner__in=list(session_learner_ids),
    ).values_list("context__session_learner", flat=True)
    return {int(pk) for pk in rows}


def sessions_trained_by(user):
    return LiveSession.objects.filter(trainers=user)
