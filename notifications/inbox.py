"""The recipient's inbox of system messages (seed 004): queries and the one state change, reading."""

from dataclasses import dataclass

from django.utils import timezone

from .models import Channel, Notification
from .recipients import GUARDIAN, LEARNER, Reason, Recipient, parse_key


def inbox_owner(key):
    """The Learner, Guardian or user a recipient key ("l12", "g3", "u1") names, or None."""
    recipient = Recipient.for_key(key)
    return recipient.holder if recipient is not None else None


def owner_is_active(owner) -> bool:
    """A deactivated learner (or the guardian of one, or a disabled guardian or user) reads nothing."""
    return Recipient.of_holder(owner).ineligibility() not in (Reason.GUARDIAN_DISABLED, Reason.INACTIVE)


def owner_locale(owner) -> tuple[str, str]:
    """(language, time zone) the owner reads in: a guardian reads like their learner."""
    recipient = Recipient.of_holder(owner)
    return recipient.language, recipient.timezone


def inbox_messages(key, *, limit=200):
    """The recipient's delivered inbox messages, newest first.

    A guardian's copy names the learner too, so a learner's inbox only holds
    rows addressed to the learner themself.
    """
    qs = _own(key, Notification.objects.filter(channel=Channel.INBOX, status=Notification.Status.SENT))
    return list(qs.order_by("-sent_at", "-created_at", "-pk")[:limit])


@dataclass(frozen=True)
class EmailsSent:
    count: int
    # The latest address, masked ("a…@example.org"): the page is read by whoever holds the link.
    address: str


def emails_sent(key) -> EmailsSent:
    """How many emails went to the recipient and where (an empty inbox said "no message" to a learner
    who had received five emails). Two queries."""
    sent = _own(key, Notification.objects.filter(channel=Channel.EMAIL, status=Notification.Status.SENT))
    latest = sent.order_by("-sent_at", "-pk").values_list("to", flat=True).first()
    return EmailsSent(count=sent.count(), address=masked_address(latest or ""))


def masked_address(address) -> str:
    local, at, domain = address.partition("@")
    return f"{local[:1]}…@{domain}" if at and local else ""


def _own(key, qs):
    kind, pk = parse_key(key)
    if kind == GUARDIAN:
        qs = qs.filter(recipient_guardian_id=pk)
    elif kind == LEARNER:
        qs = qs.filter(recipient_learner_id=pk, recipient_guardian__isnull=True, recipient_user__isnull=True)
    else:
        qs = qs.filter(recipient_user_id=pk, recipient_learner__isnull=True, recipient_guardian__isnull=True)
    return qs


def mark_inbox_read(messages) -> int:
    """Mark these messages read now; the instances keep their previous read_at so a page can flag news."""
    unread = [m.pk for m in messages if m.read_at is None]
    if not unread:
        return 0
    return Notification.objects.filter(pk__in=unread, read_at__isnull=True).update(read_at=timezone.now())
