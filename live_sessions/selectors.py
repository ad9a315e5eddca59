"""Queries about live sessions and their learners (seed 003): counts, fill rate, waiting list order."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import CharField, Count, Exists, Max, OuterRef, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lms_notify import zones
from lms_notify.timeline import Entry, Link, latest_moment, two_step_entries, who
from notifications.models import Event, Notification
from notifications.services import reason_in_words

from .flow import FILLING_STATUSES, SESSION_CANCELLED_FROM, Trigger
from .models import LiveSession, ParticipationRequest, SessionLearner, StatusChange

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


def calendar_holders(session):
    """The invited and registered learners of a ready session who received its calendar file: an email of
    theirs about this session carried one and was sent or is on its way (not omitted, cancelled or failed).
    Seed 002 §IV: new dates go to "l'utilisateur à qui vous avez déjà envoyé une invitation calendrier"; a
    draft has told nobody yet. One query (an EXISTS per learner on the outbox's learner index)."""
    if session.status != LiveSession.Status.READY:
        return SessionLearner.objects.none()
    Delivery = Notification.Status
    received = (
        Notification.objects.filter(
            recipient_learner=OuterRef("learner_id"),
            status__in=[Delivery.SENT, Delivery.QUEUED, Delivery.AWAITING_CONFIRMATION],
        )
        .exclude(attachments=[])
        .annotate(about=KeyTextTransform("session_learner", "context"))
        .filter(about=Cast(OuterRef("pk"), CharField()))
    )
    return SessionLearner.objects.filter(session=session, status__in=[Status.INVITED, Status.REGISTERED]).filter(
        Exists(received)
    )


def reached_by_new_dates(session) -> int:
    """How many learners new dates reach (`calendar_holders`): they get their calendar invitation updated."""
    return calendar_holders(session).count()


def to_invite_on_publish(session):
    """The learners publishing invites: those not invited yet (seed 003 "Not invited -> Invited")."""
    return SessionLearner.objects.filter(session=session, status=Status.NOT_INVITED).select_related("learner")


def told_of_new_dates(session):
    """The learners new dates reach (see `reached_by_new_dates`); none while the session is a draft."""
    if session.status != LiveSession.Status.READY:
        return SessionLearner.objects.none()
    return SessionLearner.objects.filter(
        session=session, status__in=[Status.INVITED, Status.REGISTERED]
    ).select_related("learner")


def told_of_cancellation(session):
    """The learners a cancellation reaches: those who had heard of the published session (not the not-invited)
    among those it cancels; nobody while it is a draft."""
    if session.status != LiveSession.Status.READY:
        return SessionLearner.objects.none()
    cancelled = [status for status in SESSION_CANCELLED_FROM if status != Status.NOT_INVITED]
    return SessionLearner.objects.filter(session=session, status__in=cancelled).select_related("learner")


def roster_token(session) -> str:
    """What a confirmation page showed, as a token it posts back: the session's status and calendar
    sequence, its number of learners and their latest status change. A service asked to act on this token
    refuses when the session or its learners changed since (another administrator, a learner's answer), so the
    administrator looks again before anyone is told. One query."""
    row = SessionLearner.objects.filter(session=session).aggregate(n=Count("pk"), last=Max("status_changed_at"))
    last = row["last"].isoformat() if row["last"] else "-"
    return f"{session.status}.{session.calendar_sequence}.{row['n']}.{last}"


# The last message of each learner about her session: what the session page and the export show.
@dataclass(frozen=True)
class LastMessage:
    event: str
    channel: str
    status: str
    reason: str
    at: datetime


def last_messages(session, session_learners) -> dict[int, LastMessage]:
    """{session learner id: the latest outbox row about her in this session, her own copy} for `session_learners`
    (instances with their learner_id); learners without any are absent. One query, for any number of learners:
    rows are found through the learner (indexed) and the session they name; a manager's or guardian's copy of
    her message is not hers."""
    by_pk = {sl.pk: sl for sl in session_learners}
    if not by_pk:
        return {}
    learner_ids = {sl.learner_id for sl in by_pk.values()}
    rows = (
        Notification.objects.filter(
            recipient_learner__in=learner_ids, recipient_guardian__isnull=True, context__session=session.pk
        )
        .order_by("created_at", "pk")
        .values_list(
            "recipient_learner_id", "context__session_learner", "event", "channel", "status", "reason", "created_at"
        )
    )
    found = {}
    for learner_id, sl_pk, event, channel, status, reason, at in rows:
        sl = by_pk.get(sl_pk) if isinstance(sl_pk, int) else None
        if sl is not None and sl.learner_id == learner_id:
            found[sl.pk] = LastMessage(event, channel, status, reason, at)
    return found


_LAST_MESSAGE_WORDS = {
    Notification.Status.SENT: gettext_lazy("Sent: %(event)s"),
    Notification.Status.QUEUED: gettext_lazy("On its way: %(event)s"),
    Notification.Status.AWAITING_CONFIRMATION: gettext_lazy("Awaiting confirmation: %(event)s"),
    Notification.Status.FAILED: gettext_lazy("Failed: %(event)s"),
    Notification.Status.OMITTED: gettext_lazy("Omitted (%(reason)s): %(event)s"),
    Notification.Status.CANCELLED: gettext_lazy("Cancelled (%(reason)s): %(event)s"),
}


def last_message_words(last: LastMessage | None) -> str:
    """The state of a learner's last message in words (the session page, the export): a learner without
    consent reads "Omitted (the learner has not consented…)", not only her status."""
    if last is None:
        return _("Nothing sent yet")
    event = dict(Event.choices).get(last.event, last.event)
    words = str(_LAST_MESSAGE_WORDS.get(last.status, "%(event)s"))
    return words % {"event": event, "reason": reason_in_words(last.reason) or "-"}


def with_free_places(sessions):
    """`sessions` annotated with `places_taken` (as `session_summary` counts them: filled, and offered to the
    waiting list); a session's `free_places` is then None without a capacity (date options say which
    are full). No query of its own."""
    return sessions.annotate(
        places_taken=Count(
            "session_learners",
            filter=Q(session_learners__status__in=FILLING_STATUSES)
            | Q(session_learners__status=Status.INVITED, session_learners__waiting_since__isnull=False),
        )
    )


def free_places(session) -> int | None:
    """The free places of a session read through `with_free_places`: None when its capacity is unlimited."""
    if not session.capacity:
        return None
    return max(session.capacity - session.places_taken, 0)


def walk_ins_to_review(session) -> int:
    """How many of the session's learners a trainer added as walk-ins and no administrator has reviewed yet.
    One query."""
    return SessionLearner.objects.filter(session=session, learner__needs_review=True).count()


def waiting_list(session):
    """The waiting list in the order places are offered: first come, first served."""
    return (
        SessionLearner.objects.filter(session=session, status=Status.WAITING_LIST)
        .select_related("learner")
        .order_by("waiting_since", "pk")
    )


def open_to_newcomers(session) -> bool:
    """Whether a learner not on the waiting list could take a place now: a free place nobody waits for.
    One query; the services decide again under the session lock."""
    summary = session_summary(session)
    return summary["free"] is None or summary["free"] > summary["counts"][Status.WAITING_LIST]


def waiting_list_with_positions(session, *, limit=None) -> list[tuple[int, SessionLearner]]:
    """(position, session learner) of the waiting list in order (1 is offered the next free place). One query."""
    rows = waiting_list(session)
    if limit is not None:
        rows = rows[:limit]
    return list(enumerate(rows, start=1))


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


# --- A learner's timeline ---------------------------------------------------------------------------

# A place lost or refused: the timeline marks these so the eye finds them.
_SETBACKS = {Status.DECLINED, Status.APPROVAL_DECLINED, Status.CANCELLED, Status.ABSENT}


def timeline_status_changes(*, learner, filters, limit):
    """Every change of the learner's place in a session, who or what made it: two queries."""
    if filters.kind not in ("", "session") or filters.names_a_message_state:
        return 0, []
    rows = StatusChange.objects.filter(session_learner__learner_id=learner.pk, **filters.range_lookups("at"))
    total = rows.count()
    rows = rows.select_related("session_learner__session", "actor").order_by("-at", "-pk")[:limit]
    entries = []
    for row in rows:
        session = row.session_learner.session
        before = Status(row.from_status).label if row.from_status in Status.values else "—"
        trigger = Trigger(row.trigger).label if row.trigger in Trigger.values else row.trigger
        entries.append(
            Entry(
                at=row.at,
                kind="session",
                what=_("Session “%(title)s”") % {"title": session.title},
                status=f"{before} → {row.get_to_status_display()}",
                why=" · ".join(filter(None, [str(trigger), who(row.actor)])),
                detail=zones.labelled(session.starts_at, session.timezone),
                problem=row.to_status in _SETBACKS,
                links=(Link(_("session"), reverse("admin:live_sessions_livesession_change", args=[session.pk])),),
                order=(row.pk,),
            )
        )
    return total, entries


def timeline_date_choices(*, learner, filters, limit):
    """The learner's date choice requests and her answers: two queries."""
    if filters.kind not in ("", "request") or filters.names_a_message_state:
        return 0, []
    created, responded = filters.range_lookups("created_at"), filters.range_lookups("responded_at")
    rows = ParticipationRequest.objects.filter(learner_id=learner.pk).filter(
        filters.either_in_range(created, responded)
    )
    counts = rows.aggregate(
        made=Count("pk", filter=Q(**created)),
        answered=Count("pk", filter=Q(responded_at__isnull=False, **responded)),
    )
    rows = rows.select_related("created_by", "chosen_session").order_by(
        latest_moment("created_at", "responded_at").desc(), "-pk"
    )[:limit]

    def entry(row, at, status, why, problem=False):
        links = [Link(_("date choice"), reverse("admin:live_sessions_participationrequest_change", args=[row.pk]))]
        if row.chosen_session_id and at != row.created_at:
            url = reverse("admin:live_sessions_livesession_change", args=[row.chosen_session_id])
            links.append(Link(_("session"), url))
        return Entry(
            at=at,
            kind="request",
            what=_("Date choice request"),
            status=str(status),
            why=str(why),
            problem=problem,
            links=tuple(links),
            order=(row.pk, at == row.created_at),
        )

    def made(row):
        by = _("by %(name)s") % {"name": who(row.created_by)} if row.created_by_id else ""
        return entry(row, row.created_at, ParticipationRequest.Status.PENDING.label, by)

    def answered(row):
        if row.responded_at is None:
            return None
        status = row.get_status_display()
        if row.chosen_session_id:
            status = f"{status}: {row.chosen_session.title}"
        declined = row.status == ParticipationRequest.Status.DECLINED
        return entry(row, row.responded_at, status, "", problem=declined)

    entries = two_step_entries(rows, filters=filters, limit=limit, first=made, second=answered)
    return counts["made"] + counts["answered"], entries


# --- What needs attention (the home page) --------------------------------------------------------------


def period_bounds(period, *, now=None):
    """(start, end) of "today" or "week" (Monday to Sunday) in the current time zone; None for another word."""
    today = timezone.localdate(now)
    if period == "today":
        first, days = today, 1
    elif period == "week":
        first, days = today - timedelta(days=today.weekday()), 7
    else:
        return None
    start = timezone.make_aware(datetime.combine(first, time.min))
    return start, timezone.make_aware(datetime.combine(first + timedelta(days=days), time.min))


def sessions_figures(*, now=None) -> dict:
    """For today and this week: sessions (not cancelled), places taken over capacity, learners on waiting lists.

    One query: the week's sessions with their counts, summed here (a week holds tens of sessions)."""
    week_start, week_end = period_bounds("week", now=now)
    today_start, today_end = period_bounds("today", now=now)
    rows = (
        LiveSession.objects.exclude(status=LiveSession.Status.CANCELLED)
        .filter(starts_at__gte=week_start, starts_at__lt=week_end)
        .annotate(
            filled=Count("session_learners", filter=Q(session_learners__status__in=FILLING_STATUSES)),
            waiting=Count("session_learners", filter=Q(session_learners__status=Status.WAITING_LIST)),
        )
        .values_list("starts_at", "capacity", "filled", "waiting")
    )
    figures = {period: {"sessions": 0, "capacity": 0, "filled": 0, "waiting": 0} for period in ("today", "week")}
    for starts_at, capacity, filled, waiting in rows:
        periods = ["week"] + (["today"] if today_start <= starts_at < today_end else [])
        for period in periods:
            figure = figures[period]
            figure["sessions"] += 1
            figure["capacity"] += capacity
            figure["filled"] += filled
            figure["waiting"] += waiting
    for figure in figures.values():
        figure["fill_rate"] = round(100 * figure["filled"] / figure["capacity"]) if figure["capacity"] else None
    return figures
