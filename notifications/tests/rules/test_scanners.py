"""Date-based scanners (issue 8): features register them; scan_triggers runs each once per call."""

import pytest

from notifications.rules import scanners
from notifications.services import register_scanner, scan_triggers


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(scanners, "_SCANNERS", [])
    return scanners._SCANNERS


def test_scan_triggers_adds_up_what_every_registered_scanner_created(registry):
    """Contract: scan_triggers() -> int, the number of notifications created now."""
    register_scanner(lambda: 2)
    register_scanner(lambda: 3)

    assert scan_triggers() == 5


def test_registering_a_scanner_twice_runs_it_once(registry):
    """An app's scanners module may be imported twice (autodiscovery, tests): no double scan."""
    calls = []

    def scanner():
        calls.append(1)
        return 0

    register_scanner(scanner)
    register_scanner(scanner)
    scan_triggers()

    assert calls == [1]
