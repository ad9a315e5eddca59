"""The template editor's live preview as an administrator sees it (issue 20 "Done when"): real headless Chromium at
1366×768, the HTML pane shows the email (it was blank: its srcdoc stopped at `<html lang=`), nothing cut off, and
the preview speaks French or Polish to a French or Polish administrator. Screenshots go to $BROWSER_SCREENSHOTS."""

import pytest

from lms_notify.testing import english_words

from .test_attention_screens import SCREEN, demo, english_names, signed_in  # noqa: F401 (demo is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE_NAME = "Marie"


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_the_template_editor_previews_the_html_email_for_a_sample_learner(chromium, demo, screenshots, language):  # noqa: F811
    page = signed_in(chromium, demo, language)
    page.goto(demo + f"/admin/notifications/messagetemplate/add/?event=program.due&language={language}")
    page.wait_for_load_state()
    html = page.frame_locator("#preview-html").locator("body")
    html.get_by_text(SAMPLE_NAME, exact=False).first.wait_for(timeout=10_000)

    page.locator("#id_subject").fill("")
    page.locator("#id_subject").focus()
    page.locator('.variable-chip[data-insert="{{ learner.first_name }}"]').first.click()
    page.wait_for_function("document.getElementById('preview-subject').textContent.includes('Marie')")
    html.get_by_text("Workplace safety", exact=False).first.wait_for(timeout=10_000)  # the frame reloaded
    page.screenshot(path=screenshots / f"template-editor-{language}.png", full_page=True)
    page.locator("#preview-html").screenshot(path=screenshots / f"template-editor-html-{language}.png")

    assert page.inner_text("#preview-subject").strip() == SAMPLE_NAME
    assert SAMPLE_NAME in page.inner_text("#preview-text")
    assert "Workplace safety" in html.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    if language != "en":
        # The whole editor, not only the preview pane: labels, help texts, the variables and their descriptions.
        assert english_words(page.inner_text("#content")) == []
        assert english_names(page.inner_text(".breadcrumbs")) == []

    page.locator("#id_body").fill("Hello\n{{ learner.password }}")
    page.wait_for_function("!document.getElementById('preview-errors').hidden")
    assert "Line 2" in page.inner_text("#preview-errors")
