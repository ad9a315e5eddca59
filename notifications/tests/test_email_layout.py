"""Every email has one layout in each language (en, fr, pl): greeting, the point, details as a real list, one
button, a sign-off with the organisation's name and a footer saying why (issue "what people see"; seed 000
reminders link to the training and say "overdue since" when the learner's own due date has passed).

The event families: seed 000 the Notify reminders, seed 001 program and certification triggers, seed 002
invitations, training requests, convocations, date choices and e-learning, seed 003 the live-session emails,
seed 004 guardians and the inbox. The copies a learner's manager, guardian or staff member receives (seeds 001,
004) are written to them, about the learner."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from learners.models import Guardian, Learner
from lms_notify.testing import english_words, visible_text
from notifications.closing import MANDATORY
from notifications.links import make_action_url, make_inbox_url, signed_for, without_links_of_others
from notifications.models import Event, MessageTemplate, Notification, NotificationRule
from notifications.services import OutgoingMessage, Recipient, build_notification, notify_event
from notifications.templating import TemplateCache, builtin_parts, sample_context, template_errors
from notifications.variables import variables_of

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
    # Issue 19: the learner's copy of a mandatory email also says it cannot be unsubscribed.
    assert learner.body.endswith("because this training is assigned to you. " + MANDATORY)
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
    footer = footer_of(row.html_body)
    assert footer.endswith("because you are on the list of participants of this session. " + MANDATORY)


# --- Copies for the learner's manager, guardian or staff (seeds 001, 004) -----------------------------------

# Seed 001: each of these goes "to a user or their manager"; seed 004: to the learner's enabled guardians too.
COPIED_EVENTS = (
    "program.assigned",
    "program.completed",
    "program.course_set_completed",
    "program.course_set_due",
    "program.due",
    "program.unassigned",
    "certification.expiry",
    "certification.recertification_failed",
    "certification.window_open",
)
HELLO = {"en": "Hello", "fr": "Bonjour", "pl": "Dzień dobry"}
# Words of a sentence spoken to its reader: in a copy for someone else they would speak to the wrong person.
SECOND_PERSON = {
    "en": r"\b(you|your|my)\b",
    "fr": r"\b(vous|votre|vos|mon|ma|mes)\b",
    "pl": r"\b(Ci|Cię|Ciebie|Twój|Twoja|Twoje|Twojego|mój|moje|ukończyłeś)\b",
}
ACTION_LINK = "https://lms.example.org/a/"


def copied_context(event):
    """What a producer passes for `event` (programs.services, programs.scanners): the learner's plain values
    and the links the learner's own copy uses."""
    return {
        "learner": {"first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace"},
        "program": "Fire safety",
        "due_at": datetime(2026, 3, 19, 12, 0, tzinfo=UTC),
        "expires_at": datetime(2026, 4, 30, 12, 0, tzinfo=UTC),
        "completed_at": datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        "group": "",
        "course_set": {"title": "Evacuation", "due_at": datetime(2026, 3, 19, 12, 0, tzinfo=UTC)},
        "timing": "before",
        "days": 3,
        "window_opens_at": datetime(2026, 3, 31, 12, 0, tzinfo=UTC),
        "action_url": LEARNING,
        "dashboard_url": LEARNING,
    }


def content_of(text):
    """The words between the greeting and the sign-off of a text part."""
    return text.split("\n\n", 1)[1].rsplit("\n\n", 2)[0]


@pytest.fixture
def household(settings):
    """Ada, her manager Bo and her guardian Grace; every rule of the copied events tells all three."""

    def make(language):
        now = timezone.now()
        manager = Learner.objects.create(
            email="bo@example.com", first_name="Bo", last_name="Berg", language=language, consent_given_at=now
        )
        learner = Learner.objects.create(
            email="ada@example.com",
            first_name="Ada",
            last_name="Lovelace",
            language=language,
            consent_given_at=now,
            manager=manager,
        )
        Guardian.objects.create(learner=learner, name="Grace Lovelace", email="grace@example.com")
        for event in COPIED_EVENTS:
            NotificationRule.objects.create(
                event=event,
                channels=["email"],
                notify_learner=True,
                notify_manager=True,
                notify_guardians=True,
                requires_confirmation=False,
            )
        return learner

    return make


