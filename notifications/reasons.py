"""One vocabulary for why a message was omitted or cancelled and why Notify passed a learner by.

Reasons are stored as short codes (the send-time checks and the Notify engine match them by code);
whoever reads them — the messages list and page, a Notify run's outcomes, a learner's timeline —
reads them through `reason_in_words`. A new code gets its words here.
"""

from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from live_sessions.models import SessionLearner

REASON_WORDS = {
    # recipients.Reason: who may not receive anything now.
    "no_consent": _("the learner has not consented to receive messages"),
    "consent_withdrawn": _("the learner withdrew her consent"),
    "unsubscribed": _("the recipient unsubscribed from these reminders"),
    "undeliverable": _("the address is undeliverable (it bounced, or its owner reported our mail as spam)"),
    "no_contact": _("no address for this channel (email or phone number missing)"),
    "inactive": _("the learner is deactivated"),
    "guardian_disabled": _("this guardian no longer receives copies"),
    # The Notify buttons (NotifyOutcome.Reason).
    "rate_limited": _("already notified recently (at most once in 24 hours and 3 times in 14 days)"),
    "up_to_date": _("training up to date: nothing was needed"),
    # Administrators.
    "cancelled_by_admin": _("cancelled by an administrator"),
    # Send-time checks: the reason for the message has gone.
    "not_relevant": _("no longer relevant when it was due to be sent"),
    "invitation_accepted": _("the invitation was accepted in the meantime"),
    "invitation_declined": _("the invitation was declined in the meantime"),
    "invitation_deleted": _("the invitation was deleted"),
    "completed": _("the training was completed in the meantime"),
    "unassigned": _("the learner was unassigned"),
    "assignment_deleted": _("the assignment was deleted"),
    "due_date_moved": _("the due date was moved"),
    "expiry_date_moved": _("the expiry date was moved"),
    "recertified": _("the learner was recertified in the meantime"),
    "course_set_deleted": _("the course set was deleted"),
    "removed_from_session": _("the learner was removed from the session"),
    "session_cancelled": _("the session was cancelled"),
    "feedback_answered": _("the learner has already answered the feedback form"),
    "request_deleted": _("the date choice request was deleted"),
    "request_chosen": _("the learner has already chosen a date"),
    "request_declined": _("the learner declined the date choice"),
    "request_withdrawn": _("the date choice request was withdrawn"),
}

# Codes made of a prefix and a status (live_sessions.sendchecks: "learner_now_registered").
PREFIX_WORDS = {
    "learner_now_": _("the learner's place in the session is now: %(status)s"),
}


def reason_in_words(code) -> str:
    """The words of a reason code ("" for none); an unknown code is shown as readable words, never dropped."""
    if not code:
        return ""
    words = REASON_WORDS.get(code)
    if words is not None:
        return str(words)
    for prefix, template in PREFIX_WORDS.items():
        if code.startswith(prefix):
            return gettext(template) % {"status": _status_words(code[len(prefix) :])}
    return str(capfirst(code.replace("_", " ")))


def _status_words(status):
    try:
        return str(SessionLearner.Status(status).label).lower()
    except ValueError:
        return status.replace("_", " ")
