"""The recipient's inbox of system messages (seed 004): queries and the one state change, reading."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from learners.models import Guardian, Learner

from .links import is_recipient_key
from .models import Channel, Notification


def inbox_owner(key):
    """The Learner, Guardian or user a recipient key ("l12", "g3", "u1") names, or None."""
    if not is_recipient_key(key):
        return None
    model = {"l": Learner, "g": Guardian, "u": get_user_model()}[key[0]]
    queryset = model._default_manager.all()
    if model is Guardian:
        queryset = queryset.select_related("learner")  # owner_is_active reads it: no extra query
    return queryset.filter(pk=int(key[1:])).first()


def owner_is_active(owner) -> bool:
    """A deactivated learner (or the guardian of one, or a disabled guardian or user) reads nothing."""
    if isinstance(owner, Guardian):
        return owner.is_enabled and owner.learner.is_active
    return bool(owner.is_active)


def owner_locale(owner) -> tuple[str, str]:
    """(language, time zone) the owner reads in: a guardian reads like their learner."""
    learner = owner if isinstance(owner, Learner) else getattr(owner, "learner", None)
    if learner is None:
        return "en", "UTC"
    return learner.language, learner.timezone


def inbox_messages(key, *, limit=200):
    """The recipient's delivered inbox messages, newest first.

    A guardian's copy names the learner too, so a learner's inbox only holds
    rows addressed to the learner themself.
    """
    qs = Notification.objects.filter(channel=Channel.INBOX, status=Notification.Status.SENT)
    pk = int(key[1:])
    if key[0] == "g":
        qs = qs.filter(recipient_guardian_id=pk)
    elif key[0] == "l":
        qs = qs.filter(recipient_learner_id=pk, recipient_guardian__isnull=True, recipient_user__isnull=True)
    else:
        qs = qs.filter(recipient_user_id=pk, recipient_learner__isnull=True, recipient_guardian__isnull=True)
    return list(qs.order_by("-sent_at", "-created_at", "-pk")[:limit])


def mark_inbox_read(messages) -> int:
    """Mark these messages read now; the instances keep their previous read_at so a page can flag news."""
    unread = [m.pk for m in messages if m.read_at is None]
    if not unread:
        return 0
    return Notification.objects.filter(pk__in=unread, read_at__isnull=True).update(read_at=timezone.now())
