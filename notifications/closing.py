"""The end of every email: the sign-off with the organisation's name, and a footer saying why the reader gets it.

The HTML layout (`messages/base_email.html`) and the text part say the same
words: `signoff()` and `footer()` are their one source, so an administrator's
edited template gets them too (issue "what people see"). The footer names the
reason of the event's family (seed 001 training, seed 002 invitations,
requests and sessions, seed 003 sessions, seed 004 the inbox) and of the
reader: the learner, their manager or guardian (seeds 001, 004), or a member
of staff (an approver, a site administrator).

Call them inside `translation.override(language)`.
"""

from django.utils.translation import gettext, gettext_noop

from . import registry
from .optout import family_of

# Who reads the message, as the footer tells it.
LEARNER = "learner"
MANAGER = "manager"
GUARDIAN = "guardian"
STAFF = "staff"


def _declaration(event):
    return registry.declaration(event)


# Whom an event's addressee is, as the footer tells it (notifications.registry: `addressee`).
_ADDRESSEE_READER = {"approver": STAFF, "manager": MANAGER}


def reader(event, audience) -> str:
    """Who reads a message of `event` said to be read by `audience`: an event addressed to the approver or to
    the manager is read by them, whoever the caller says reads it."""
    declaration = _declaration(event)
    return _ADDRESSEE_READER.get(declaration.addressee, audience) if declaration is not None else audience


def _family(event) -> str:
    """The family its declaration names (training, session, invitation...): the reason its footer gives."""
    declaration = _declaration(event)
    return declaration.family if declaration is not None else ""


def signoff() -> str:
    return gettext("Kind regards,")


# Each reason as one whole sentence, so that French and Polish can say it in their own word order.
WHY = {
    "": gettext_noop("You receive this email from %(organisation)s because it concerns your training."),
    "inbox": gettext_noop("You receive this email from %(organisation)s because a message is waiting in your inbox."),
    MANAGER: gettext_noop("You receive this email from %(organisation)s because you manage %(learner)s."),
    GUARDIAN: gettext_noop(
        "You receive this email from %(organisation)s because you are a parent or guardian of %(learner)s."
    ),
    "approver": gettext_noop(
        "You receive this email from %(organisation)s because you approve registrations to this session."
    ),
    STAFF: gettext_noop("You receive this email from %(organisation)s because you are a training administrator."),
    "training": gettext_noop("You receive this email from %(organisation)s because this training is assigned to you."),
    "trainings": gettext_noop("You receive this email from %(organisation)s because training is assigned to you."),
    "invitation": gettext_noop(
        "You receive this email from %(organisation)s because you were invited to the training platform."
    ),
    "date_choice": gettext_noop(
        "You receive this email from %(organisation)s because you are invited to choose a date for this training."
    ),
    "session": gettext_noop(
        "You receive this email from %(organisation)s because you are on the list of participants of this session."
    ),
    "training_request": gettext_noop(
        "You receive this email from %(organisation)s because a training request concerns you."
    ),
}


def _reason(event, audience, learner_name) -> str:
    family = _family(event)
    if family == "inbox":
        return family
    if audience in (MANAGER, GUARDIAN) and learner_name:
        return audience
    if audience == STAFF:
        declaration = _declaration(event)
        return "approver" if declaration is not None and declaration.addressee == "approver" else STAFF
    return family


# RFC 8058: only reminders an organisation marks optional carry an unsubscribe link; the learner's
# copy of every other email says why it has none.
MANDATORY = gettext_noop("This email is part of your training: it cannot be unsubscribed.")


def footer(event, organisation, *, audience=LEARNER, learner_name="") -> str:
    """Why this reader gets this email, in one sentence naming the organisation (and, for the learner's
    mandatory emails, a second saying they cannot be unsubscribed)."""
    why = gettext(WHY[_reason(event, audience, learner_name)]) % {
        "organisation": organisation,
        "learner": learner_name,
    }
    if reader(event, audience) == LEARNER and _family(event) != "inbox" and not family_of(event):
        why = f"{why} {gettext(MANDATORY)}"
    return why


def close_text(content, *, organisation, why) -> str:
    """The text part: `content` (see `without_closing`), then the sign-off and the footer."""
    return f"{content}\n\n{signoff()}\n{organisation}\n\n{why}".lstrip()


def without_closing(body, *, organisation, why) -> str:
    """`body` without a trailing footer and sign-off (the organisation's name on the last line, after
    a line ending with a comma or the translated sign-off), so that a body that already ends with them
    (an administrator's template started from words that signed off, or a message rendered once and
    handed back) gets one of each."""
    text = body.rstrip()
    if why and text.endswith(why):
        text = text[: -len(why)].rstrip()
    lines = text.split("\n")
    if len(lines) >= 2 and lines[-1].strip() == organisation.strip() and organisation.strip():
        before = lines[-2].strip()
        if before == signoff().strip() or before.endswith(","):
            text = "\n".join(lines[:-2]).rstrip()
    return text
