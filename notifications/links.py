"""Signed links in messages: one action for one recipient on one object, and the inbox link.

An action link carries a token that binds a purpose (e.g. "invitation"), an
object pk, a recipient key ("l<learner pk>", "g<guardian pk>", "u<user pk>")
and an expiry timestamp, signed with SECRET_KEY (django.core.signing). The
token is the whole authority of the link: nothing else in the URL can be
changed without breaking the signature.

Features plug in their own purposes with `register_action(purpose, handler)`.
Modules named `actions` in installed apps are imported the first time a link
is opened (like admin.py for the admin), so a feature registers its handler
in `<app>/actions.py` without touching this file.
"""

import copy
import functools
import logging
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from .recipients import MAX_PK, Recipient, key_of, parse_key
from .signer import PreparedSigner

logger = logging.getLogger(__name__)

ACTION_SALT = "notifications.links.action"
INBOX_SALT = "notifications.links.inbox"
# No link we issue lives longer: a validly signed token claiming more is not one of ours to honour
# (and a huge expiry must not overflow a datetime into a 500).
MAX_ACTION_LINK_DAYS = 366
# A database id fits a signed 64-bit integer; anything larger cannot name a row.
_MAX_PK = MAX_PK


class LinkError(Exception):
    """A link that cannot be honoured; `status` is the HTTP status of the error page."""

    status = 400

    def __init__(self, message, *, recipient_key=None):
        super().__init__(message)
        # Translated when shown (lazy), in the language of the page that shows it.
        self.message = message
        # Set when the link is genuine (signed by us) though unusable: the page can speak the recipient's language.
        self.recipient_key = recipient_key


class TamperedLink(LinkError):
    status = 400


class ExpiredLink(LinkError):
    status = 410


class UnknownObject(LinkError):
    status = 404


class InvalidDecision(LinkError):
    status = 400


class ActionHandler:
    """What one purpose of action link does; subclass it and register an instance.

    GET shows `question(obj)` and a form with `decisions(obj)`; POST with a
    valid `decision` calls `perform`, which calls one service. When
    `current_answer(obj)` is not None the recipient has already answered and
    the page only reports that answer, so a replayed POST changes nothing.
    """

    title = _("Your answer")
    model = None

    def load(self, pk):
        """The object, or raise ObjectDoesNotExist (the page then says it no longer exists)."""
        return self.model._default_manager.get(pk=pk)

    def belongs_to(self, obj, recipient_key) -> bool:
        """Whether the link's recipient may act on `obj`; a mismatch is treated as tampering."""
        return True

    def question(self, obj) -> str:
        return ""

    def decisions(self, obj) -> list[tuple[str, str]]:
        return [("accept", _("Accept")), ("decline", _("Decline"))]

    def current_answer(self, obj) -> str | None:
        return None

    def locale(self, obj, recipient_key) -> tuple[str | None, str | None]:
        """(language, time zone) the page is shown in; None keeps the request's own."""
        return None, None

    def next_step(self, obj) -> dict | None:
        """What the recipient does after answering, for the answer page: {"text", and optionally "items" (each
        with "title" and "due"), "empty" (when there are no items), "url" and "label" for one button}.
        None: the page says the general words."""
        return None

    def perform(self, obj, decision, *, recipient_key) -> str:
        """Act on the decision (one service call); returns the confirmation shown to the recipient."""
        raise NotImplementedError


_REGISTRY: dict[str, ActionHandler] = {}
_discovered = False


def register_action(purpose, handler):
    """Register the handler (class or instance) that serves action links of `purpose`."""
    _REGISTRY[purpose] = handler() if isinstance(handler, type) else handler
    return handler


def get_handler(purpose) -> ActionHandler | None:
    global _discovered
    if not _discovered:
        autodiscover_modules("actions")
        _discovered = True
    return _REGISTRY.get(purpose)


def recipient_key(recipient) -> str:
    """The key naming a recipient in links: accepts a Recipient, Learner, Guardian, user or a key."""
    return key_of(recipient)


def _absolute(path):
    return f"{settings.SITE_URL}{path}"


def _link_expiry(expires_in: timedelta) -> int:
    # A link for a date further ahead (a session next year) lives as long as links may, rather than being born
    # invalid: the recipient answers well before, or gets a fresh link with the next message.
    expires_in = min(expires_in, timedelta(days=max(MAX_ACTION_LINK_DAYS, settings.ACTION_LINK_DAYS)))
    return int((timezone.now() + expires_in).timestamp())


