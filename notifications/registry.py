"""The catalogue of events: each event is declared once, in its own app's `<app>/notifications.py`.

A declaration says everything the rest of the project needs to know about an
event: its code and label, its footer family (notifications.closing),
who may read it (the recipient kinds a rule may choose), what its templates may
read (names, samples, descriptions: notifications.variables), whether it is
date-based (its rules may say "N days before"), and its default rule, used when
no rule of the event exists. `Event` (notifications.models) and the rule and
template screens read this registry; `notifications.checks` verifies at
start-up that every declared event has its words in en, fr and pl and that
every code used somewhere is declared.

This module imports no model: declarations are read while models load (the
`choices` of the event fields), so `<app>/notifications.py` imports only the
declaration API (from notifications.services, which binds it before anything
else) and translation helpers.
"""

import importlib
from dataclasses import dataclass, field

from django.conf import settings

# The recipient kinds a rule may choose (NotificationRule.notify_<kind>).
LEARNER = "learner"
MANAGER = "manager"
GUARDIANS = "guardians"
TRAINERS = "trainers"
SITE_ADMINS = "site_admins"
RECIPIENT_KINDS = (LEARNER, MANAGER, GUARDIANS, TRAINERS, SITE_ADMINS)
# Every event that reaches a learner may reach the learner's manager, guardians and site administrators.
ABOUT_A_LEARNER = frozenset((LEARNER, MANAGER, GUARDIANS, SITE_ADMINS))
# Live-session events may also reach the session's trainers (seed 004: "lektor").
ABOUT_A_SESSION = ABOUT_A_LEARNER | {TRAINERS}

# Whom a feature addresses an event to, when it is not the learner it is about.
ADDRESSEE_LEARNER = "learner"
ADDRESSEE_MANAGER = "manager"
ADDRESSEE_APPROVER = "approver"
ADDRESSEE_RECIPIENT = "recipient"  # the recipient the feature names (the inbox alert: whoever got the message)


@dataclass(frozen=True)
class DefaultRule:
    """What an event does when no rule of it exists. No channel: the event is silent until a rule says
    otherwise (seed 001's program events). `requires_confirmation=None`: the channel's setting decides
    for what the system sends on its own (seed 004), and what a person asked for is never held."""

    channels: tuple = ("email",)
    recipients: frozenset = frozenset((LEARNER,))
    requires_confirmation: bool | None = None

    @property
    def silent(self) -> bool:
        return not self.channels


SILENT = DefaultRule(channels=())


@dataclass(frozen=True)
class Declaration:
    code: str
    label: object  # a lazy translation
    family: str = ""
    readers: frozenset = ABOUT_A_LEARNER
    addressee: str = ADDRESSEE_LEARNER
    # Top-level names its templates may read, besides notifications.variables.COMMON.
    variables: tuple = ("learner",)
    # A realistic sample value (or a function of now) of each name not sampled in notifications.variables.
    samples: dict = field(default_factory=dict)
    # "name.path": description, for each path a template may print that variables.py does not describe.
    descriptions: dict = field(default_factory=dict)
    # A rule of it may say "N days before/after" a date (the app registers its DateTrigger).
    date_based: bool = False
    default: DefaultRule = DefaultRule()

    @property
    def constant(self) -> str:
        """Its name as an attribute of notifications.models.Event: "program.due" -> PROGRAM_DUE."""
        return constant_of(self.code)

    def allows(self, kind) -> bool:
        return kind in self.readers


_DECLARATIONS: dict[str, Declaration] = {}
_BY_CONSTANT: dict[str, str] = {}
# code -> label, read once per message (seed 000: 100,000 of them in a Notify run).
_LABELS: dict[str, object] = {}
_discovered = False


def constant_of(code) -> str:
    return str(code).upper().replace(".", "_")


def declare(code, label, **fields) -> Declaration:
    """Declare an event (from `<app>/notifications.py`); declaring a code again replaces it."""
    declaration = Declaration(code=code, label=label, **fields)
    _DECLARATIONS[code] = declaration
    _BY_CONSTANT[declaration.constant] = code
    _LABELS[code] = label
    return declaration


def forget(code):
    """Take a declaration back (tests that declare a throw-away event)."""
    declaration = _DECLARATIONS.pop(code, None)
    if declaration is not None:
        _BY_CONSTANT.pop(declaration.constant, None)
        _LABELS.pop(code, None)


def discover():
    """Import `<app>/notifications.py` of every installed app, once. Called by NotificationsConfig.ready()
    and by the first read of the registry (model fields read it while models load)."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for app in settings.INSTALLED_APPS:
        module = app.split(".apps.")[0] if ".apps." in app else app
        try:
            importlib.import_module(f"{module}.notifications")
        except ModuleNotFoundError as error:
            if error.name != f"{module}.notifications":
                raise


def declarations() -> dict[str, Declaration]:
    discover()
    return dict(_DECLARATIONS)


def declaration(code) -> Declaration | None:
    discover()
    return _DECLARATIONS.get(str(code))


def labels() -> dict[str, object]:
    """{code: label} of every declared event, kept current by `declare` and `forget` (read it, never change it)."""
    discover()
    return _LABELS


def get(code) -> Declaration:
    found = declaration(code)
    if found is None:
        raise LookupError(f"No event {code!r} is declared (see docs/architecture.md: adding an event).")
    return found


def code_of_constant(name) -> str | None:
    discover()
    return _BY_CONSTANT.get(name)


def choices() -> list[tuple[str, object]]:
    """(code, label) of every declared event: the choices of every event field."""
    return [(code, d.label) for code, d in declarations().items()]
