"""Date-based scanners: features register them; scan_triggers adds up what they created."""

import pytest

from notifications import triggers
from notifications.services import register_scanner, scan_triggers


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(triggers, "_SCANNERS", [])
    return triggers._SCANNERS


def test_scan_triggers_adds_up_what_every_registered_scanner_created(registry):
    """Contract: scan_triggers() -> int, the number of notifications created now."""
    register_scanner(lambda: 2)
    register_scanner(lambda: 3)

    assert scan_triggers() == 5
