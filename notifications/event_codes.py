"""The catalogue's face for the models and the code: `Event.PROGRAM_DUE` is a declared event's code, and
`EventField` stores one (its choices read notifications.registry when used). Re-exported by
notifications.models, where the rest of the project finds them."""

from django.db import models

from . import registry


class EventCode(str):
    """An event code ("program.due") that knows its label, as a TextChoices member would."""

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def label(self):
        declaration = registry.declaration(self)
        return declaration.label if declaration is not None else self.value

    # No __str__ of its own: str's (the code itself) is the one a TextChoices member has, and it keeps
    # f"{event}:..." in C, which a Notify run formats twice per message (seed 000: 100,000 learners).


class _Catalogue(type):
    """`Event.PROGRAM_DUE`, `Event.choices`, `Event("program.due")`: the enumeration of the declared events
    (notifications.registry), so adding an event is one declaration, with no list to extend here."""

    def __getattr__(cls, name):
        code = registry.code_of_constant(name) if name.isupper() else None
        if code is None:
            raise AttributeError(f"No event is declared as Event.{name} (notifications.registry).")
        return EventCode(code)

    def __call__(cls, value):
        if registry.declaration(value) is None:
            raise ValueError(f"{value!r} is not a declared event")
        return EventCode(value)

    def __iter__(cls):
        return iter([EventCode(code) for code in registry.declarations()])

    def __contains__(cls, value):
        return registry.declaration(value) is not None

    @property
    def choices(cls):
        return registry.choices()

    @property
    def values(cls):
        return list(registry.declarations())

    @property
    def labels(cls):
        return [label for _, label in registry.choices()]


class Event(metaclass=_Catalogue):
    """The catalogue of everything LMS Notify can say. Each event is declared once in its app's
    `<app>/notifications.py` (notifications.registry); `Event.PROGRAM_DUE` is its code."""


def event_choices():
    return registry.choices()


class EventField(models.CharField):
    """An event code: its choices are the declared events, read when used, and left out of migrations so
    that declaring an event needs none."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("choices", event_choices)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("choices", None)
        return name, "django.db.models.CharField", args, kwargs
