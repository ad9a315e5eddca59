"""The .xlsx export of session learners (seed 003 "Export the list of learners"), written with openpyxl."""

import zoneinfo
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from lms_notify.spreadsheets import append_row

from .models import SessionLearner
from .selectors import last_message_words, last_messages, status_history

Status = SessionLearner.Status


def _local(moment, tz):
    """Excel has no time zones: write the time as the session's local wall-clock time."""
    if moment is None:
        return None
    return timezone.localtime(moment, tz).replace(tzinfo=None)


def learners_workbook(session, session_learners) -> bytes:
    tz = zoneinfo.ZoneInfo(session.timezone)
    ids = [sl.pk if isinstance(sl, SessionLearner) else int(sl) for sl in session_learners]
    rows = list(
        SessionLearner.objects.filter(session=session, pk__in=ids)
        .select_related("learner")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    history = status_history(rows)
    last = last_messages(session, rows)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Learners")[:31]
    headers = [
        _("Last name"),
        _("First name"),
        _("Email"),
        _("Phone"),
        _("Language"),
        _("Status"),
        _("Attendance"),
        _("Added"),
        _("Invited"),
        _("Registered"),
        _("Cancelled"),
        _("Status changed"),
        _("Attendance confirmed"),
        _("Feedback answered"),
        _("History"),
        _("Last message"),
    ]
    append_row(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    attendance_words = {
        Status.ATTENDED: _("Attended"),
        Status.GO_SHOW: _("Go show (attended)"),
        Status.ABSENT: _("Absent"),
    }
    for sl in rows:
        changes = history.get(sl.pk, [])
        last_at = {}
        for change in changes:
            last_at[change.to_status] = change.at
        learner = sl.learner
        append_row(
            sheet,
            [
                learner.last_name,
                learner.first_name,
                learner.email,
                learner.phone,
                learner.language,
                str(sl.get_status_display()),
                str(attendance_words.get(sl.status, "")),
                _local(sl.created_at, tz),
                _local(last_at.get(Status.INVITED), tz),
                _local(last_at.get(Status.REGISTERED), tz),
                _local(last_at.get(Status.CANCELLED), tz),
                _local(sl.status_changed_at, tz),
                _local(sl.attendance_confirmed_at, tz),
                _local(sl.feedback_answered_at, tz),
                "; ".join(f"{_local(c.at, tz):%Y-%m-%d %H:%M} {Status(c.to_status).label}" for c in changes),
                str(last_message_words(last.get(sl.pk))),
            ],
        )
    widths = [18, 18, 32, 16, 9, 18, 18, 17, 17, 17, 17, 17, 20, 18, 60, 50]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for column in range(8, 15):
        for cell in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell[0].number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
