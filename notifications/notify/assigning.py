"""How Notify opens the assignments it decides on (seed 000): through the programs app's set-based
`assign_many`, which programs hands over at start-up (`register_assigner` in programs/notifications.py).

Notify is below the facade that programs.services imports (notifications.services); importing
programs.services from here would close the ring programs.services -> notifications.services ->
notifications.notify -> programs.services. The dependency points one way: programs plugs into Notify.
"""

from django.core.exceptions import ImproperlyConfigured

_assigner = None


def register_assigner(assign_many):
    """`assign_many(rows, *, actor, announce, now) -> list of created pks`, as programs.services.assign_many."""
    global _assigner
    _assigner = assign_many
    return assign_many


def assign_many(rows, *, actor=None, announce=True, now=None) -> list[int]:
    if _assigner is None:
        raise ImproperlyConfigured("No assigner is registered: the programs app registers it at start-up.")
    return _assigner(rows, actor=actor, announce=announce, now=now)
