"""Words for a Notify run's counts, as the admin reports them (preview, message after a run, progress page)."""

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..models import NotifyOutcome

Action = NotifyOutcome.Action
Reason = NotifyOutcome.Reason

ACTION_WORDS = {
    Action.INVITATION: _("invitation"),
    Action.TRAINING_REMINDER: _("training reminder"),
    Action.MISSING_TRAINING: _("missing training"),
    Action.RENEWAL: _("renewal"),
}
REASON_WORDS = {
    Reason.RATE_LIMITED: _("rate limited"),
    Reason.UP_TO_DATE: _("up to date"),
    Reason.NO_CONSENT: _("no consent"),
    Reason.NO_CONTACT: _("no email address"),
}
# What a Notify run assigns, in the words of its preview.
ASSIGNMENT_WORDS = {
    Action.MISSING_TRAINING: _("for missing required training"),
    Action.RENEWAL: _("to renew a certification"),
}


def counts_text(counts, words) -> str:
    """'3 missing training, 1 renewal': the counts by kind, largest first ("" when there are none)."""
    return ", ".join(f"{n} {words.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n)


def _detail(counts, words):
    text = counts_text(counts, words)
    return f" ({text})" if text else ""


def describe_summary(sent: dict, omitted: dict, assigned: dict | None = None) -> str:
    """'N queued (by kind), M omitted (by reason), K assignments created (by kind)' as the admin reports it.

    "Queued", not "sent": a Notify run puts its messages in the outbox; the worker sends them after."""
    sent_total, omitted_total = sum(sent.values()), sum(omitted.values())
    assigned_total = sum((assigned or {}).values())
    text = gettext("%(sent)d queued%(sent_detail)s, %(omitted)d omitted%(omitted_detail)s") % {
        "sent": sent_total,
        "sent_detail": _detail(sent, ACTION_WORDS),
        "omitted": omitted_total,
        "omitted_detail": _detail(omitted, REASON_WORDS),
    }
    if assigned_total:
        text += ", " + ngettext(
            "%(n)d assignment created%(detail)s",
            "%(n)d assignments created%(detail)s",
            assigned_total,
        ) % {"n": assigned_total, "detail": _detail(assigned, ASSIGNMENT_WORDS)}
    return text


def describe_run(summary: dict | None) -> str:
    """describe_summary of a run's stored summary (runs recorded before "assigned" existed have none)."""
    summary = summary or {}
    return describe_summary(summary.get("sent", {}), summary.get("omitted", {}), summary.get("assigned", {}))
