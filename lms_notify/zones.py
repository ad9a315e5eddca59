"""One time, in the place's zone: a live session is held at a wall-clock time of its own time zone.

Every page and message shows that time with the zone's name ("14:00 Europe/Warsaw"), and a reader whose clock
reads differently gets her own time too ("09:00 (Europe/London) — 04:00 your time (America/New_York)"), in the
active language. The reader's zone is the active one (`timezone.override`, set by the message renderer and the
answer pages). Only Django is imported: the apps' pages and the message tags both use it.
"""

import zoneinfo
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# A date as each language writes it in a sentence (Polish months in the genitive: "14 stycznia 2025").
_DATE_FORMATS = {"pl": "j E Y"}
_DATE_FORMAT = "j F Y"


def zone_named(name) -> zoneinfo.ZoneInfo:
    """The zone of that name; UTC for a name that is not one (never raises: a page still shows)."""
    try:
        return zoneinfo.ZoneInfo(str(name or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def wall_clock(naive: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant a wall-clock time of `zone` names; ValidationError for a time the zone skips (spring
    forward) or repeats (fall back), rather than a silent guess an hour off."""
    # A skipped time (spring forward) or a repeated one (fall back) names two instants, one per fold.
    instants = {naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    if len(instants) != 1:
        raise ValidationError(
            _("%(time)s does not exist or happens twice in %(zone)s (clocks change that day): choose another time."),
            code="ambiguous_timezone",
            params={"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": zone.key},
        )
    return instants.pop()


def _date_format() -> str:
    return _DATE_FORMATS.get((translation.get_language() or "en")[:2], _DATE_FORMAT)


def day(starts_at, zone_name) -> str:
    """The day a session takes place, as its own calendar reads it, in the reader's language ("14 January 2030",
    "14 grudnia 2030"): a subject line has room for the day only, and it must be the session's day."""
    return dateformat.format(starts_at.astimezone(zone_named(zone_name)), _date_format())


def labelled(moment, zone_name) -> str:
    """ "2025-01-14 14:00 Europe/Warsaw": an instant as the place's clock reads it, for staff pages."""
    if moment is None:
        return ""
    zone = zone_named(zone_name)
    try:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
    except OverflowError:  # a stored date at the end of the calendar still shows, as stored
        return f"{moment:%Y-%m-%d %H:%M} UTC"


def _span(starts_at, ends_at, zone, *, with_date=True) -> str:
    start = starts_at.astimezone(zone)
    text = dateformat.format(start, f"{_date_format()}, H:i") if with_date else dateformat.format(start, "H:i")
    if ends_at is not None:
        end = ends_at.astimezone(zone)
        text += " – " + dateformat.format(end, "H:i" if end.date() == start.date() else f"{_date_format()}, H:i")
    return text


def when(starts_at, ends_at, zone_name, *, reader_zone=None) -> str:
    """When a session takes place, in its zone and named, plus the reader's own time when her clock reads
    otherwise (her date too when it is another day there), in the active language:
    "14 January 2025, 09:00 – 12:00 (Europe/London) — 04:00 – 07:00 your time (America/New_York)"."""
    if starts_at is None:
        return ""
    zone = zone_named(zone_name)
    reader = reader_zone or timezone.get_current_timezone()
    text = f"{_span(starts_at, ends_at, zone)} ({zone.key})"
    here, there = starts_at.astimezone(zone), starts_at.astimezone(reader)
    if here.replace(tzinfo=None) == there.replace(tzinfo=None):
        return text
    yours = _span(starts_at, ends_at, reader, with_date=here.date() != there.date())
    return gettext("%(when)s — %(your_when)s your time (%(your_zone)s)") % {
        "when": text,
        "your_when": yours,
        "your_zone": getattr(reader, "key", str(reader)),
    }
