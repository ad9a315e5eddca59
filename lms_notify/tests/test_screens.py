"""What administrators and recipients see, in real headless Chromium at 1366×768 (issue "what people see";
seeds 000, 002, 004): the admin names things in administrators' words and its lists fit the screen; the pages a
learner reaches from a message are in their language. Screenshots go to $BROWSER_SCREENSHOTS (else tmp)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from learners.models import Invitation, Learner
from lms_notify.testing import english_words
from notifications.links import make_action_url
from notifications.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 768}
LISTS = {
    "messages": "/admin/notifications/notification/",
    "learners": "/admin/learners/learner/",
    "rules": "/admin/notifications/notificationrule/",
    "templates": "/admin/notifications/messagetemplate/",
}


@pytest.fixture
def demo(settings, live_server):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = live_server.url
    settings.ORGANISATION_NAME = "Northwind Training"
    call_command("seed_demo", verbosity=0)
    return live_server.url


@pytest.fixture
def admin_page(chromium, demo):
    page = chromium.new_context(viewport=SCREEN).new_page()
    page.goto(demo + "/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def cut_off_columns(page) -> list[str]:
    """Headers of the result table that end beyond what the list shows without scrolling sideways."""
    return page.evaluate(
        """() => {
            const box = document.querySelector('#changelist .results') || document.querySelector('#result_list');
            const right = Math.min(box.getBoundingClientRect().right, window.innerWidth);
            return [...document.querySelectorAll('#result_list thead th')]
                .filter(th => th.getBoundingClientRect().right > right + 1)
                .map(th => th.innerText.trim());
        }"""
    )


@pytest.mark.parametrize("name", LISTS)
def test_lists_fit_a_1366_pixel_screen_with_no_column_cut_off(admin_page, demo, screenshots, name):
    admin_page.goto(demo + LISTS[name])
    admin_page.screenshot(path=screenshots / f"admin-list-{name}.png", full_page=True)

    assert admin_page.locator("#result_list tbody tr").count() > 0
    assert cut_off_columns(admin_page) == []
    assert admin_page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    assert admin_page.locator(".breadcrumbs").count() == 1


def test_the_admin_home_names_the_organisation_and_things_the_way_administrators_do(admin_page, demo, screenshots):
    admin_page.goto(demo + "/admin/")
    admin_page.screenshot(path=screenshots / "admin-home.png", full_page=True)
    text = admin_page.inner_text("body")

    assert admin_page.inner_text("#site-name").strip() == "Northwind Training"
    for words in ("Messages", "Live sessions", "E-learning enrolments", "Learner groups", "Staff permission groups"):
        assert words in text
    # The outbox is not called "Notifications" (the Notify page's name); no app label in capitals with "_".
    assert not re.search(r"(?i)live_sessions|\bnotifications\b(?! page)", text.replace("Notifications page", ""))


def test_a_message_page_says_what_happened_in_words_and_hides_the_internals(admin_page, demo, screenshots):
    failed = Notification.objects.filter(status="failed").first()
    omitted = Notification.objects.filter(status="omitted", reason="no_consent").first()
    polish = Learner.objects.filter(language="pl").first()
    Notification.objects.filter(pk=omitted.pk).update(recipient_learner=polish, language="pl")

    for name, message in (("failed", failed), ("omitted", omitted)):
        admin_page.goto(demo + f"/admin/notifications/notification/{message.pk}/change/")
        admin_page.screenshot(path=screenshots / f"admin-message-{name}.png", full_page=True)
        text = admin_page.inner_text("#content")
        assert '{"' not in text and message.dedupe_key not in text  # raw context and key are folded away
        assert admin_page.locator("input[name=_save]").count() == 0  # read-only: no Save button
        assert admin_page.locator(".breadcrumbs").count() == 1
    assert "Omitted: the learner has not consented to receive messages" in text
    assert "Polski" in text and not re.search(r"\bpl\b", text)

    admin_page.get_by_text("Technical details").click()
    assert message.dedupe_key in admin_page.inner_text("#content")  # still there for whoever needs it


def test_omitted_learners_of_a_notify_run_are_one_click_from_the_messages_list(admin_page, demo):
    admin_page.goto(demo + LISTS["messages"])
    admin_page.get_by_role("link", name="see the learners Notify runs omitted, with why").click()
    admin_page.wait_for_load_state()

    assert "/notifyoutcome/" in admin_page.url
    assert admin_page.locator("#result_list tbody tr").count() > 0


def invitation_link(learner):
    invitation = Invitation.objects.create(learner=learner, sent_at=timezone.now())
    return make_action_url(purpose="invitation", obj=invitation, recipient=learner, expires_in=timedelta(days=1))


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_a_learner_reads_the_invitation_its_answer_and_an_expired_link_in_their_language(
    chromium, demo, screenshots, language
):
    learner = Learner.objects.filter(language=language, consent_given_at__isnull=False, is_active=True).first()
    page = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB").new_page()

    page.goto(invitation_link(learner))
    page.screenshot(path=screenshots / f"learner-{language}-1-invitation.png", full_page=True)
    texts = [page.inner_text("body")]
    page.locator("button[value=accept]").click()
    page.wait_for_load_state()
    page.screenshot(path=screenshots / f"learner-{language}-2-answered.png", full_page=True)
    texts.append(page.inner_text("body"))
    expired = invitation_link(learner)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        page.goto(expired)
        page.screenshot(path=screenshots / f"learner-{language}-3-expired.png", full_page=True)
        texts.append(page.inner_text("body"))

    assert page.locator("a.btn").count() == 0  # the expired page offers nothing to click
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if language != "en":
        assert [english_words(text) for text in texts] == [[], [], []]


def test_custom_admin_pages_have_one_breadcrumb_trail_and_fit_the_screen(admin_page, demo, screenshots):
    pages = {
        "notify": "/admin/notifications/notifyrun/notify/",
        "notify-runs": "/admin/notifications/notifyrun/",
        "template-preview": "/admin/notifications/messagetemplate/preview/?event=invitation.sent&language=pl",
        "events": "/admin/notifications/notificationrule/events/",
        "sessions": "/admin/live_sessions/livesession/",
    }
    for name, path in pages.items():
        admin_page.goto(demo + path)
        admin_page.screenshot(path=screenshots / f"admin-{name}.png", full_page=True)
        assert admin_page.locator(".breadcrumbs").count() == 1, name
        assert admin_page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"], name
