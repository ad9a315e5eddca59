"""What the trainer pages read (seed 003 "Attendance form"): a trainer's sessions, a roster, go-show candidates.

Writes go through live_sessions.services (mark_attendance, add_go_show); this
module only reads, each function in a fixed number of queries.
"""

import time
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from learners.models import Learner

from .models import EARLIEST_SESSION_DATE, LATEST_SESSION_DATE, LiveSession, SessionLearner

TRAINERS_GROUP = "Trainers"

PAST_SESSIONS_SHOWN = 20
# The go-show search finds a learner by name among the active learners, never by email (two letters at
# a time, it listed every learner's address): a few names per search, a few searches a minute.
GO_SHOW_RESULTS = 10
GO_SHOW_MIN_QUERY = 3

Status = SessionLearner.Status
# Who the attendance form lists: the roster and those already marked, so a second save shows what the first did.
ROSTER_STATUSES = [Status.REGISTERED, Status.ATTENDED, Status.ABSENT, Status.GO_SHOW]
PRESENT_STATUSES = [Status.ATTENDED, Status.GO_SHOW]


def trainers_group():
    group, _created = Group.objects.get_or_create(name=TRAINERS_GROUP)
    return group


def is_trainer_of(user, session) -> bool:
    return user.is_authenticated and session.trainers.filter(pk=user.pk).exists()


@dataclass
class TrainerSession:
    session: LiveSession
    local_start: object  # in the session's time zone, which decides what "today" is
    local_end: object
    attendance_open: bool
    registered_count: int
    present_count: int


def _describe(session, now):
    zone = zoneinfo.ZoneInfo(session.timezone)
    opens, closes = session.attendance_window()
    return TrainerSession(
        session=session,
        local_start=session.starts_at.astimezone(zone),
        local_end=session.ends_at.astimezone(zone),
        attendance_open=opens <= now <= closes,
        registered_count=session.registered_count,
        present_count=session.present_count,
    )


def sessions_for_trainer(user, *, now=None):
    """The sessions `user` trains as (today, upcoming, past): today's first, each day in the session's time zone."""
    now = now or timezone.now()
    # A row stored before session dates were bounded (year 9999) cannot be shown in its time zone.
    held = {"starts_at__gte": EARLIEST_SESSION_DATE, "ends_at__lt": LATEST_SESSION_DATE}
    sessions = LiveSession.objects.filter(trainers=user, **held).annotate(
        registered_count=Count("session_learners", filter=Q(session_learners__status=Status.REGISTERED)),
        present_count=Count("session_learners", filter=Q(session_learners__status__in=PRESENT_STATUSES)),
    )
    # A day either side covers every time zone; the exact "today" is decided per session below.
    recent_and_coming = list(sessions.filter(ends_at__gte=now - timedelta(days=1)).order_by("starts_at", "pk"))
    past = list(
        sessions.filter(ends_at__lt=now - timedelta(days=1)).order_by("-starts_at", "-pk")[:PAST_SESSIONS_SHOWN]
    )
    today, upcoming = [], []
    for session in recent_and_coming:
        described = _describe(session, now)
        local_today = now.astimezone(zoneinfo.ZoneInfo(session.timezone)).date()
        if described.local_start.date() <= local_today <= described.local_end.date():
            today.append(described)
        elif session.ends_at >= now:
            upcoming.append(described)
        else:
            past.insert(0, session)
    return today, upcoming, [_describe(session, now) for session in past]


def roster(session):
    """The learners the attendance form lists, with their learner, in one query."""
    return list(
        session.session_learners.filter(status__in=ROSTER_STATUSES)
        .select_related("learner")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )


def take_go_show_search(user, *, now=None) -> bool:
    """Count one go-show search of `user` in this minute; False once they made GO_SHOW_SEARCHES_PER_MINUTE."""
    minute = int((now if now is not None else time.time()) // 60)
    key = f"go-show-search:{user.pk}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=120)
        count = 1
    return count <= settings.GO_SHOW_SEARCHES_PER_MINUTE


def go_show_candidates(session, query):
    """Active learners whose names match `query` who are not already marked present in `session`, with their
    status there; the page shows their names only."""
    query = (query or "").strip()
    if len(query) < GO_SHOW_MIN_QUERY:
        return []
    words = query.split()
    matches = Learner.objects.filter(is_active=True)
    for word in words:
        matches = matches.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    present = SessionLearner.objects.filter(session=session, status__in=PRESENT_STATUSES).values("learner_id")
    candidates = list(
        matches.exclude(pk__in=present)
        .only("pk", "first_name", "last_name")
        .order_by("last_name", "first_name", "pk")[:GO_SHOW_RESULTS]
    )
    statuses = dict(
        SessionLearner.objects.filter(session=session, learner__in=candidates).values_list("learner_id", "status")
    )
    for learner in candidates:
        status = statuses.get(learner.pk)
        learner.status_here = Status(status).label if status else ""
    return candidates


def off_roster_words(session, session_learner_ids) -> list[str]:
    """ "Name (status)" for learners of `session` among the ids, in one query."""
    rows = (
        SessionLearner.objects.filter(session=session, pk__in=session_learner_ids)
        .select_related("learner")
        .order_by("learner__last_name", "learner__first_name")
    )
    return [f"{sl.learner.full_name} ({sl.get_status_display().lower()})" for sl in rows]
