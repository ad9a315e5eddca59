"""One-click unsubscribe (RFC 8058): optional event families a recipient may leave, and back.

Only reminders are optional by default (UNSUBSCRIBABLE_EVENTS); a convocation, an invitation to a session, a
change of a session or anything about an obligation is never unsubscribable. Each optional email carries
`List-Unsubscribe` (a signed URL naming exactly one recipient and one family) and `List-Unsubscribe-Post:
List-Unsubscribe=One-Click`; a POST there opts out without a login; the recipient's inbox page lists what
she left and lets her come back. Messages of a family she left are omitted with reason `unsubscribed`.
Checks are set-based: one query per batch, and none when the batch holds no optional event.
"""

from django.conf import settings
from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lms_notify.bulk import is_postgresql

from .models import Channel, Unsubscription

UNSUBSCRIBED = "unsubscribed"
_SALT = "notifications.unsubscribe"

# The families an organisation may let recipients leave, and the reminders in each.
FAMILIES = {
    "training_reminders": ("elearning.reminder", "notify.training_reminder"),
    "invitation_reminders": ("invitation.reminder",),
    "date_choice_reminders": ("participation.reminder",),
    "session_reminders": ("session.attendance_reminder", "session.feedback_form_reminder"),
}
LABELS = {
    "training_reminders": _("reminders about your training"),
    "invitation_reminders": _("reminders of your invitation to the training platform"),
    "date_choice_reminders": _("reminders to choose a date"),
    "session_reminders": _("reminders about your sessions"),
}
_FAMILY_OF = {event: family for family, events in FAMILIES.items() for event in events}


def family_of(event) -> str:
    """The optional family of `event`, or "" when the event is mandatory (or the organisation keeps it so)."""
    family = _FAMILY_OF.get(event, "")
    if family and event in getattr(settings, "UNSUBSCRIBABLE_EVENTS", _FAMILY_OF):
        return family
    return ""


def label(family):
    """The family in words, lazily: translated when the page renders, in its reader's language."""
    return LABELS.get(family, family)


def make_token(recipient_key, family) -> str:
    # No expiry: an unsubscribe link must keep working as long as the email lives in a mailbox (RFC 8058).
    return signing.dumps([recipient_key, family], salt=_SALT, compress=False)


def read_token(token) -> tuple[str, str] | None:
    """(recipient key, family) of a genuine token, else None (tampered, or a family no longer optional)."""
    try:
        key, family = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(key, str) or family not in FAMILIES:
        return None
    return key, family


def unsubscribe_url(recipient_key, family) -> str:
    path = reverse("notifications:unsubscribe", args=[make_token(recipient_key, family)])
    return f"{settings.SITE_URL}{path}"


def headers_for(event, recipient_key) -> dict:
    """The RFC 8058 headers of an email of `event` to `recipient_key` ({} for a mandatory event)."""
    family = family_of(event)
    if not family or not recipient_key:
        return {}
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(recipient_key, family)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe(recipient_key, family) -> None:
    Unsubscription.objects.get_or_create(recipient_key=recipient_key, family=family)


def resubscribe(recipient_key, family) -> None:
    Unsubscription.objects.filter(recipient_key=recipient_key, family=family).delete()


def families_left(recipient_key) -> list[str]:
    return list(
        Unsubscription.objects.filter(recipient_key=recipient_key).order_by("family").values_list("family", flat=True)
    )


def unsubscribed_among(pairs) -> set[tuple[str, str]]:
    """The (recipient key, family) of `pairs` that opted out: one query, none without an optional event."""
    wanted = {(key, family) for key, family in pairs if family and key}
    if not wanted:
        return set()
    keys = sorted({key for key, _ in wanted})
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT recipient_key, family FROM {Unsubscription._meta.db_table} WHERE recipient_key = ANY(%s)",
                [keys],
            )
            found = set(cursor.fetchall())
    else:
        found = set(Unsubscription.objects.filter(recipient_key__in=keys).values_list("recipient_key", "family"))
    return found & wanted


def applies_to(channel) -> bool:
    # The inbox is the recipient's own page, read when she chooses: leaving a family stops emails and SMS.
    return channel != Channel.INBOX
