"""End to end in real headless Chromium (issue 18, "A look before a mass send"): the administrator sets a
session's status to Cancelled on its form and presses Save; the confirmation page shows who will be told (counts
per channel and language, the learner left out and why, a sample); she types a reason and confirms; each learner
gets the cancellation with the reason, in her language.

Issue 18: "Setting a session's status to Cancelled and pressing Save emailed 8 learners at once, with no
confirmation and no reason." Debian's chromium driven by Playwright (fixtures in the project's conftest.py).
"""

import pytest
from django.urls import reverse

from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification

from .conftest import make_learner, make_session, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = SessionLearner.Status
REASON = "The trainer is ill / formatrice malade / trenerka chora"


def test_the_administrator_cancels_on_the_form_looks_at_who_is_told_gives_a_reason_and_confirms(
    live_server, settings, chromium, screenshots
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    make_user("boss", is_staff=True, is_superuser=True)
    session = make_session(title="First aid workshop", status=LiveSession.Status.READY)
    learners = {
        "en": make_learner(first_name="Ada", language="en"),
        "fr": make_learner(first_name="Amélie", language="fr"),
        "pl": make_learner(first_name="Zofia", language="pl"),
    }
    silent = make_learner(first_name="Nina", language="fr", consent_given_at=None)
    for learner in [*learners.values(), silent]:
        SessionLearner.objects.create(session=session, learner=learner, status=Status.REGISTERED)

    page = chromium.new_page(viewport={"width": 1366, "height": 768})
    page.goto(live_server.url + reverse("admin:live_sessions_livesession_change", args=[session.pk]))
    page.fill("#id_username", "boss")
    page.fill("#id_password", "x")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    page.select_option("#id_status", "cancelled")
    page.screenshot(path=screenshots / "1-status-cancelled.png", full_page=True)
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()

    # The confirmation page: nothing sent or changed yet.
    page.screenshot(path=screenshots / "2-who-will-be-told.png", full_page=True)
    assert page.url.endswith(reverse("admin:live_sessions_livesession_cancel", args=[session.pk]))
    counts = page.inner_text("#lookahead-counts")
    for language in ("English", "French", "Polish"):
        assert f"Email\t{language}\t1" in counts
    assert "3 messages will go." in page.inner_text("#lookahead-total")
    assert "the learner has not consented to receive messages" in page.inner_text("#lookahead-omitted")
    assert "Cancelled: First aid workshop" in page.inner_text("#lookahead-sample")
    assert not Notification.objects.exists()
    assert LiveSession.objects.get(pk=session.pk).status == LiveSession.Status.READY

    page.fill("#id_reason", REASON)
    page.get_by_role("button", name="Show the sample with this reason").click()
    page.wait_for_load_state()
    assert REASON in page.inner_text("#lookahead-sample")
    page.screenshot(path=screenshots / "3-sample-with-the-reason.png", full_page=True)
    page.get_by_role("button", name="Cancel the session and send").click()
    page.wait_for_load_state()
    page.screenshot(path=screenshots / "4-cancelled.png", full_page=True)
    assert "3 messages sent, 1 omitted" in page.inner_text("body")

    words = {"en": f"Reason: {REASON}", "fr": f"Motif : {REASON}", "pl": f"Powód: {REASON}"}
    for language, learner in learners.items():
        row = Notification.objects.get(event="session.cancelled", recipient_learner=learner)
        assert row.status == Notification.Status.QUEUED  # the administrator's: not held for confirmation again
        assert row.language == language and words[language] in row.body
    assert Notification.objects.get(recipient_learner=silent).reason == "no_consent"
    assert LiveSession.objects.get(pk=session.pk).status == LiveSession.Status.CANCELLED
