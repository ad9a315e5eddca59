"""Date-based triggers: each feature registers a scanner that creates the notifications due now.

A feature puts its scanners in `<app>/scanners.py` (imported at start-up by
NotificationsConfig.ready) and decorates each with `register_scanner`.
Scanners must be idempotent (dedupe keys), so running scan_triggers twice
creates nothing new.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Scanner = Callable[[], int]

_SCANNERS: list[Scanner] = []


def register_scanner(func: Scanner) -> Scanner:
    if func not in _SCANNERS:
        _SCANNERS.append(func)
    return func


def registered_scanners() -> list[Scanner]:
    return list(_SCANNERS)


def scan_triggers() -> int:
    created = 0
    for scanner in _SCANNERS:
        created += scanner()
    return created