def copies(rows):
    """{"learner" | "manager" | "guardian": row} of one event's emails."""
    by_reader = {}
    for row in rows:
        if row.recipient_guardian_id is not None:
            by_reader["guardian"] = row
        else:
            by_reader["learner" if row.recipient_learner.first_name == "Ada" else "manager"] = row
    return by_reader


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "pl"])
@pytest.mark.parametrize("event", COPIED_EVENTS)
def test_a_managers_and_a_guardians_copy_greet_their_reader_and_speak_about_the_learner(household, event, language):
    """Seed 001 "to a user or their manager", seed 004 guardians, issue "what people see": the manager's and the
    guardian's copies greet their reader by name, say the point about the learner by name, speak to nobody as if
    they were the learner and offer no button meant for the learner; the learner's own copy speaks to her."""
    learner = household(language)
    hello = HELLO[language]

    rows = notify_event(event=event, learner=learner, occurrence="a1", context=copied_context(event))

    emails = copies(rows)
    assert set(emails) == {"learner", "manager", "guardian"}
    for reader, name in (("manager", "Bo Berg"), ("guardian", "Grace Lovelace")):
        row = emails[reader]
        page = visible_text(re.search(r"<main[^>]*>(.*?)</main>", row.html_body, re.S).group(1))
        assert row.body.startswith(f"{hello} {name},\n\n") and page.startswith(f"{hello} {name}, "), row.body
        assert f"{hello} Ada," not in row.body and f"{hello} Ada," not in page
        content = content_of(row.body)
        assert "Ada Lovelace" in content and "Fire safety" in content and "Ada Lovelace" in row.subject
        page_content = page.split(f"{name}, ", 1)[1]
        for words in (content, page_content, row.subject):
            assert not re.search(SECOND_PERSON[language], words, re.IGNORECASE), (reader, words)
        assert BUTTON not in row.html_body and LEARNING not in row.body and LEARNING not in row.html_body
        if language != "en":
            assert english_words(without_samples(content, copied_context(event))) == [], content
    mine = emails["learner"]
    assert mine.body.startswith(f"{hello} Ada,\n\n") and "Ada Lovelace" not in content_of(mine.body)
    # Her own button, to her training.
    assert mine.html_body.count(BUTTON) == 1 and LEARNING in mine.body


@pytest.mark.django_db
def test_the_learners_own_copy_reads_as_before():
    """Issue "what people see": the words a learner reads about her own training do not change."""
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())
    context = copied_context("program.assigned")

    for language, expected in (
        ("en", 'Hello Ada,\n\n"Fire safety" has been assigned to you. Please complete it by 19 March 2026.\n\n'),
        ("fr", "Bonjour Ada,\n\n« Fire safety » vous a été attribué. Merci de le terminer avant le 19 mars 2026.\n\n"),
        ("pl", "Dzień dobry Ada,\n\nPrzypisano Ci „Fire safety”. Ukończ je do 19 marca 2026.\n\n"),
    ):
        learner.language = language
        row = build_notification(
            OutgoingMessage(
                event="program.assigned",
                channel="email",
                recipient=Recipient(learner=learner),
                occurrence="a1",
                context=context,
            ),
            templates=TemplateCache(),
        )
        assert row.body.startswith(
            expected + {"en": "Start my training", "fr": "Commencer", "pl": "Rozpocznij"}[language]
        )
        assert (
            row.subject
            == {
                "en": "New training assigned: Fire safety",
                "fr": "Nouvelle formation attribuée : Fire safety",
                "pl": "Przypisano nowe szkolenie: Fire safety",
            }[language]
        )


@pytest.mark.django_db
def test_a_site_administrators_copy_speaks_about_the_learner_too():
    """Seed 004 site administrators: a member of staff told about a learner's certification reads about her."""
    learner = Learner.objects.create(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", consent_given_at=timezone.now()
    )
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x", first_name="Sam")
    NotificationRule.objects.create(
        event="certification.expiry",
        channels=["email"],
        notify_learner=False,
        notify_site_admins=True,
        requires_confirmation=False,
    )

    [row] = notify_event(
        event="certification.expiry", learner=learner, occurrence="a1", context=copied_context("certification.expiry")
    )

    assert row.recipient_user == admin
    assert row.body.startswith(
        'Hello Sam,\n\nThe certification "Fire safety" of Ada Lovelace expires on 30 April 2026.'
    )


