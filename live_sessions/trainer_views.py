"""Trainer pages (seed 003 "Attendance form"): a trainer's sessions and each session's attendance form.

Trainers are ordinary (non-staff) users who sign in with Django's login page.
A trainer sees only the sessions they train; another trainer's session
answers 403. Each view parses input, calls one service, reports the result.
"""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learners.models import Learner

from . import services, trainers
from .models import LiveSession
from .trainer_forms import AttendanceForm, GoShowForm, GoShowSearchForm, WalkInForm

LOGIN_URL = reverse_lazy("trainer:login")
# What a service raises when the flow refuses a change: shown to the trainer, never a 500.
REFUSALS = (ValidationError, ValueError)

trainer_required = login_required(login_url=LOGIN_URL)


class TrainerLoginView(auth_views.LoginView):
    template_name = "trainer/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("trainer:sessions")


class TrainerLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("trainer:login")


def _session_of_trainer(request, session_id):
    session = get_object_or_404(LiveSession, pk=session_id)
    if not trainers.is_trainer_of(request.user, session):
        raise PermissionDenied
    return session


def _refusal_text(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@trainer_required
def session_list(request):
    today, upcoming, past = trainers.sessions_for_trainer(request.user)
    context = {"today": today, "upcoming": upcoming, "past": past, "now": timezone.now()}
    return TemplateResponse(request, "trainer/sessions.html", context)


# The attendance page is one form: searching for a walk-in, adding a go show or a new walk-in posts
# the answers not saved yet along, and the page comes back with them, whether JavaScript runs or not.
SEARCH, WALK_IN = "search", "walk_in"


@trainer_required
def attendance(request, session_id):
    session = _session_of_trainer(request, session_id)
    if request.method != "POST":
        return _attendance_page(request, session, data=None, search=GoShowSearchForm(request.GET or None))
    if request.POST.get("do") == SEARCH:
        return _attendance_page(request, session, data=request.POST, search=GoShowSearchForm(request.POST))
    if "go_show" in request.POST:
        added = _add_go_show(request, session, request.POST["go_show"])
        return _attendance_page(request, session, data=_forgetting(request.POST, added), search=GoShowSearchForm())
    if request.POST.get("do") == WALK_IN:
        walk_in = WalkInForm(request.POST)
        added = _add_walk_in(request, session, walk_in)
        if added is not None:
            walk_in = WalkInForm()
        return _attendance_page(
            request, session, data=_forgetting(request.POST, added), search=GoShowSearchForm(), walk_in=walk_in
        )
    form = AttendanceForm(request.POST, roster=trainers.roster(session))
    if form.is_valid():
        answers = {session_learner.pk: attended for session_learner, attended in form.changes()}
        try:
            saved = services.mark_attendance_many(session, answers, actor=request.user) if answers else 0
        except REFUSALS as error:
            messages.error(request, _refusal_text(error))
        else:
            text = ngettext("Attendance saved: %(n)d change.", "Attendance saved: %(n)d changes.", saved)
            messages.success(request, text % {"n": saved})
        off_roster = trainers.off_roster_words(session, form.answers_off_roster())
        if off_roster:
            messages.warning(
                request,
                _("Not recorded, no longer registered for this session: %(names)s.") % {"names": ", ".join(off_roster)},
            )
    return redirect("trainer:attendance", session_id=session.pk)


def _attendance_page(request, session, *, data, search, walk_in=None):
    form = AttendanceForm(data, roster=trainers.roster(session))
    query = search.cleaned_data["q"] if search.is_valid() else ""
    if query and not trainers.take_go_show_search(request.user):
        messages.error(request, _("Too many searches in a minute: wait a moment, then search again."))
        query = ""
    context = {
        "session": session,
        "rows": form.rows(),
        "unsaved": form.unsaved(),
        "search": search,
        "query": query,
        "candidates": trainers.go_show_candidates(session, query),
        "walk_in": walk_in or WalkInForm(),
    }
    return TemplateResponse(request, "trainer/attendance.html", context)


def _forgetting(data, session_learner):
    """The posted answers without the one of the learner just added: the page shows what was recorded for them."""
    if session_learner is None:
        return data
    data = data.copy()
    data.pop(f"learner_{session_learner.pk}", None)
    return data


def _add_go_show(request, session, learner_id):
    form = GoShowForm({"learner": learner_id})
    learner = None
    if form.is_valid():
        learner = Learner.objects.filter(pk=form.cleaned_data["learner"], is_active=True).first()
    if learner is None:
        messages.error(request, _("That learner does not exist (any more)."))
        return None
    try:
        added = services.add_go_show(session, learner, actor=request.user)
    except REFUSALS as error:
        messages.error(request, f"{learner.full_name}: {_refusal_text(error)}")
        return None
    messages.success(request, _("%(name)s was added as a go show.") % {"name": learner.full_name})
    return added


def _add_walk_in(request, session, form):
    if not form.is_valid():
        messages.error(request, _("The walk-in was not added: see the fields below."))
        return None
    try:
        added = services.add_walk_in(session, **form.cleaned_data, language=get_language()[:2], actor=request.user)
    except REFUSALS as error:
        messages.error(request, _refusal_text(error))
        return None
    messages.success(
        request,
        _("%(name)s was added as a go show; an administrator will review the new learner.")
        % {"name": added.learner.full_name},
    )
    return added


@require_POST
@trainer_required
def add_go_show(request, session_id):
    session = _session_of_trainer(request, session_id)
    _add_go_show(request, session, request.POST.get("learner"))
    return redirect(reverse("trainer:attendance", kwargs={"session_id": session.pk}))
