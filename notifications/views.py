"""Public pages reached from messages: signed action links and the inbox (seed 004).

These pages are thin: they verify the link, then call one service through
the link's handler. A bad link gets a clear page with its status (400
tampered, 404 gone, 410 expired), never a 500.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from learners.models import Learner
from learners.selectors import training_to_start

from . import access, optout
from . import inbox as inbox_service
from .links import InvalidDecision, LinkError, read_inbox_grant, resolve_action

INBOX_SESSION_KEY = access.GRANT_SESSION_KEY


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=())

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = choices


def _error(request, exc: LinkError):
    """The page of an unusable link: in the recipient's language when the link is genuinely ours (expired, or its
    object gone), else in the browser's (a tampered link names nobody we can trust)."""
    owner = inbox_service.inbox_owner(exc.recipient_key) if exc.recipient_key else None
    return _page(request, owner, "notifications/link_error.html", {"message": exc.message}, status=exc.status)


def _page(request, owner, template, context, *, status=200):
    """Render a recipient's page in the owner's language and time zone (the browser's when nobody is known)."""
    if owner is None:
        return render(request, template, context, status=status)
    language, tz = inbox_service.owner_locale(owner)
    with translation.override(language), timezone.override(tz):
        return render(request, template, context, status=status)


# Every page of a link or of the inbox is one recipient's own: `never_cache` (Cache-Control: no-store, private)
# keeps it out of shared caches and the browser's history cache.


# CSRF protection is off on purpose: the recipient arrives from an email,
# usually without a session or CSRF cookie, so a CSRF token cannot be
# required. The signed token in the URL is the protection instead: only the
# recipient holds it, it names exactly one object and one purpose, and it
# expires. A forged cross-site POST would need the token itself.
@csrf_exempt
@never_cache
def action(request, token):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        link, handler, obj = resolve_action(token)
    except LinkError as exc:
        return _error(request, exc)
    recipient = inbox_service.inbox_owner(link.recipient_key)
    if recipient is None:
        message = _("The person this link was sent to no longer exists.")
        return render(request, "notifications/link_error.html", {"message": message}, status=404)
    if not inbox_service.owner_is_active(recipient):
        # A deactivated learner's old links answer nothing more, whatever they name.
        return _inactive(request, recipient)
    # The recipient reads the page in their own language and time zone: the handler's choice, else the owner's.
    language, tz = handler.locale(obj, link.recipient_key)
    owner_language, owner_tz = inbox_service.owner_locale(recipient)
    with translation.override(language or owner_language), timezone.override(tz or owner_tz):
        return _answer(request, link, handler, obj)


