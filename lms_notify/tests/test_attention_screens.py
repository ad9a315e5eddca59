"""The learner's timeline and the home page's attention panel as an administrator sees them (issue 20 "Done when"):
real headless Chromium at 1366×768, no column cut off, and no English left when the administrator reads French or
Polish. Screenshots go to $BROWSER_SCREENSHOTS (else tmp)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.utils import translation

from learners.models import Learner
from lms_notify.bench_data import history
from lms_notify.testing import english_words

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 768}
ENGLISH_STATUSES = ("Omitted", "Sent", "Awaiting", "Submitted", "Refused", "reminder", "Notify run", "learner")


@pytest.fixture
def demo(settings, live_server):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = live_server.url
    call_command("seed_demo", verbosity=0)
    return live_server.url


def signed_in(chromium, demo, language):
    page = chromium.new_context(
        viewport=SCREEN, locale={"en": "en-GB", "fr": "fr-FR", "pl": "pl-PL"}[language]
    ).new_page()
    page.goto(demo + "/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def cut_off(page, table) -> list[str]:
    """Headers of `table` ending beyond the window or its own box: a column one must scroll sideways to read."""
    return page.evaluate(
        """(selector) => {
            const table = document.querySelector(selector);
            const right = Math.min(table.parentElement.getBoundingClientRect().right, window.innerWidth);
            return [...table.querySelectorAll('th')]
                .filter(th => th.getBoundingClientRect().right > right + 1)
                .map(th => th.innerText.trim());
        }""",
        table,
    )


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_the_timeline_fits_the_screen_and_speaks_the_administrators_language(chromium, demo, screenshots, language):
    chloe = Learner.objects.filter(is_active=True).order_by("pk").first()
    history(chloe, each=6)
    page = signed_in(chromium, demo, language)
    page.goto(demo + f"/admin/learners/learner/{chloe.pk}/change/")
    page.click("#timeline-link")
    page.wait_for_load_state()
    page.screenshot(path=screenshots / f"timeline-{language}.png", full_page=True)

    assert page.locator("#timeline tbody tr.entry").count() == 50
    assert page.locator("#timeline-pages a").count() == 1  # "Older"
    assert cut_off(page, "#timeline table") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    if language != "en":
        text = page.inner_text("#content")
        assert english_words(text) == []
        # The statuses and reasons, which no function word betrays.
        assert not [word for word in ENGLISH_STATUSES if word in page.inner_text("#timeline")]

    page.select_option("#id_kind", "message")
    page.click("#timeline-filters input[type=submit]")
    page.wait_for_load_state()
    kinds = set(page.eval_on_selector_all("#timeline tbody tr.entry", "rows => rows.map(r => r.className)"))
    assert kinds and all("entry-message" in k for k in kinds)


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_the_home_page_starts_with_what_needs_attention(chromium, demo, screenshots, language):
    page = signed_in(chromium, demo, language)
    page.goto(demo + "/admin/")
    page.screenshot(path=screenshots / f"home-attention-{language}.png", full_page=True)

    panel = page.locator("#attention")
    assert panel.locator("tr").count() == 6
    assert panel.locator("a").count() >= 5  # every figure links to its list (the scan too, for a superuser)
    assert cut_off(page, "#attention table") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    if language != "en":
        assert english_words(panel.inner_text()) == []

    if language != "en":
        names = page.eval_on_selector_all(
            "#content-main caption, #content-main th[scope=row]", "cells => cells.map(c => c.innerText)"
        )
        assert len(names) > 20 and english_names("\n".join(names)) == []

    panel.locator("a").first.click()
    page.wait_for_load_state()
    assert "status__exact=awaiting_confirmation" in page.url


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_admins_breadcrumbs_name_apps_and_models_in_the_administrators_language(chromium, demo, language):
    """Issue 20 asked for "Dodaj szablon wiadomości", not "Dodaj message template", and no "Messaging" trail."""
    page = signed_in(chromium, demo, language)
    for url in ("/admin/notifications/messagetemplate/add/", "/admin/learners/learner/add/", "/admin/programs/"):
        page.goto(demo + url)
        page.wait_for_load_state()
        assert english_names(page.inner_text(".breadcrumbs") + "\n" + page.inner_text("#content h1")) == []


def english_names(text: str) -> list[str]:
    """App and model names of the admin left in English in `text` (one per line or breadcrumb step); the same
    word in both languages ("messages", "sessions" in French) is not English left behind."""
    english = set()
    with translation.override("en"):
        for model in admin.site._registry:
            english |= {str(model._meta.verbose_name).lower(), str(model._meta.verbose_name_plural).lower()}
            english.add(str(apps.get_app_config(model._meta.app_label).verbose_name).lower())
    same = {"messages", "sessions", "invitations", "message", "invitation", "program", "programs"}
    steps = [step.strip().lower() for line in text.splitlines() for step in line.split("›")]
    words = {word for step in steps for word in [step] + [step.split(" ", 1)[-1]]}  # "Add learner": "learner"
    return sorted(words & english - same)
