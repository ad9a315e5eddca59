"""The `consent` column of a learner file (seed 004: consent "marked on the platform"): yes, no or a date.

A blank cell leaves the learner's consent as it is; "yes" records a consent given at the time of the import,
a date one given that day; "no" withdraws a consent the learner had (and a new learner simply has none).
Words are read in the three languages of the organisation, dates as people type them or Excel stores them.
"""

from datetime import date, datetime, time

from django.utils import formats, timezone
from django.utils.translation import gettext as _

YES = frozenset({"yes", "y", "true", "1", "x", "oui", "tak"})
NO = frozenset({"no", "n", "false", "0", "non", "nie"})
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


class ConsentCellError(ValueError):
    pass


def read_consent(value) -> tuple[bool, datetime, bool] | None:
    """(given, at, dated) from a cell, None for a blank cell; ConsentCellError for anything else or a future
    date. `dated`: the cell named the day (rather than yes/no)."""
    now = timezone.now()
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if text.lower() in YES:
            return True, now, False
        if text.lower() in NO:
            return False, now, False
        day = _parse_day(text)
    if day > timezone.localdate(now):
        raise ConsentCellError(_("a consent date cannot be in the future"))
    # Noon in the organisation's time zone: the same calendar day wherever it is read.
    return True, timezone.make_aware(datetime.combine(day, time(12))), True


def _parse_day(text) -> date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ConsentCellError(_("it is neither yes, no nor a date (e.g. 2026-03-14)"))


def consent_in_words(consent_given_at) -> str:
    """How the preview shows a learner's consent: "yes, 6 Dec 2026" or "no"."""
    if consent_given_at is None:
        return _("no")
    return _("yes, %(date)s") % {"date": formats.date_format(timezone.localtime(consent_given_at), "DATE_FORMAT")}


def changes_consent(current, wanted, *, dated: bool) -> bool:
    """Whether a cell changes what is recorded: "yes" for a learner who already consented changes nothing,
    nor does "no" for one who never did; a date changes it when it names another day."""
    given, at = wanted
    if not given:
        return current is not None
    if current is None:
        return True
    return dated and timezone.localtime(current).date() != timezone.localtime(at).date()
