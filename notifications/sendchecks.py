"""Send-time checks of the notifications app's own events (discovered at start-up like every
app's `sendchecks` module; the registry itself is notifications.outbox.sendchecks)."""

from .models import Event, Notification
from .outbox.sendchecks import register_send_check

__all__ = ["register_send_check", "inbox_message_still_unread"]


@register_send_check(Event.INBOX_NEW_MESSAGE)
def inbox_message_still_unread(notifications) -> dict[int, str]:
    """No need to email about a system message the recipient has already read (seed 004)."""
    wanted = {row.pk: (row.context or {}).get("inbox_message") for row in notifications}
    ids = {int(pk) for pk in wanted.values() if pk is not None}
    if not ids:
        return {}
    read = set(Notification.objects.filter(pk__in=ids, read_at__isnull=False).values_list("pk", flat=True))
    return {pk: "already_read" for pk, inbox_pk in wanted.items() if inbox_pk is not None and int(inbox_pk) in read}
