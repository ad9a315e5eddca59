"""What the message templates of each event may read: plain values, declared and described.

A producer passes plain values only (text, numbers, dates, lists and dicts of
those), never a model instance: an editable template could otherwise walk
from a learner to their user's password hash. `person_values` turns a learner
(or a manager) into the dict templates read as `learner.first_name`.

Each event's declaration (`<app>/notifications.py`, notifications.registry) offers a set of
top-level names, with samples and descriptions of its own names; every template
also gets `recipient_name`, `reader`, `event_label` and `action_url`. `reader`
says who reads this copy (the renderer sets it from the recipient): a template
speaks to the learner when it is "learner", and about the learner to their
manager, guardian or a member of staff otherwise (seeds 001, 004). The sample values
below feed the admin preview and the check every template passes on save, and
their shape is the list of variables shown beside the template form.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import registry

COMMON = ("recipient_name", "reader", "event_label", "action_url", "organisation_name")

# Every name any event offers. "name[]" is each item of the list "name".
DESCRIPTIONS = {
    "recipient_name": _("Name of the person reading the message (learner, manager, guardian or administrator)."),
    "reader": _(
        'Who reads this copy: "learner", "manager", "guardian" or "staff". Speak to the learner with '
        '{% if reader == "learner" %}, and about the learner to the others.'
    ),
    "event_label": _("Name of the event."),
    "action_url": _("Link to act on or read more (may be empty)."),
    "organisation_name": _("Name of the training organisation (the sign-off of every email)."),
    "learner.first_name": _("First name of the learner the message is about."),
    "learner.last_name": _("Last name of the learner."),
    "learner.full_name": _("First and last name of the learner."),
    "learner.email": _("Email address of the learner."),
    "manager.first_name": _("First name of the learner's manager (empty when there is none)."),
    "manager.last_name": _("Last name of the manager."),
    "manager.full_name": _("First and last name of the manager."),
    "program": _("Title of the program or certification."),
    "programs": _("Titles of the training concerned, a list: {% for title in programs %}."),
    "programs[]": _("One title of that list."),
    "group": _("Name of the group the training came with (may be empty)."),
    "due_at": _("Due date and time (may be empty)."),
    "expires_at": _("When the certification expires (may be empty)."),
    "completed_at": _("When it was completed (may be empty)."),
    "course_set.title": _("Title of the course set."),
    "course_set.due_at": _("Due date of the course set (may be empty)."),
    "kind": _("Kind of exception reported."),
    "course": _("Title of the course."),
    "requested_by_manager": _("True when the learner's manager made the request."),
    "complete": _("Training completed, a list: {% for item in complete %}."),
    "complete[].title": _("Title of a completed item."),
    "complete[].completed_at": _("When it was completed."),
    "incomplete": _("Training still to do, a list: {% for item in incomplete %}."),
    "incomplete[].title": _("Title of an item to do."),
    "incomplete[].due_at": _("Its due date, the learner's own (may be empty)."),
    "incomplete[].overdue": _("Whether that due date has passed."),
    "incomplete[].url": _("Link to follow this training."),
    "session.title": _("Title of the live session."),
    "session.starts_at": _("When the session starts."),
    "session.ends_at": _("When the session ends."),
    "session.location": _("Where the session takes place (may be empty)."),
    "session.timezone": _("Time zone the session's times are given in."),
    "session.registration_form_url": _("Link to the session's registration form (may be empty)."),
    "session.feedback_form_url": _("Link to the session's feedback form (may be empty)."),
    "sessions": _("Sessions to choose from, a list: {% for session in sessions %}."),
    "sessions[].title": _("Title of a session."),
    "sessions[].starts_at": _("When it starts."),
    "sessions[].ends_at": _("When it ends."),
    "sessions[].location": _("Where it takes place."),
    "sessions[].timezone": _("Time zone its times are given in."),
    "sessions[].registration_form_url": _("Link to its registration form (may be empty)."),
    "sessions[].feedback_form_url": _("Link to its feedback form (may be empty)."),
    "ends_on": _("Last day of the e-learning course."),
    "inbox_url": _("Link to read the message in the inbox (valid 7 days, no password)."),
    "message_subject": _("Subject of the message waiting in the inbox."),
}


def _declared(event):
    return registry.declaration(event)


def names_of(event) -> tuple[str, ...]:
    """COMMON and the names the event's declaration (`<app>/notifications.py`) offers its templates."""
    declaration = _declared(event)
    return (*COMMON, *(declaration.variables if declaration is not None else ("learner",)))


