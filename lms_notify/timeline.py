"""What a learner's timeline is made of: entries, the filters every source honours, and the
helper for records that happen twice (a request made, then answered).

Each source is a selector of the app that owns the records, `source(*, learner, filters, limit)` returning
`(how many entries match, the newest `limit` of them)` in a fixed number of queries; learners.timeline
merges them. Nothing here imports an app: every app's selectors may import this.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Entry:
    """One thing the product did, or chose not to do, for the learner, in words."""

    at: datetime
    kind: str  # the source's code: message, notify, session, request, invitation…
    what: str  # the event or the step, in words
    status: str = ""  # in words
    why: str = ""  # why it was sent, or why it was omitted or cancelled, in words
    channel: str = ""  # in words (messages only)
    detail: str = ""  # who it went to, who acted…
    problem: bool = False  # omitted, cancelled, failed, refused: shown so the eye finds it
    links: tuple[Link, ...] = ()
    # Ties at the same moment keep one order from page to page.
    order: tuple = field(default=(), compare=False)

    @property
    def sort_key(self):
        return (self.at, self.kind, self.order)


@dataclass(frozen=True)
class Filters:
    """What the administrator asked to see; a source that cannot honour a filter returns nothing for it."""

    kind: str = ""
    channel: str = ""  # a Channel value: only messages have one
    status: str = ""  # a Notification.Status value: messages, and Notify's omissions for "omitted"
    since: date | None = None
    until: date | None = None  # inclusive

    def bounds(self) -> dict:
        """The date range as aware datetimes in the current time zone: {"gte": …, "lt": …} (either may be absent)."""
        bounds = {}
        if self.since:
            bounds["gte"] = timezone.make_aware(datetime.combine(self.since, time.min))
        if self.until:
            bounds["lt"] = timezone.make_aware(datetime.combine(self.until + timedelta(days=1), time.min))
        return bounds

    def range_lookups(self, name) -> dict:
        """ORM lookups keeping `name` within the date range."""
        return {f"{name}__{op}": value for op, value in self.bounds().items()}

    def either_in_range(self, first: dict, second: dict):
        """A Q keeping records one of whose two moments is in the range (every record when there is no range).

        `first` and `second` are range_lookups of the two moments."""
        if not first:
            return Q()
        return Q(**first) | Q(**second)

    def in_range(self, moment) -> bool:
        bounds = self.bounds()
        return (
            moment is not None
            and moment >= bounds.get("gte", moment)
            and moment < bounds.get("lt", moment + timedelta(1))
        )

    @property
    def names_a_message_state(self) -> bool:
        """A channel or a status: what only messages (and, for "omitted", Notify's outcomes) have."""
        return bool(self.channel or self.status)

    @property
    def narrows_to_messages(self) -> bool:
        """A channel, or a status other than "omitted", names something only messages have."""
        return bool(self.channel) or self.status not in ("", "omitted")


def two_step_entries(rows, *, filters, limit, first, second):
    """Entries of records with two moments (made, then answered): `rows` holds the newest `limit` records
    by their latest moment, which contain the newest `limit` entries; `first(row)` and `second(row)` give
    an entry or None."""
    entries = []
    for row in rows:
        for make in (first, second):
            entry = make(row)
            if entry is not None and filters.in_range(entry.at):
                entries.append(entry)
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries[:limit]


def who(user) -> str:
    """A staff user's name as the timeline shows it ("" for nobody)."""
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def latest_moment(first, second):
    """Order records by their latest moment: the second when there is one (answered), else the first."""
    return Greatest(first, Coalesce(second, first))
