"""Every email has one layout in each language (en, fr, pl): greeting, the point, details as a real list, one
button, a sign-off with the organisation's name and a footer saying why (issue "what people see"; seed 000
reminders link to the training and say "overdue since" when the learner's own due date has passed).

The event families: seed 000 the Notify reminders, seed 001 program and certification triggers, seed 002
invitations, training requests, convocations, date choices and e-learning, seed 003 the live-session emails,
seed 004 guardians and the inbox."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from learners.models import Guardian, Learner
from lms_notify.testing import english_words, visible_text
from notifications.models import Event, MessageTemplate, NotificationRule
from notifications.services import OutgoingMessage, Recipient, build_notification, notify_event
from notifications.templating import TemplateCache, builtin_parts, sample_context, template_errors

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
    "en": {
        "hello": "Hello Zofia",
        "overdue": "overdue since 5 March 2026",
        "due": "due 19 March 2026",
        "button": "Continue my training",
        "signoff": "Kind regards,",
        "footer": "You receive this email from",
    },
    "fr": {
        "hello": "Bonjour Zofia",
        "overdue": "en retard depuis le 5 mars 2026",
        "due": "échéance le 19 mars 2026",
        "button": "Continuer ma formation",
        "signoff": "Cordialement,",
        "footer": "Vous recevez cet e-mail de",
    },
    "pl": {
        "hello": "Dzień dobry Zofia",
        "overdue": "zaległe od 5 marca 2026",
        "due": "termin: 19 marca 2026",
        "button": "Kontynuuj szkolenie",
        "signoff": "Z pozdrowieniami",
        "footer": "Otrzymujesz tę wiadomość od",
    },
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
    assert text.endswith(f"{words['signoff']}\nNorthwind Training\n\n{footer_of(html)}")
    if language != "en":
        assert english_words(page.replace("Fire safety", "").replace("First aid", "")) == []


BUTTON = 'style="display:inline-block;padding:10px 18px'
# Events whose emails carry details (dates and places, sessions to choose from, training lists): a real list.
WITH_DETAILS = {
    "notify.training_reminder": 2,
    "notify.missing_training": 2,
    "session.convocation": 2,
    "session.invitation": 2,
    "session.attendance_reminder": 2,
    "session.rescheduled": 2,
    "session.approval_request": 2,
    "session.waiting_learners_invitation": 2,
    "participation.confirmed": 3,
    "participation.request": 2,
    "participation.request_after_approval": 2,
    "participation.reminder": 2,
}


def footer_of(html):
    return visible_text(re.search(r"<footer[^>]*>(.*?)</footer>", html, re.S).group(1))


def sample_words(value):
    """The sample values an email prints (titles, places: English in every language), longest first."""
    if isinstance(value, dict):
        return [word for item in value.values() for word in sample_words(item)]
    if isinstance(value, list | tuple):
        return [word for item in value for word in sample_words(item)]
    return [value] if isinstance(value, str) else []


def without_samples(text, context):
    for word in sorted(sample_words(context), key=len, reverse=True):
        text = text.replace(word, " ")
    return text


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "pl"])
@pytest.mark.parametrize("event", Event.values)
def test_every_email_of_every_event_has_the_one_layout(event, language):
    """What people see, for each event of seeds 000-004: a greeting, the point, the details as a real list, at
    most one button, the organisation's sign-off and a footer saying why; the text part says the same without
    markup and ends with the same sign-off and footer; French and Polish emails hold no English sentence."""
    words = WORDS[language]
    context = sample_context(event, now=NOW)

    rendered = TemplateCache().render(event, language, context, tz="Europe/Paris")

    html, text = rendered.html_body, rendered.body
    main = visible_text(re.search(r"<main[^>]*>(.*?)</main>", html, re.S).group(1))
    assert main.startswith(words["hello"].split(" Zofia")[0] + " "), main
    assert "<br>- " not in html
    if event in WITH_DETAILS:
        items = re.findall(r"<li>", html)
        assert "<ul>" in html and len(items) >= WITH_DETAILS[event], html
    assert html.count(BUTTON) <= 1
    assert f"{words['signoff']}<br>Northwind Training" in html
    footer = footer_of(html)
    assert footer.startswith(words["footer"]) and "Northwind Training" in footer
    assert main.endswith(f"{words['signoff']} Northwind Training")
    assert not re.search(r"<[a-z/!]", text)
    assert text.endswith(f"\n\n{words['signoff']}\nNorthwind Training\n\n{footer}")
    assert text.count(words["signoff"]) == 1 and rendered.footer == footer
    if language != "en":
        for part in (rendered.subject, visible_text(html), text):
            assert english_words(without_samples(part, context)) == [], (event, part)


@pytest.mark.django_db
@pytest.mark.parametrize("event", Event.values)
def test_an_email_without_its_optional_link_still_reads_whole(event):
    """Seed 001 date triggers pass a dashboard link and no action link; any event may come without one: the
    email still renders, with no button to nowhere, and signs off."""
    context = {name: value for name, value in sample_context(event, now=NOW).items() if name != "action_url"}

    rendered = TemplateCache().render(event, "pl", context, tz="Europe/Warsaw")

    assert f'<a href="" {BUTTON}' not in rendered.html_body
    assert rendered.body.endswith(footer_of(rendered.html_body))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_the_built_in_words_an_administrator_starts_from_can_be_saved(language):
    """Seed 002 "templates are editable": the built-in words offered to edit pass the checks of a save."""
    for event in Event.values:
        assert template_errors(event, language, builtin_parts(event, language)) == {}, event


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_an_administrators_edited_template_still_signs_off_and_says_why_once(language):
    """Issue "what people see": an administrator's words get the same sign-off and footer in both parts, and
    words written when the text signed off itself are not signed off twice."""
    words = WORDS[language]
    MessageTemplate.objects.create(
        event="program.due",
        language=language,
        subject="{{ program }}",
        body="{{ learner.first_name }}: {{ program }}.",
        html_body="<p>{{ learner.first_name }}: <b>{{ program }}</b>.</p>",
    )
    MessageTemplate.objects.create(
        event="notify.invitation",
        language=language,
        subject="{{ learner.first_name }}",
        body=f"{{{{ learner.first_name }}}}: {{{{ action_url }}}}\n\n{words['signoff']}\n{{{{ organisation_name }}}}",
    )
    templates = TemplateCache()

    for event, point in (("program.due", "Marie: Workplace safety."), ("notify.invitation", "Marie: http")):
        rendered = templates.render(event, language, sample_context(event, now=NOW), tz="Europe/Paris")
        html, text = rendered.html_body, rendered.body
        footer = footer_of(html)
        assert footer.startswith(words["footer"]) and "Northwind Training" in footer
        assert text.startswith(point) and text.endswith(f"{words['signoff']}\nNorthwind Training\n\n{footer}")
        assert text.count(words["signoff"]) == 1 and html.count(words["signoff"]) == 1
        assert f"{words['signoff']}<br>Northwind Training" in html
    assert (
        "<p>Marie: <b>Workplace safety</b>.</p>"
        in templates.render("program.due", language, sample_context("program.due", now=NOW)).html_body
    )


@pytest.fixture
def family():
    now = timezone.now()
    manager = Learner.objects.create(
        email="boss@example.com", first_name="Bo", last_name="Ss", language="fr", consent_given_at=now
    )
    learner = Learner.objects.create(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", consent_given_at=now, manager=manager
    )
    Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com")
    return learner


@pytest.mark.django_db
def test_the_footer_says_why_each_reader_gets_the_email(family):
    """Seed 001 "a user or their manager" and seed 004 guardians: the learner reads that the training is
    assigned to them, the manager that they manage the learner (in the manager's own language), the guardian
    that they are the learner's parent or guardian; an inbox copy goes without the email's footer."""
    NotificationRule.objects.create(
        event="program.due",
        channels=["email", "inbox"],
        notify_learner=True,
        notify_manager=True,
        notify_guardians=True,
        requires_confirmation=False,
    )

    rows = notify_event(event="program.due", learner=family, occurrence="a1", context={"program": "Safety"})

    emails = {
        (row.recipient_guardian_id is not None, row.recipient_learner.first_name): row
        for row in rows
        if row.channel == "email"
    }
    learner, guardian, manager = emails[(False, "Ada")], emails[(True, "Ada")], emails[(False, "Bo")]
    assert learner.body.endswith("because this training is assigned to you.")
    assert guardian.body.endswith("because you are a parent or guardian of Ada Lovelace.")
    assert manager.body.endswith("parce que Ada Lovelace fait partie de votre équipe.")
    assert footer_of(manager.html_body) == manager.body.rsplit("\n\n", 1)[1]
    for row in rows:
        if row.channel == "inbox":
            assert row.body.endswith("\nNorthwind Training") and "You receive" not in row.body, row.body


@pytest.mark.django_db
def test_an_email_an_administrator_writes_for_one_send_is_laid_out_as_every_other():
    """Seed 002 §III-A: an edited convocation keeps the administrator's words, inside the same layout, signed
    off, with the footer saying why."""
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())
    row = build_notification(
        OutgoingMessage(
            event="session.convocation",
            channel="email",
            recipient=Recipient(learner=learner),
            occurrence="x",
            subject="Be there",
            body="Bring shoes: https://example.org/map",
        ),
        templates=TemplateCache(),
    )

    assert row.body.startswith("Bring shoes: https://example.org/map\n\nKind regards,\nNorthwind Training\n\n")
    assert row.html_body.startswith("<!DOCTYPE html>") and '<a href="https://example.org/map"' in row.html_body
    assert "Kind regards,<br>Northwind Training" in row.html_body
    assert footer_of(row.html_body) == row.body.rsplit("\n\n", 1)[1]
    assert footer_of(row.html_body).endswith("because you are on the list of participants of this session.")
