"""Built-in words as template files (issue 8): per event and language, English and generic fallbacks,
one base layout for every HTML email, an administrator's template over all of it."""

import pytest

from notifications import wording
from notifications.models import MessageTemplate
from notifications.templating import TemplateCache

pytestmark = pytest.mark.django_db


@pytest.fixture
def words_dir(settings, tmp_path):
    """An extra templates directory, searched before the apps' (as a project's own words would be)."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    def write(event, language, **parts):
        folder = tmp_path / "messages" / event / language
        folder.mkdir(parents=True, exist_ok=True)
        for part, text in parts.items():
            (folder / wording.PARTS[part]).write_text(text, encoding="utf-8")

    return write


def render(event, language, **context):
    return TemplateCache().render(event, language, {"recipient_name": "Ada", "event_label": "Due", **context})


def test_the_learners_language_picks_the_files_and_english_fills_in(words_dir):
    """Seed 002: the learner's language, else English."""
    words_dir("demo.event", "en", subject="Due: {{ program }}", body="Hello {{ recipient_name }}")
    words_dir("demo.event", "fr", subject="Échéance : {{ program }}", body="Bonjour {{ recipient_name }}")

    assert render("demo.event", "fr", program="Safety").subject == "Échéance : Safety"
    assert render("demo.event", "pl", program="Safety").subject == "Due: Safety"


def test_an_event_without_words_gets_the_generic_ones():
    """A new event code speaks, generically and in the learner's language, before its words are written."""
    rendered = render("demo.unwritten", "pl")
    assert (rendered.subject, rendered.body.splitlines()[0]) == ("Due", "Dzień dobry Ada,")
    assert render("demo.unwritten", "en").body.startswith("Hello Ada,")
    assert wording.builtin_words("demo.unwritten", "pl").is_generic


def test_every_html_email_has_the_base_layout_with_why_the_recipient_gets_it(words_dir):
    """Seed 004: one layout, header, sign-off and a footer saying why; links in the text become links."""
    words_dir("demo.event", "en", subject="S", body="See https://lms.example.org/a/1/")

    html = render("demo.event", "en").html_body

    assert html.startswith("<!DOCTYPE html>") and "Kind regards,<br>LMS Notify" in html
    assert "You receive this email from LMS Notify because it concerns your training." in html
    assert '<a href="https://lms.example.org/a/1/" rel="nofollow">https://lms.example.org/a/1/</a>' in html


def test_a_body_html_file_extends_the_layout_and_escapes_values(words_dir):
    """An event that wants richer HTML writes body.html; values are escaped there."""
    words_dir(
        "demo.event",
        "en",
        subject="S",
        body="T",
        html_body='{% extends "messages/base_email.html" %}{% block content %}<h1>{{ program }}</h1>{% endblock %}',
    )

    html = render("demo.event", "en", program="<b>Safety</b>").html_body

    assert "<h1>&lt;b&gt;Safety&lt;/b&gt;</h1>" in html and "Kind regards,<br>LMS Notify" in html


def test_sms_falls_back_to_the_subject(words_dir):
    words_dir("demo.event", "en", subject="Due soon", body="Body")
    assert render("demo.event", "en").sms_body == "Due soon"


def test_an_administrators_template_wins_over_the_files_and_keeps_the_layout(words_dir):
    """Seed 002: templates are editable; the edited row is what recipients get."""
    words_dir("program.due", "fr", subject="From the file", body="File body")
    MessageTemplate.objects.create(event="program.due", language="fr", subject="Edited", body="Edited body")

    rendered = render("program.due", "fr")

    assert (rendered.subject, rendered.body) == (
        "Edited",
        "Edited body\n\nCordialement,\nLMS Notify\n\n"
        "Vous recevez cet e-mail de LMS Notify parce que cette formation vous est attribuée. "
        "Cet e-mail fait partie de votre formation : il n’est pas possible de s’en désabonner.",  # issue 19
    )
    assert "<p>Edited body</p>" in rendered.html_body and "Cordialement,<br>LMS Notify" in rendered.html_body


def test_a_body_html_fragment_is_wrapped_by_the_layout(words_dir):
    """Plain HTML content in body.html (live sessions' messages) still gets header, sign-off and footer."""
    words_dir("demo.event", "en", subject="S", body="T", html_body="<p>Choose: {{ program }}</p>")

    html = render("demo.event", "en", program="<i>A</i>").html_body

    assert "<p>Choose: &lt;i&gt;A&lt;/i&gt;</p>" in html and "</footer>" in html
