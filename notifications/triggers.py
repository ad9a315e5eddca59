"""Date-based triggers: each feature registers a scanner that creates the
notifications due now. Scanners must be idempotent (dedupe keys), so running
scan_triggers twice creates nothing new."""

import logging

logger = logging.getLogger(__name__)

_SCANNERS = []


def register_scanner(func):
    _SCANNERS.append(func)
    return func


def scan_triggers() -> int:
    created = 0
    for scanner in _SCANNERS:
        created += scanner()
    return created
