"""What the live-session admin pages share: status badges, refusals in words, links and safe redirects."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import capfirst

from ..flow import Trigger
from ..models import LiveSession, SessionLearner, session_dates_problem

Status = SessionLearner.Status

# The session page lists this many learners; the full, paginated list is the Session learners page.
LEARNERS_SHOWN = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a service raises when the flow refuses a change: shown as a message, never a 500.
REFUSALS = (ValidationError, ValueError)


def status_badge(status):
    label = Status(status).label if status in Status.values else status
    return format_html('<span class="sl-badge sl-badge-{}">{}</span>', status, label)


def refusal_text(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def trigger_words(trigger):
    """What caused a status change, in words (the flow table's trigger labels)."""
    return Trigger(trigger).label if trigger in Trigger.values else trigger


def fill_rate_text(filled, capacity):
    """Registered + go show + attended over capacity (seed 003 "Fill Rate")."""
    if not capacity:
        return f"{filled} / —"
    return f"{filled}/{capacity} ({filled / capacity:.0%})"


def learners_changelist_url(session, **filters):
    params = {"session__id__exact": session.pk, **{k: v for k, v in filters.items() if v}}
    return reverse("admin:live_sessions_sessionlearner_changelist") + "?" + urlencode(params)


def change_dates_url(session, **query):
    """The "Change the dates" page of a session (seed 002 §IV), proposing `starts_at`/`ends_at` if given."""
    url = reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    return f"{url}?{urlencode(query)}" if query else url


def proposed_instant(params, name):
    """An aware datetime proposed in the query string (ISO 8601), else None: a bad value proposes nothing."""
    try:
        value = datetime.fromisoformat(params.get(name, ""))
    except ValueError:
        return None
    if not timezone.is_aware(value) or session_dates_problem(value, None):
        # Year 1 at +14:00 would overflow when shown in the session's time zone.
        return None
    return value


def date_field_labels():
    """The date fields' labels as the admin history stores them: untranslated, translated when read."""
    with translation.override(None):
        return [str(capfirst(LiveSession._meta.get_field(name).verbose_name)) for name in ("starts_at", "ends_at")]


def status_field_label():
    with translation.override(None):
        return str(capfirst(LiveSession._meta.get_field("status").verbose_name))


def posted_sequence(request):
    """The calendar sequence the confirmation page was shown with, if it sent one."""
    value = request.POST.get("sequence", "")
    try:
        return int(value) if value.isascii() else None
    except ValueError:
        return None


def safe_next(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


SessionStatus = LiveSession.Status
