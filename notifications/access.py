"""Who is reading a learner page opened from a message (seed 004).

The inbox link is a bearer token: whoever holds it may read one recipient's
own pages (their inbox, the pages of their own answers) until the link
expires, and nothing else. What it grants is kept in the session under its
own key, never as a Django login: a recipient linked to a staff user or a
superuser must not get the admin from an email, and opening a link never
ends the Django login already in the browser.
"""

from django.utils import timezone

from .links import InboxGrant, is_recipient_key
from .recipients import learner_key, user_key

GRANT_SESSION_KEY = "notifications_inbox_grant"


def grant_inbox(request, grant: InboxGrant) -> None:
    """Let this browser read the grant's recipient's pages until the link expires.

    The session key is cycled: a session id planted before the link was opened
    (session fixation) must not carry the grant.
    """
    request.session.cycle_key()
    request.session[GRANT_SESSION_KEY] = {"recipient": grant.recipient_key, "until": grant.expires_at}


def granted_recipient(request) -> str | None:
    """The recipient key this browser was granted by an inbox link still valid, or None."""
    grant = request.session.get(GRANT_SESSION_KEY)
    if not isinstance(grant, dict):
        return None
    key, until = grant.get("recipient"), grant.get("until")
    if not is_recipient_key(key) or type(until) is not int or until < timezone.now().timestamp():
        return None
    return key


def current_recipient_key(request) -> str | None:
    """Whose learner pages this request may show: the inbox link's grant, else the signed-in user's own.

    The link opened in this browser wins: a staff member signed in who opens a learner's inbox link reads that
    inbox, and stays signed in to the admin (a link never signs anyone in or out)."""
    granted = granted_recipient(request)
    if granted is not None:
        return granted
    if request.user.is_authenticated:
        learner = getattr(request.user, "learner", None)
        return learner_key(learner) if learner is not None else user_key(request.user)
    return None