def _answer(request, link, handler, obj):
    context = {"title": handler.title, "question": handler.question(obj)}
    if hasattr(handler, "link"):
        # E.g. the survey's own form (seed 002 §V), opened from the page that records the answer.
        context["link"] = handler.link(obj)
    answer = handler.current_answer(obj)
    if answer is not None:
        # Already answered: a replayed POST lands here and changes nothing.
        return _done(request, handler, obj, context, answer)
    choices = handler.decisions(obj)
    if request.method != "POST":
        form = DecisionForm(choices=choices)
        return render(request, "notifications/action.html", {**context, "form": form, "choices": choices})
    form = DecisionForm(request.POST, choices=choices)
    if not form.is_valid():
        return _error(request, InvalidDecision(_("This answer is not one of the choices offered.")))
    try:
        message = handler.perform(obj, form.cleaned_data["decision"], recipient_key=link.recipient_key)
    except (ValidationError, ValueError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        if getattr(handler, "offer_again_after_refusal", False) and handler.current_answer(obj) is None:
            # E.g. a full date (seed 002 §III-B): say why, and offer the choices that are still open.
            choices = handler.decisions(obj)
            form = DecisionForm(choices=choices)
            context.update(form=form, choices=choices, error=text)
            return render(request, "notifications/action.html", context, status=409)
        return _error(request, InvalidDecision(text or _("This answer cannot be recorded.")))
    return _done(request, handler, obj, context, message)


def _done(request, handler, obj, context, message):
    """The answer page, with what happens next: the handler's words, else the general ones of the template."""
    next_step = handler.next_step(obj) if hasattr(handler, "next_step") else None
    return render(request, "notifications/action_done.html", {**context, "message": message, "next_step": next_step})


@never_cache
def inbox_open(request, token):
    """The inbox link of a system message: it lets this browser read the recipient's own inbox.

    This GET changes the session on purpose (seed 004: read the message
    without typing a login and password); it changes no data. It never signs
    anyone into Django, nor out of it: the grant is kept under its own session
    key (`access`), beside a staff member's login, which a link opened from
    another site must not end.
    """
    try:
        grant = read_inbox_grant(token)
    except LinkError as exc:
        return _error(request, exc)
    owner = inbox_service.inbox_owner(grant.recipient_key)
    if owner is None:
        message = _("This inbox no longer exists.")
        return render(request, "notifications/link_error.html", {"message": message}, status=404)
    if not inbox_service.owner_is_active(owner):
        return _inactive(request, owner)
    access.grant_inbox(request, grant)
    return redirect("notifications:inbox")


def _inactive(request, owner):
    message = _("This account is no longer active: its messages cannot be shown.")
    return _page(request, owner, "notifications/link_error.html", {"message": message}, status=403)


def home(request):
    """The site's address: staff go to the admin; anyone else — a learner following a button of an
    email — to her own pages (her training and messages), never to the staff login."""
    if request.user.is_active and request.user.is_staff:
        return redirect("admin:index")
    return redirect("notifications:inbox")


@never_cache
def inbox(request):
    key = access.current_recipient_key(request)
    owner = inbox_service.inbox_owner(key) if key else None
    if owner is None:
        message = _("Open the link in your latest email to see your messages.")
        return render(request, "notifications/link_error.html", {"message": message}, status=403)
    if not inbox_service.owner_is_active(owner):
        return _inactive(request, owner)
    messages = inbox_service.inbox_messages(key)
    inbox_service.mark_inbox_read(messages)
    training = training_to_start(owner) if isinstance(owner, Learner) else None
    # Her preferences: the reminders she left, each with a button to receive them again.
    left = [(family, optout.label(family)) for family in optout.families_left(key)]
    emailed = None if messages else inbox_service.emails_sent(key)
    context = {
        "owner": owner,
        "inbox_messages": messages,
        "emails_sent": emailed,
        "training": training,
        "families_left": left,
    }
    return _page(request, owner, "notifications/inbox.html", context)


def inbox_preferences(request):
    """POST from her inbox page (a session page with a CSRF token): receive a family of reminders again."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    key = access.current_recipient_key(request)
    owner = inbox_service.inbox_owner(key) if key else None
    if owner is None:
        message = _("Open the link in your latest email to see your messages.")
        return render(request, "notifications/link_error.html", {"message": message}, status=403)
    family = request.POST.get("resubscribe", "")
    if family in optout.FAMILIES:
        optout.resubscribe(key, family)
    return redirect("notifications:inbox")


# One-click unsubscribe (RFC 8058): the mailbox provider POSTs "List-Unsubscribe=One-Click" with no cookie and
# no CSRF token; the signed URL is the protection and grants only leaving (or rejoining) one family.
@csrf_exempt
def unsubscribe(request, token):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    found = optout.read_token(token)
    if found is None:
        message = _("This link is not valid: it may have been altered or copied incompletely.")
        return render(request, "notifications/link_error.html", {"message": message}, status=400)
    key, family = found
    owner = inbox_service.inbox_owner(key)
    if owner is None:
        message = _("The person this link was sent to no longer exists.")
        return render(request, "notifications/link_error.html", {"message": message}, status=404)
    resubscribing = request.POST.get("decision") == "resubscribe"
    if request.method == "POST":
        (optout.resubscribe if resubscribing else optout.unsubscribe)(key, family)
    context = {
        "family": optout.label(family),
        "asked": request.method != "POST",
        "left": family in optout.families_left(key),
    }
    return _page(request, owner, "notifications/unsubscribe.html", context)
