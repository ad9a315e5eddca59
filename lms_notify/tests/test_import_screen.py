"""The learner import with its consent column as an administrator does it (issue 20 "Done when": browser test of
the import with consent; seed 004: consent "marked on the platform"): real headless Chromium at 1366×768, the
preview shows the consent before and after and fits the screen, no English is left for a French or Polish
administrator, and confirming records the consent with the source "import"."""

import pytest

from learners.models import ConsentRecord, Learner
from lms_notify.testing import english_words

from .test_attention_screens import SCREEN, cut_off, demo, signed_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "email,first_name,last_name,phone,language,timezone,manager_email,groups,consent\n"
    "zofia.import@example.org,Zofia,Wójcik,,pl,Europe/Warsaw,,,2026-11-30\n"
    "chloe.import@example.org,Chloé,Martin,,fr,Europe/Paris,,,yes\n"
    "ada.import@example.org,Ada,Lovelace,,en,Europe/London,,,no\n"
)


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_an_administrator_imports_learners_with_their_consent_and_reads_the_preview_in_her_language(
    chromium,
    demo,  # noqa: F811 (the fixture imported above)
    screenshots,
    tmp_path,
    language,  # noqa: F811
):
    upload = tmp_path / "learners.csv"
    upload.write_text(FILE, encoding="utf-8")
    page = signed_in(chromium, demo, language)
    page.goto(demo + "/admin/learners/learner/import/")
    page.set_input_files("#id_import_file", str(upload))
    if page.locator("#id_format").count():
        page.select_option("#id_format", label="csv")
    page.click("#content form input[type=submit]")
    page.wait_for_load_state()
    page.screenshot(path=screenshots / f"import-preview-{language}.png", full_page=True)

    preview = page.locator("table.import-preview")
    assert preview.count() == 1, page.inner_text("#content")[:800]
    assert cut_off(page, "table.import-preview") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
    assert "Zofia" in preview.inner_text() and "Chloé" in preview.inner_text()
    if language != "en":
        assert english_words(page.inner_text("#content")) == []

    page.click("form input[type=submit][name=confirm], #content form[action*=process] input[type=submit]")
    page.wait_for_load_state()

    given = dict(ConsentRecord.objects.filter(source="import").values_list("learner__email", "given"))
    assert given == {"zofia.import@example.org": True, "chloe.import@example.org": True}
    assert Learner.objects.get(email="ada.import@example.org").consent_given_at is None
