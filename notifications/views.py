"""Public pages reached from messages: signed action links and the inbox (seed 004).

These pages are thin: they verify the link, then call one service through
the link's handler. A bad link gets a clear page with its status (400
tampered, 404 gone, 410 expired), never a 500.
"""

from django import forms
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from . import inbox as inbox_service
from .links import InvalidDecision, LinkError, read_inbox_token, resolve_action
from .recipients import learner_key, parse_key, user_key

INBOX_SESSION_KEY = "notifications_inbox_recipient"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=())

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = choices


def _error(request, exc: LinkError):
    return render(request, "notifications/link_error.html", {"message": exc.message}, status=exc.status)


# CSRF protection is off on purpose: the recipient arrives from an email,
# usually without a session or CSRF cookie, so a CSRF token cannot be
# required. The signed token in the URL is the protection instead: only the
# recipient holds it, it names exactly one object and one purpose, and it
# expires. A forged cross-site POST would need the token itself.
@csrf_exempt
def action(request, token):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        link, handler, obj = resolve_action(token)
    except LinkError as exc:
        return _error(request, exc)
    context = {"title": handler.title, "question": handler.question(obj)}
    answer = handler.current_answer(obj)
    if answer is not None:
        # Already answered: a replayed POST lands here and changes nothing.
        return render(request, "notifications/action_done.html", {**context, "message": answer})
    choices = handler.decisions(obj)
    if request.method != "POST":
        form = DecisionForm(choices=choices)
        return render(request, "notifications/action.html", {**context, "form": form, "choices": choices})
    form = DecisionForm(request.POST, choices=choices)
    if not form.is_valid():
        return _error(request, InvalidDecision("This answer is not one of the choices offered."))
    try:
        message = handler.perform(obj, form.cleaned_data["decision"], recipient_key=link.recipient_key)
    except (ValidationError, ValueError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _error(request, InvalidDecision(text or "This answer cannot be recorded."))
    return render(request, "notifications/action_done.html", {**context, "message": message})


def inbox_open(request, token):
    """The inbox link of a system message: opening it signs the recipient into their own inbox.

    This GET changes the session on purpose (seed 004: read the message
    without typing a login and password); it changes no data.
    """
    try:
        key = read_inbox_token(token)
    except LinkError as exc:
        return _error(request, exc)
    owner = inbox_service.inbox_owner(key)
    if owner is None:
        return render(request, "notifications/link_error.html", {"message": "This inbox no longer exists."}, status=404)
    kind, _ = parse_key(key)
    user = getattr(owner, "user", None) if kind == "l" else (owner if kind == "u" else None)
    if user is not None and user.is_active:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    elif request.user.is_authenticated:
        # Someone else was signed in on this browser: their session must not mix with this inbox.
        request.session.flush()
    request.session[INBOX_SESSION_KEY] = key
    return redirect("notifications:inbox")


def _current_recipient_key(request):
    if request.user.is_authenticated:
        learner = getattr(request.user, "learner", None)
        if learner is not None:
            return learner_key(learner)
        session_key = request.session.get(INBOX_SESSION_KEY, "")
        return session_key if (parse_key(session_key) or ("",))[0] == "u" else user_key(request.user)
    return request.session.get(INBOX_SESSION_KEY)


def inbox(request):
    key = _current_recipient_key(request)
    owner = inbox_service.inbox_owner(key) if key else None
    if owner is None:
        message = "Open the link in your latest email to see your messages."
        return render(request, "notifications/link_error.html", {"message": message}, status=403)
    messages = inbox_service.inbox_messages(key)
    inbox_service.mark_inbox_read(messages)
    language, tz = inbox_service.owner_locale(owner)
    with translation.override(language), timezone.override(tz):
        return render(request, "notifications/inbox.html", {"owner": owner, "inbox_messages": messages})