def _object_pk(obj):
    pk = obj if isinstance(obj, int | str) else obj.pk
    if isinstance(pk, str) and pk.isascii() and pk.isdigit():
        pk = int(pk)
    return pk


def make_action_token(*, purpose, obj, recipient, expires_in: timedelta) -> str:
    payload = {"p": purpose, "o": _object_pk(obj), "r": recipient_key(recipient), "e": _link_expiry(expires_in)}
    return signing.dumps(payload, salt=ACTION_SALT, compress=True)


_TOKEN_SLOT = "token-slot"


def action_url_maker(*, purpose, expires_in: timedelta | None = None):
    """A function (obj, recipient) -> make_action_url(purpose=purpose, obj=obj, recipient=recipient, ...).

    For many links at once (seed 000: 10,000 invitations in one Notify run): the signer, the expiry and
    the address around the token are worked out once, not once per link. Each token is signed on its
    own, exactly as make_action_token signs it."""
    if expires_in is None:
        expires_in = timedelta(days=settings.ACTION_LINK_DAYS)
    expires_at = _link_expiry(expires_in)
    signer = PreparedSigner(key=settings.SECRET_KEY, salt=ACTION_SALT)  # what signing.dumps builds for each call
    before, _, after = _absolute(reverse("notifications:action", kwargs={"token": _TOKEN_SLOT})).rpartition(_TOKEN_SLOT)

    def make(obj, recipient) -> str:
        payload = {"p": purpose, "o": _object_pk(obj), "r": recipient_key(recipient), "e": expires_at}
        return f"{before}{signer.sign_object(payload, compress=True)}{after}"

    return make


def make_action_url(*, purpose, obj, recipient, expires_in: timedelta | None = None) -> str:
    """Absolute link under SITE_URL for one recipient's answer about one object."""
    return action_url_maker(purpose=purpose, expires_in=expires_in)(obj, recipient)


@dataclass(frozen=True)
class ActionLink:
    purpose: str
    object_pk: object
    recipient_key: str
    expires_at: datetime


def is_recipient_key(key) -> bool:
    """Whether `key` is a well-formed recipient key ("l12", "g3", "u1"; notifications.recipients)."""
    return parse_key(key) is not None


def _is_pk(value) -> bool:
    return type(value) is int and 0 < value <= _MAX_PK  # bool is an int subclass: refused too


def _loads(token, salt, *, max_days):
    try:
        payload = signing.loads(token, salt=salt)
    except signing.BadSignature as exc:
        raise TamperedLink(_("This link is not valid: it may have been altered or copied incompletely.")) from exc
    except (ValueError, zlib.error) as exc:  # signed but unreadable, e.g. a number of 5,000 digits
        raise TamperedLink(_("This link is not valid.")) from exc
    if not isinstance(payload, dict):
        raise TamperedLink(_("This link is not valid."))
    expires = payload.get("e")
    if type(expires) is not int:
        raise TamperedLink(_("This link is not valid."))
    now = timezone.now().timestamp()
    if expires > now + max_days * 86400:
        raise TamperedLink(_("This link is not valid."))
    if now > expires:
        raise ExpiredLink(
            _("This link has expired. Ask your training administrator for a new message with a fresh link."),
            recipient_key=payload.get("r") if is_recipient_key(payload.get("r")) else None,
        )
    return payload


def read_action_token(token) -> ActionLink:
    """Verify a token; raises TamperedLink (400) or ExpiredLink (410)."""
    payload = _loads(token, ACTION_SALT, max_days=max(MAX_ACTION_LINK_DAYS, settings.ACTION_LINK_DAYS))
    purpose, pk, key = payload.get("p"), payload.get("o"), payload.get("r")
    if not (isinstance(purpose, str) and purpose and _is_pk(pk) and is_recipient_key(key)):
        raise TamperedLink(_("This link is not valid."))
    expires_at = datetime.fromtimestamp(payload["e"], tz=UTC)
    return ActionLink(purpose=payload["p"], object_pk=payload["o"], recipient_key=payload["r"], expires_at=expires_at)


def resolve_action(token):
    """The (link, handler, object) of a token, or a LinkError saying why not."""
    link = read_action_token(token)
    handler = get_handler(link.purpose)
    if handler is None:
        raise TamperedLink(_("This link is not valid: it does not lead to any action."))
    try:
        obj = handler.load(link.object_pk)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise UnknownObject(_("What this link refers to no longer exists."), recipient_key=link.recipient_key) from exc
    if not handler.belongs_to(obj, link.recipient_key):
        raise TamperedLink(_("This link is not valid for this recipient."))
    return link, handler, obj


