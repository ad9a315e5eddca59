"""The one way the admin writes a moment: "6 Dec 2026, 13:06" in the reader's time zone and language
(the rule preview once read ISO/UTC while the rest of the admin read like this)."""

from django.utils import formats, timezone


def moment(value) -> str:
    """A datetime as the admin shows it everywhere; "" for None."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
