"""Fixtures shared by the browser tests: Debian's chromium driven by Playwright, and where screenshots go."""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def screenshots(tmp_path):
    """$BROWSER_SCREENSHOTS when set (to look at them), else the test's tmp dir."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def chromium(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: scripts/test installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # The ORM calls made while Playwright's loop ran used their own connection: close it, or the test
            # database cannot be dropped at the end of the run.
            connections.close_all()


@pytest.fixture
def automatic_channels(db):
    """Seed 004 says the system's own messages of an event without a rule wait for confirmation, per channel
    (notifications.door). Tests written about what those messages say, or when they go, switch email and SMS
    to automatic so the messages are queued at once: they opt in with
    `pytestmark = pytest.mark.usefixtures("automatic_channels")`. notifications/tests/test_door.py proves
    the default holds them."""
    from notifications.services import set_channel_confirmation

    for channel in ("email", "sms"):
        set_channel_confirmation(channel, required=False)