def description(path) -> str:
    """What `path` holds, from this module or from the declaration of an event offering it."""
    if path in DESCRIPTIONS:
        return DESCRIPTIONS[path]
    for declaration in registry.declarations().values():
        if path in declaration.descriptions:
            return declaration.descriptions[path]
    return ""


def _declared_samples(now) -> dict:
    samples = {}
    for declaration in registry.declarations().values():
        for name, value in declaration.samples.items():
            samples.setdefault(name, value(now) if callable(value) else value)
    return samples


# --- Plain values from the domain ----------------------------------------------------------------


def person_values(person) -> dict:
    """A learner or manager as templates read it; {} for nobody."""
    if person is None:
        return {}
    return {"first_name": person.first_name, "last_name": person.last_name, "full_name": person.full_name}


def session_values(session) -> dict:
    return {
        "title": session.title,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "location": session.location,
        "timezone": session.timezone,
        "registration_form_url": session.registration_form_url,
        "feedback_form_url": session.feedback_form_url,
    }


# --- Samples, and the variables shown in the admin ---------------------------------------------------


def _samples(event, now):
    site = settings.SITE_URL
    due_at, expires_at = now + timedelta(days=30), now + timedelta(days=45)
    session = {
        "title": "First aid workshop",
        "starts_at": now + timedelta(days=14),
        "ends_at": now + timedelta(days=14, hours=3),
        "location": "Training room 2, 12 rue de la Paix, Paris",
        "timezone": "Europe/Paris",
        "registration_form_url": "https://forms.example.org/registration",
        "feedback_form_url": "https://forms.example.org/feedback",
    }
    return {
        "recipient_name": "Marie Curie",
        "reader": "learner",
        "organisation_name": settings.ORGANISATION_NAME,
        "event_label": _declared(event).label if _declared(event) is not None else event,
        "action_url": f"{site}/a/sample-token/",
        "learner": {
            "first_name": "Marie",
            "last_name": "Curie",
            "full_name": "Marie Curie",
            "email": "marie.curie@example.org",
        },
        "manager": {"first_name": "Pierre", "last_name": "Martin", "full_name": "Pierre Martin"},
        "program": "Workplace safety",
        "programs": ["Workplace safety", "Data protection essentials"],
        "group": "Warehouse team",
        "due_at": due_at,
        "expires_at": expires_at,
        "completed_at": now,
        "course_set": {"title": "Module 1: evacuation", "due_at": due_at},
        "kind": "Learner absent",
        "course": "Fire safety basics",
        "requested_by_manager": True,
        "complete": [{"title": "Fire safety basics", "completed_at": now - timedelta(days=3)}],
        "incomplete": [
            {"title": "Workplace safety", "due_at": due_at, "overdue": False, "url": f"{site}/"},
            {"title": "Data protection essentials", "due_at": None, "overdue": False, "url": f"{site}/"},
            {"title": "Fire safety basics", "due_at": now - timedelta(days=4), "overdue": True, "url": f"{site}/"},
        ],
        "session": session,
        "sessions": [
            session,
            {
                **session,
                "starts_at": now + timedelta(days=21),
                "ends_at": now + timedelta(days=21, hours=3),
            },
        ],
        "ends_on": (now + timedelta(days=10)).date(),
        "inbox_url": f"{site}/inbox/open/sample-token/",
        "message_subject": "Your timetable for next week",
        **_declared_samples(now),
    }


def sample_context(event, *, now=None) -> dict:
    """Realistic plain values for every name the templates of `event` may read."""
    samples = _samples(event, now or timezone.now())
    return {name: samples[name] for name in names_of(event)}


def _paths(name, value):
    """(path, is a group of values) for a sample value and everything inside it."""
    if isinstance(value, dict):
        yield name, True
        for key, item in value.items():
            yield from _paths(f"{name}.{key}", item)
    elif isinstance(value, list | tuple):
        yield name, False
        if value:
            yield from _paths(f"{name}[]", value[0])
    else:
        yield name, False


def offered_paths(event) -> dict[str, bool]:
    """Every path the templates of `event` may read, and whether it is a group of values (a dict)."""
    paths = {}
    for name, value in sample_context(event).items():
        paths.update(_paths(name, value))
    return paths


def variables_of(event) -> list[tuple[str, str]]:
    """(name, description) of each value the templates of `event` may print or loop over."""
    return [(path, description(path)) for path, group in offered_paths(event).items() if not group]
