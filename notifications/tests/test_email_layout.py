"""Every email has one layout in each language (en, fr, pl): greeting, the point, details as a real list, one
button, a sign-off with the organisation's name and a footer saying why (issue "what people see"; seed 000
reminders link to the training and say "overdue since" when the learner's own due date has passed)."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from lms_notify.testing import english_words, visible_text
from notifications.models import Event
from notifications.templating import TemplateCache, sample_context

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
LEARNING = "https://learn.example.org/"

REMINDER = {
    "learner": {"first_name": "Zofia", "last_name": "Nowak", "full_name": "Zofia Nowak", "email": "z@example.com"},
    "recipient_name": "Zofia Nowak",
    "event_label": "Reminder",
    "action_url": LEARNING,
    "complete": ({"title": "Ethics", "completed_at": NOW - timedelta(days=20)},),
    "incomplete": (
        {"title": "Fire safety", "due_at": NOW - timedelta(days=5), "overdue": True, "url": LEARNING},
        {"title": "First aid", "due_at": NOW + timedelta(days=9), "overdue": False, "url": LEARNING},
    ),
}

WORDS = {
    "en": {"hello": "Hello Zofia", "overdue": "overdue since 5 March 2026", "due": "due 19 March 2026",
           "button": "Continue my training", "signoff": "Kind regards,", "footer": "You receive this email from"},
    "fr": {"hello": "Bonjour Zofia", "overdue": "en retard depuis le 5 mars 2026", "due": "échéance le 19 mars 2026",
           "button": "Continuer ma formation", "signoff": "Cordialement,", "footer": "Vous recevez cet e-mail de"},
    "pl": {"hello": "Dzień dobry Zofia", "overdue": "zaległe od 5 marca 2026", "due": "termin: 19 marca 2026",
           "button": "Kontynuuj szkolenie", "signoff": "Z pozdrowieniami", "footer": "Otrzymujesz tę wiadomość od"},
}


@pytest.fixture(autouse=True)
def organisation(settings):
    settings.ORGANISATION_NAME = "Northwind Training"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_seed_000_a_training_reminder_reads_as_one_layout_in_each_language(language):
    words = WORDS[language]

    rendered = TemplateCache().render("notify.training_reminder", language, REMINDER, tz="Europe/Warsaw")

    html, text = rendered.html_body, rendered.body
    page = visible_text(html)
    assert page.index(words["hello"]) < page.index(words["overdue"]) < page.index(words["signoff"])
    # The details are a real list, each item linking to the training; the overdue one says since when.
    assert re.search(r"<ul><li><a href=\"https://learn.example.org/\">Fire safety</a>", html)
    assert "<br>- " not in html and words["overdue"] in page and words["due"] in page
    # One clear button, a sign-off with the organisation's name, a footer saying why.
    assert html.count(f'<a href="{LEARNING}" style=') == 1 and words["button"] in page
    assert f"{words['signoff']}<br>Northwind Training" in html
    assert words["footer"] in page and "Northwind Training" in page.split(words["footer"])[1]
    # The text part stays readable: no markup, one line per training, the same words, the same sign-off.
    [line] = [line for line in text.splitlines() if line.startswith("- Fire safety")]
    assert "<" not in text and line.startswith(f"- Fire safety ({words['overdue']})") and line.endswith(LEARNING)
    assert text.rstrip().endswith("Northwind Training")
    if language != "en":
        assert english_words(page.replace("Fire safety", "").replace("First aid", "")) == []


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_every_email_of_every_event_has_the_sign_off_and_the_footer(language):
    """Whatever the event, its HTML part carries the organisation's sign-off and why the recipient gets it."""
    templates = TemplateCache()
    for event in Event.values:
        html = templates.render(event, language, sample_context(event, now=NOW), tz="Europe/Paris").html_body
        page = visible_text(html)
        assert "Northwind Training" in page, event
        assert WORDS[language]["footer"] in page, event
        assert "<br>- " not in html, event
