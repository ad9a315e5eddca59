"""Words for a Notify run's counts, as the admin reports them."""

from ..models import NotifyOutcome

Action = NotifyOutcome.Action
Reason = NotifyOutcome.Reason

ACTION_WORDS = {
    Action.INVITATION: "invitation",
    Action.TRAINING_REMINDER: "training reminder",
    Action.MISSING_TRAINING: "missing training",
    Action.RENEWAL: "renewal",
}
REASON_WORDS = {
    Reason.RATE_LIMITED: "rate limited",
    Reason.UP_TO_DATE: "up to date",
    Reason.NO_CONSENT: "no consent",
    Reason.NO_CONTACT: "no email address",
}


def describe_summary(sent: dict, omitted: dict) -> str:
    """'N sent (by kind), M omitted (by reason)' as the admin reports it."""

    def detail(counts, words):
        parts = [f"{n} {words.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n]
        return f" ({', '.join(parts)})" if parts else ""

    return (
        f"{sum(sent.values())} sent{detail(sent, ACTION_WORDS)}, "
        f"{sum(omitted.values())} omitted{detail(omitted, REASON_WORDS)}"
    )