@functools.cache
def _signed_prefixes(site_url) -> tuple[tuple[str, str], ...]:
    """(address before the token, salt) of the action and inbox links under `site_url`."""
    views = (("notifications:action", ACTION_SALT), ("notifications:inbox_open", INBOX_SALT))
    return tuple((site_url + reverse(view, kwargs={"token": "-"}).removesuffix("-/"), salt) for view, salt in views)


def signed_for(url) -> str | None:
    """Whom a link of ours was made for: the recipient key of an action or inbox link ("" when the link
    cannot be read), None for any other address. Expired links still name their recipient."""
    if not isinstance(url, str) or not url.startswith(settings.SITE_URL):
        return None
    for prefix, salt in _signed_prefixes(settings.SITE_URL):
        if url.startswith(prefix):
            try:
                payload = signing.loads(url[len(prefix) :].split("/", 1)[0], salt=salt)
            except (signing.BadSignature, ValueError, zlib.error):
                return ""
            key = payload.get("r") if isinstance(payload, dict) else None
            return key if is_recipient_key(key) else ""
    return None


def without_links_of_others(context: dict, recipient_key) -> dict:
    """`context` with every link of ours made for someone else than `recipient_key` emptied (top-level values).

    A link is the whole authority of whoever opens it: a learner's answer or inbox link copied into their
    manager's or guardian's email (seeds 001, 004: rules expand one context to several readers) would let
    that reader act as the learner. The templates then show no button rather than someone else's."""
    foreign = [
        name
        for name, value in context.items()
        if isinstance(value, str) and signed_for(value) not in (None, recipient_key)
    ]
    if not foreign:
        return context
    logger.warning("Links made for someone else removed from a message to %s: %s", recipient_key, ", ".join(foreign))
    return {**context, **dict.fromkeys(foreign, "")}


# What stands for a token wherever staff read a message: the address stays recognisable, the authority is gone.
MASKED_TOKEN = "…"


@functools.cache
def _signed_link_pattern():
    # The paths of our signed links, whatever host precedes them (a message outlives a change of SITE_URL);
    # a token is what django.core.signing writes: url-safe base64, ":" between parts, "." when compressed.
    paths = "|".join(
        re.escape(reverse(view, kwargs={"token": "-"}).removesuffix("-/"))
        for view in ("notifications:action", "notifications:inbox_open")
    )
    return re.compile(rf"({paths})[A-Za-z0-9_\-:.]+")


def mask_links(text):
    """`text` with the token of every action and inbox link of ours replaced by "…".

    A link in a message is the recipient's bearer token: a staff member reading the message (its body,
    HTML, template values, error) must not be able to act or read as the recipient with it. Applied to
    the raw text before any escaping, so it also masks links inside HTML attributes."""
    if not isinstance(text, str) or not text:
        return text
    return _signed_link_pattern().sub(rf"\g<1>{MASKED_TOKEN}", text)


# --- Inbox link (seed 004) ----------------------------------------------------


def learner_home_url() -> str:
    """Where a learner's "Continue my training" button leads: the learning platform when there is one, else this
    site's home, which the outbox door turns into the learner's own pages (`learner_home_maker`) and which,
    opened as it is, leads to a learner's page and never to the staff login."""
    return settings.LEARNING_PLATFORM_URL or f"{settings.SITE_URL}/"


def own_pages_url() -> str:
    """The address of a reader's own pages (her inbox) as a message stores it: opened as it is, it shows them
    to whoever is signed in to them, and asks anyone else to open the link in her latest email. The dispatcher
    puts the reader's own signed link in its place in what leaves (`as_it_leaves`)."""
    return _own_pages_url(settings.SITE_URL, get_script_prefix(), get_urlconf())


@functools.lru_cache(maxsize=8)
def _own_pages_url(site_url, script_prefix, urlconf) -> str:
    # Worked out once, not for each message the dispatcher sends (reverse() is most of the cost of a lookup).
    return f"{site_url}{reverse('notifications:inbox', urlconf=urlconf)}"


