"""The learner's timeline: everything the product did, or chose not to do, for one learner.

One list, newest first, merged from sources. A source is a selector of the app owning the records
(`source(*, learner, filters, limit) -> (count, newest entries)`, a fixed number of queries), shown only
to a user who may view its records. Adding what the product records later — consent changes (the consent
history), delivery states (bounces) — is one more `Source` in SOURCES (delivery states: in the messages
source itself, notifications.timeline).
"""

from dataclasses import dataclass
from math import ceil

from django.utils.translation import gettext_lazy as _

from live_sessions.selectors import timeline_date_choices, timeline_status_changes
from lms_notify.timeline import Filters
from notifications.services import timeline_messages, timeline_notify_outcomes
from programs.selectors import timeline_training_requests

from .selectors import timeline_invitations

PER_PAGE = 50
# A page number from the address bar is bounded before it becomes a LIMIT: no history is this long.
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Source:
    kind: str
    permission: str
    entries: object  # the selector


SOURCES = [
    Source("message", "notifications.view_notification", timeline_messages),
    Source("notify", "notifications.view_notifyoutcome", timeline_notify_outcomes),
    Source("session", "live_sessions.view_statuschange", timeline_status_changes),
    Source("request", "programs.view_trainingrequest", timeline_training_requests),
    Source("request", "live_sessions.view_participationrequest", timeline_date_choices),
    Source("invitation", "learners.view_invitation", timeline_invitations),
]

KIND_WORDS = {
    "message": _("Messages"),
    "notify": _("Notify buttons"),
    "session": _("Sessions"),
    "request": _("Requests and date choices"),
    "invitation": _("Invitations"),
}


def kinds_for(user) -> list[tuple[str, str]]:
    """(kind, words) of the sources this user may read, in the order of SOURCES."""
    kinds = dict.fromkeys(source.kind for source in SOURCES if user.has_perm(source.permission))
    return [(kind, str(KIND_WORDS.get(kind, kind))) for kind in kinds]


@dataclass(frozen=True)
class TimelinePage:
    entries: list
    total: int
    number: int
    num_pages: int

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.number < self.num_pages


def learner_timeline(*, learner, user, filters=None, page=1, per_page=PER_PAGE) -> TimelinePage:
    """One page of the learner's timeline, newest first, of what `user` may view.

    Each source gives its count and its newest `page × per_page` entries, which hold every entry of this
    page: a fixed number of queries (two or three per source) whatever the learner's history. A page past
    the end shows the last one (asked again, once).
    """
    filters = filters or Filters()
    sources = [s for s in SOURCES if user.has_perm(s.permission) and filters.kind in ("", s.kind)]
    number = min(max(1, page), MAX_PAGE)
    total, entries = _merged(sources, learner=learner, filters=filters, limit=number * per_page)
    num_pages = max(1, ceil(total / per_page))
    if number > num_pages:
        number = num_pages
        total, entries = _merged(sources, learner=learner, filters=filters, limit=number * per_page)
    return TimelinePage(
        entries=entries[(number - 1) * per_page : number * per_page],
        total=total,
        number=number,
        num_pages=num_pages,
    )


def _merged(sources, *, learner, filters, limit):
    total, entries = 0, []
    for source in sources:
        count, found = source.entries(learner=learner, filters=filters, limit=limit)
        total += count
        entries += found
    entries.sort(key=lambda entry: entry.sort_key, reverse=True)
    return total, entries
