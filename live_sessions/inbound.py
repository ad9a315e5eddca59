"""Calendar replies to live-session invitations (iTIP RFC 5546), discovered by notifications.

A REPLY is believed only when everything agrees: its UID is one this project made for that session and
learner (the keyed part of `ical.event_uid` cannot be guessed), its ATTENDEE is that learner's address, and
the email comes from that address. It then answers the invitation exactly as the emailed link does
(`services.respond`: a full session puts her on the waiting list or refuses). A COUNTER (a proposed new
time) is recorded for the administrator, never applied.
"""

from django.utils import formats

from notifications.models import InboundMessage
from notifications.services import CalendarReply, Origin, Verdict, register_calendar_reply_handler, send_all

from . import flow, ical, messages, services
from .flow import LiveSessionError
from .models import LiveSession, SessionLearner

Kind, Result = InboundMessage.Kind, InboundMessage.Result
ANSWERS = {"ACCEPTED": True, "DECLINED": False}


def _when(moment):
    return formats.date_format(moment, "DATETIME_FORMAT") if moment else "?"


@register_calendar_reply_handler
def answer_invitation(reply: CalendarReply) -> Verdict | None:
    ids = ical.parse_event_uid(reply.uid)
    if ids is None:
        return None  # not one of ours, or a guessed UID: notifications records it as unknown
    session_id, learner_id = ids
    sl = SessionLearner.objects.select_related("learner", "session").filter(
        session_id=session_id, learner_id=learner_id
    )
    sl = sl.first()
    if sl is None:
        return Verdict(
            Kind.CALENDAR_REPLY, Result.IGNORED, "The learner is no longer in this session: nothing changed."
        )
    learner, session = sl.learner, sl.session

    def verdict(result, outcome):
        return Verdict(
            Kind.CALENDAR_REPLY,
            result,
            f"{learner.full_name}, “{session.title}”: {outcome}",
            learner_id=learner.pk,
            reference=f"session_learner:{sl.pk}",
            sequence=reply.sequence,
            stamped_at=reply.stamped_at,
        )

    own = (learner.email or "").strip().lower()
    if reply.attendee != own:
        return verdict(Result.REFUSED, f"the reply names {reply.attendee}, not the invited learner: nothing changed.")
    if reply.sender != own:
        return verdict(Result.REFUSED, f"sent by {reply.sender or 'nobody'}, not by the learner: nothing changed.")
    if reply.method == "COUNTER":
        return verdict(
            Result.FOR_REVIEW,
            f"proposes another time, {_when(reply.proposed_start)} – {_when(reply.proposed_end)}"
            + (f" (“{reply.comment}”)" if reply.comment else "")
            + ": not applied; answer the learner yourself.",
        )
    accept = ANSWERS.get(reply.partstat)
    if accept is None:
        return verdict(
            Result.IGNORED, f"answered {reply.partstat or 'nothing'}: only accept or decline change her status."
        )
    if _newer_answer_applied(sl, reply):
        return verdict(Result.IGNORED, "an answer to a newer version of the invitation is already recorded.")
    if session.status != LiveSession.Status.READY:
        return verdict(Result.REFUSED, f"the session is {session.get_status_display().lower()}: nothing changed.")
    try:
        services.respond(sl, accept=accept)
    except LiveSessionError as refusal:
        return verdict(Result.REFUSED, " ".join(refusal.messages))
    # Her calendar client shows nothing back: an email tells her what the answer did (the rules may change it).
    send_all([messages.reply_recorded_message(session, sl, sequence=reply.sequence)], origin=Origin.ANSWER)
    return verdict(Result.APPLIED, f"{'accepted' if accept else 'declined'}: now {flow.status_label(sl.status)}.")


def _newer_answer_applied(sl, reply) -> bool:
    """RFC 5546 §2.1.5: a reply to an older SEQUENCE (or an older DTSTAMP of the same one) never overwrites
    the answer already recorded from a newer one."""
    last = (
        InboundMessage.objects.filter(reference=f"session_learner:{sl.pk}", result=Result.APPLIED)
        .exclude(sequence=None)
        .order_by("-sequence", "-stamped_at")
        .values_list("sequence", "stamped_at")
        .first()
    )
    if last is None:
        return False
    sequence, stamped_at = last
    if reply.sequence != sequence:
        return reply.sequence < sequence
    return bool(stamped_at and reply.stamped_at and reply.stamped_at < stamped_at)