@pytest.mark.django_db
@pytest.mark.parametrize("words", ["built-in", "edited"])
@pytest.mark.parametrize("link", ["action", "inbox"])
def test_a_managers_or_guardians_copy_never_carries_the_learners_personal_link(household, settings, link, words):
    """Seed 001 manager copies, seed 004 guardians: a link made for the learner (an answer link, or her inbox
    link that opens without a password) is the whole authority of whoever opens it. Copied into her manager's or
    guardian's email it would let them act as her: their copies go without it, hers keeps it, even when an
    administrator's words print the link to every reader."""
    settings.SITE_URL = "https://lms.example.org"
    learner = household("en")
    if words == "edited":
        MessageTemplate.objects.create(
            event="program.assigned", language="en", subject="{{ program }}", body="Open: {{ action_url }}"
        )
    if link == "action":
        personal = make_action_url(purpose="invitation", obj=1, recipient=Recipient(learner=learner))
    else:
        personal = make_inbox_url(recipient=Recipient(learner=learner))
    context = {**copied_context("program.assigned"), "action_url": personal}

    emails = copies(notify_event(event="program.assigned", learner=learner, occurrence="a1", context=context))

    assert personal in emails["learner"].body and personal in emails["learner"].html_body
    for reader in ("manager", "guardian"):
        row = emails[reader]
        assert "/a/" not in row.body + row.html_body and "/inbox/open/" not in row.body + row.html_body
        assert BUTTON not in row.html_body


@pytest.mark.django_db
def test_what_a_manager_is_given_today_is_no_personal_link(household):
    """Seed 001: assigning a program tells the learner and her manager; the manager's copy carries no link made
    for the learner (the producers pass the site's address, the same for everyone) and no button of hers."""
    from programs import services
    from programs.models import Program

    learner = household("en")

    services.assign(learner, Program.objects.create(title="Fire safety"), due_at=timezone.now() + timedelta(days=9))

    row = copies(Notification.objects.filter(event="program.assigned"))["manager"]
    assert row.body.startswith('Hello Bo Berg,\n\nAda Lovelace has been assigned "Fire safety", due ')
    assert "http" not in row.body and BUTTON not in row.html_body


def test_a_link_names_whom_it_was_made_for(settings):
    """The check behind the test above: our action and inbox links name their recipient; other links name no one;
    only links made for someone else are taken out of a copy."""
    settings.SITE_URL = "https://lms.example.org"
    mine = make_action_url(purpose="invitation", obj=1, recipient="l1")
    theirs = make_inbox_url(recipient="g2")

    assert signed_for(mine) == "l1" and signed_for(theirs) == "g2"
    assert signed_for("https://lms.example.org/") is None and signed_for("https://elsewhere.example.org/a/x/") is None
    assert signed_for("https://lms.example.org/a/forged/") == ""
    context = {"action_url": mine, "inbox_url": theirs, "dashboard_url": "https://lms.example.org/", "program": "X"}
    assert without_links_of_others(context, "g2") == {**context, "action_url": ""}
    assert without_links_of_others(context, "u3") == {**context, "action_url": "", "inbox_url": ""}


@pytest.mark.django_db
def test_every_template_may_ask_who_reads_it():
    """Seed 002 editable templates: `reader` is offered to every event and described, so an administrator's words
    can speak to the learner or about her too."""
    for event in Event.values:
        assert dict(variables_of(event))["reader"], event
    parts = {
        "subject": "{{ program }}",
        "body": '{% if reader == "learner" %}Your {{ program }}'
        "{% else %}{{ learner.full_name }}: {{ program }}{% endif %}",
    }
    assert template_errors("program.due", "en", parts) == {}
    MessageTemplate.objects.create(event="program.due", language="en", **parts)
    context = sample_context("program.due", now=NOW)

    assert (
        TemplateCache()
        .render("program.due", "en", context, audience="guardian")
        .body.startswith("Marie Curie: Workplace safety")
    )
    assert TemplateCache().render("program.due", "en", context).body.startswith("Your Workplace safety")
