"""What an inbound handler is given and what it answers."""

from dataclasses import dataclass, field
from datetime import datetime

from .models import InboundMessage

Kind = InboundMessage.Kind
Result = InboundMessage.Result


@dataclass
class Verdict:
    """What one inbound message did, written on its InboundMessage row."""

    kind: str
    result: str
    outcome: str
    learner_id: int | None = None
    notification_id: int | None = None
    reference: str = ""
    sequence: int | None = None
    stamped_at: datetime | None = None


@dataclass
class CalendarReply:
    """One VEVENT of an iTIP message (RFC 5546) sent back by a calendar client."""

    method: str  # REPLY or COUNTER
    uid: str
    attendee: str  # the ATTENDEE's address, lower case, without mailto:
    partstat: str  # ACCEPTED, DECLINED, TENTATIVE, ... (upper case)
    sequence: int
    stamped_at: datetime | None
    sender: str  # the From address of the email, lower case
    comment: str = ""
    proposed_start: datetime | None = None
    proposed_end: datetime | None = None
    extra: dict = field(default_factory=dict)