def learner_home_maker():
    """A function (context) -> context with an `action_url` of the site's home made the address of the learner's
    own pages (her training and her messages), for a batch of messages (seed 000: every learner's copy of a
    Notify run): the settings and both addresses are read once per batch. Without a learning platform her pages
    are the one place of hers a learner may open without a login.

    No link is signed here: the stored message names her pages (`own_pages_url`) and the dispatcher signs her
    link as the message leaves, so that it lives INBOX_LINK_DAYS from its sending (not from its queuing, a
    message may wait days for confirmation), no staff screen ever holds a working link of hers, and a Notify
    run of 100,000 learners signs nothing."""
    if settings.LEARNING_PLATFORM_URL:
        return _as_it_is
    home = f"{settings.SITE_URL}/"
    pages = own_pages_url()

    def make(context):
        if context.get("action_url") != home:
            return context
        return {**context, "action_url": pages}

    return make


def _as_it_is(context):
    return context


@functools.lru_cache(maxsize=8)
def _own_pages_pattern(pages):
    # Her pages' address on its own, not the start of a longer one (/inbox/open/..., /inbox/preferences/).
    return re.compile(re.escape(pages) + r"""(?=$|[\s"'<>)\]])""")


def as_it_leaves(notification):
    """The outbox row as it leaves (an unsaved copy when anything changes): the address of her own pages
    (`own_pages_url`) in its text and HTML made her signed inbox link, valid INBOX_LINK_DAYS from now. The row
    itself keeps the address, never the link; the link is only ever its own reader's (the row's recipient key
    signs it)."""
    pages = own_pages_url()
    body, html = notification.body or "", notification.html_body or ""
    if pages not in body and pages not in html:
        return notification
    pattern = _own_pages_pattern(pages)
    link = None

    def signed(_match):
        nonlocal link
        link = link or inbox_link(notification)
        return link

    leaving = copy.copy(notification)
    leaving.body, leaving.html_body = pattern.sub(signed, body), pattern.sub(signed, html)
    return leaving


def make_inbox_url(*, recipient, issued_at=None) -> str:
    """Absolute link that signs `recipient` into their own inbox for INBOX_LINK_DAYS from `issued_at`."""
    return inbox_url_maker(issued_at=issued_at)(recipient)


def inbox_url_maker(*, issued_at=None):
    """A function (recipient) -> make_inbox_url(recipient=recipient, issued_at=issued_at).

    Every learner's copy of a Notify run carries one (100,000 in a run): the signer, the expiry and the address
    around the token are worked out once, as for action links; each token is still signed alone, exactly as
    signing.dumps signs it (tested)."""
    issued_at = issued_at or timezone.now()
    expires_at = int((issued_at + timedelta(days=settings.INBOX_LINK_DAYS)).timestamp())
    signer, before, after = _inbox_link_parts(settings.SITE_URL, settings.SECRET_KEY, get_script_prefix())
    sign = signer.sign_grant

    def make(recipient) -> str:
        return f"{before}{sign(recipient_key(recipient), expires_at)}{after}"

    return make


@functools.lru_cache(maxsize=8)
def _inbox_link_parts(site_url, secret_key, script_prefix):
    signer = PreparedSigner(key=secret_key, salt=INBOX_SALT)
    url = f"{site_url}{reverse('notifications:inbox_open', kwargs={'token': _TOKEN_SLOT})}"
    before, _, after = url.rpartition(_TOKEN_SLOT)
    return signer, before, after


def inbox_link(notification) -> str:
    """The inbox link sent with a system message: valid 7 days from the message's sending.

    A message not marked sent yet is being sent now (the dispatcher builds the
    link while delivering); its creation time could be days earlier when it
    waited for confirmation, which would shorten the link's life.
    """
    issued_at = notification.sent_at or timezone.now()
    return make_inbox_url(recipient=Recipient.key_of_notification(notification), issued_at=issued_at)


def read_inbox_token(token) -> str:
    """The recipient key of a valid inbox token; raises TamperedLink (400) or ExpiredLink (410)."""
    return read_inbox_grant(token).recipient_key


@dataclass(frozen=True)
class InboxGrant:
    """What an inbox link grants: reading one recipient's inbox until `expires_at` (a timestamp)."""

    recipient_key: str
    expires_at: int


def read_inbox_grant(token) -> InboxGrant:
    """The grant of a valid inbox token; raises TamperedLink (400) or ExpiredLink (410)."""
    # An inbox link lives INBOX_LINK_DAYS from its sending; a day of slack for clocks, no more.
    payload = _loads(token, INBOX_SALT, max_days=settings.INBOX_LINK_DAYS + 1)
    key = payload.get("r")
    if not is_recipient_key(key):
        raise TamperedLink(_("This link is not valid."))
    return InboxGrant(recipient_key=key, expires_at=payload["e"])
