"""When a session takes answers ("A session that is over takes no answers").

Learners' and approvers' answers (accepting or declining an invitation, registering, choosing a date, taking a
freed place, approving) count only for a ready session that is not over. Trainers record attendance and
go-shows only for a ready session, from 15 minutes before it starts (Totara's default) until
settings.ATTENDANCE_WINDOW_DAYS_AFTER days after it ends. Each refusal is a LiveSessionError in the reader's
language, which the link pages and the trainer pages show as it is.
"""

import zoneinfo

from django.utils import formats, timezone
from django.utils.translation import gettext

from .flow import LiveSessionError
from .models import LiveSession

SessionStatus = LiveSession.Status


def _words(session) -> dict:
    return {"title": session.title, "status": str(SessionStatus(session.status).label).lower()}


def _local(moment, session) -> str:
    local = formats.date_format(moment.astimezone(zoneinfo.ZoneInfo(session.timezone)), "DATETIME_FORMAT")
    return f"{local} ({session.timezone})"  # A session's time always names its zone


def require_answerable(session):
    if session.status != SessionStatus.READY:
        raise LiveSessionError(
            gettext("The session “%(title)s” is not open for registration (it is %(status)s).") % _words(session)
        )
    if session.is_over():
        raise LiveSessionError(gettext("The session “%(title)s” is over: it takes no more answers.") % _words(session))


def require_attendance_open(session):
    if session.status != SessionStatus.READY:
        raise LiveSessionError(
            gettext("Attendance is only taken for a session that takes place: “%(title)s” is %(status)s.")
            % _words(session)
        )
    opens, closes = session.attendance_window()
    now = timezone.now()
    if now < opens:
        raise LiveSessionError(
            gettext("Attendance for “%(title)s” opens on %(when)s, 15 minutes before it starts.")
            % {**_words(session), "when": _local(opens, session)}
        )
    if now > closes:
        raise LiveSessionError(
            gettext("Attendance for “%(title)s” closed on %(when)s; an administrator can still correct a status.")
            % {**_words(session), "when": _local(closes, session)}
        )
