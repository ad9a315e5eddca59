"""The import's preview, page by page (an import has limits: "page the preview").

The whole file is checked once, when it is uploaded; what that found (the totals, the number of rows and
the numbers of the bad ones) is kept with the upload. Each later page reads the kept file again within the
same limits and checks and diffs only its own IMPORT_PREVIEW_ROWS rows, against the whole file's emails
and managers, so a page of a 20,000-row file costs a fraction of the first preview. A file with bad lines
is paged through its bad lines (nothing can be imported); a good file through its rows.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from . import uploads
from .import_files import ImportFileRefused
from .imports import preview_rows


@dataclass
class PreviewPage:
    """One page of the preview: the rows (or bad lines) shown, where they sit in the file, and its totals."""

    number: int
    count: int
    totals: dict
    rows_in_file: int
    bad_in_file: int
    first: int  # the first and last shown, counted among the rows (or the bad lines) of the file
    last: int
    rows: list = field(default_factory=list)
    bad_rows: list = field(default_factory=list)
    key: str = ""
    notice: str = ""
    file_name: str = ""
    file_format: str = ""

    @property
    def previous(self):
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self):
        return self.number + 1 if self.number < self.count else None


def summarise(result) -> dict:
    """What the whole file's preview found, kept with the upload for its later pages."""
    return {
        "totals": {"new": result.totals["new"], "update": result.totals["update"]},
        "rows": result.total_rows,
        "bad": [row.number for row in result.invalid_rows],
    }


def page_size() -> int:
    return max(settings.IMPORT_PREVIEW_ROWS, 1)


def _page_count(items: int) -> int:
    return max(-(-items // page_size()), 1)


def is_paged(summary) -> bool:
    """Whether the preview needs more than one page (and so the upload is kept to show the others)."""
    return _page_count(len(summary["bad"]) or summary["rows"]) > 1


def page_number(text, *, count: int):
    """The page asked for as a number within 1..count, and a notice in words when it was not one of them."""
    try:
        asked = int(text)
    except (TypeError, ValueError):
        # int() refuses "²", "", "1.5" and numbers of thousands of digits alike.
        return 1, _("“%(page)s” is not a page number: the first page is shown.") % {"page": str(text)[:20]}
    if asked < 1:
        return 1, _("Pages start at 1: the first page is shown.")
    if asked > count:
        return count, _("This preview has %(count)s pages: the last one is shown.") % {"count": number_format(count)}
    return asked, ""


def _page(summary, *, number, key, notice=""):
    bad = summary["bad"]
    items = len(bad) or summary["rows"]
    size = page_size()
    first = (number - 1) * size + 1
    return PreviewPage(
        number=number,
        count=_page_count(items),
        totals=summary["totals"],
        rows_in_file=summary["rows"],
        bad_in_file=len(bad),
        first=first,
        last=min(number * size, items),
        key=key,
        notice=notice,
    )


def first_page(result, *, summary, key=""):
    """Page 1, cut from the whole file's preview just made."""
    page = _page(summary, number=1, key=key)
    page.rows = result.valid_rows()[: page_size()]
    page.bad_rows = result.invalid_rows[: page_size()]
    return page


def preview_page(*, key, user, page) -> tuple:
    """Page `page` (as the browser sent it) of the preview of this user's upload `key`.

    Returns the page and the Result of its rows; ImportFileRefused in words for a key that is not one of
    this user's uploads, an upload expired or already imported, or a file past the limits.
    """
    upload = uploads.find_upload(key=key, user=user)
    summary = upload.preview
    if not summary:
        raise ImportFileRefused(_("This upload is unknown or has expired: upload the file again."))
    number, notice = page_number(page, count=_page(summary, number=1, key=key).count)
    shown = _page(summary, number=number, key=key, notice=notice)
    shown.file_name, shown.file_format = upload.file_name, upload.file_format
    if summary["bad"]:
        row_numbers = summary["bad"][shown.first - 1 : shown.last]
    else:
        row_numbers = range(shown.first, shown.last + 1)
    result = preview_rows(uploads.read_upload(upload), row_numbers=row_numbers, actor=user)
    shown.rows = result.valid_rows()
    shown.bad_rows = result.invalid_rows
    return shown, result
