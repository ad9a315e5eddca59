"""What needs attention, for the top of the admin home page.

Each row is a number (or a state) in words, the filtered list it links to, and whether it needs someone
now; a row is shown only to a user who may view what it counts. Every figure comes from its app's
selectors in a fixed number of queries, whatever the number of learners or messages. A new row (bounced
addresses) is one more block in `attention_rows`.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learners.selectors import without_consent_count
from live_sessions.selectors import sessions_figures
from notifications.services import messages_needing_attention, scan_health

from .dates import moment

# The trigger scan is late when it has not succeeded for this many intervals (outbox_status's default).
SCAN_LATE_AFTER_INTERVALS = 3


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    url: str = ""
    urgent: bool = False
    # An element id for the figure, for the rows other pages and tests point at.
    key: str = ""


def attention_rows(user, *, now=None) -> list[Row]:
    now = now or timezone.now()
    rows = []
    if user.has_perm("notifications.view_notification"):
        messages = reverse("admin:notifications_notification_changelist")
        counts = messages_needing_attention()
        rows.append(
            Row(
                _("Messages awaiting confirmation"),
                str(counts["awaiting_confirmation"]),
                f"{messages}?status__exact=awaiting_confirmation",
                urgent=counts["awaiting_confirmation"] > 0,
                key="awaiting-confirmation-count",
            )
        )
        rows.append(
            Row(_("Failed messages"), str(counts["failed"]), f"{messages}?status__exact=failed", counts["failed"] > 0)
        )
        rows.append(_scan_row(scan_health(now=now), user))
    if user.has_perm("live_sessions.view_livesession"):
        sessions = reverse("admin:live_sessions_livesession_changelist")
        figures = sessions_figures(now=now)
        for period, label in (("today", _("Today's sessions")), ("week", _("This week's sessions"))):
            rows.append(Row(label, _sessions_words(figures[period]), f"{sessions}?when={period}"))
    if user.has_perm("learners.view_learner"):
        learners = reverse("admin:learners_learner_changelist")
        count = without_consent_count()
        rows.append(
            Row(
                _("Active learners without consent (nothing reaches them)"),
                str(count),
                f"{learners}?consent=no&is_active__exact=1",
                urgent=count > 0,
            )
        )
    return rows


def _scan_row(health, user):
    url = reverse("admin:django_q_schedule_changelist") if user.has_perm("django_q.view_schedule") else ""
    late = health.silent_for > SCAN_LATE_AFTER_INTERVALS * health.interval
    if health.never_ran:
        value = _("never ran: is the worker (qcluster) running?")
    else:
        when = moment(health.last_run_at)
        value = _("last run %(when)s") % {"when": when}
        if late:
            minutes = int(health.silent_for / timedelta(minutes=1))
            value += " — " + ngettext(
                "silent for %(n)d minute: is the worker running?",
                "silent for %(n)d minutes: is the worker running?",
                minutes,
            ) % {"n": minutes}
    if health.last_failure:
        value += " — " + _("the last scan failed in part")
    return Row(_("Date-based triggers"), value, url, urgent=late or health.never_ran or bool(health.last_failure))


def _sessions_words(figure):
    if not figure["sessions"]:
        return _("none")
    text = ngettext("%(n)d session", "%(n)d sessions", figure["sessions"]) % {"n": figure["sessions"]}
    text += ", " + _("%(filled)d of %(capacity)d places taken (%(rate)s%%)") % {
        "filled": figure["filled"],
        "capacity": figure["capacity"],
        "rate": figure["fill_rate"] if figure["fill_rate"] is not None else "—",
    }
    text += ", " + ngettext("%(n)d on a waiting list", "%(n)d on waiting lists", figure["waiting"]) % {
        "n": figure["waiting"]
    }
    return text
