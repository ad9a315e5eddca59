"""Seed 003 message words: every live-session event has its words in en, fr and pl, rendered from plain values."""

from datetime import date, datetime

import pytest
from django.template import Context, Template

from live_sessions import messages, services
from live_sessions.apps import MESSAGES_DIR
from live_sessions.models import LiveSession
from notifications import variables, wording
from notifications.templating import render_message

from .conftest import make_learner, make_session

# session.convocation keeps the wording notifications already had for it (seed 002).
EVENTS = sorted(folder.name for folder in MESSAGES_DIR.iterdir() if folder.is_dir())
LANGUAGES = ["en", "fr", "pl"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", EVENTS)
def test_seed_003_each_session_event_has_words_in_each_language_from_its_template_files(event, language):
    folder = MESSAGES_DIR / event / language
    for name in ("subject.txt", "body.txt", "body.html", "sms.txt"):
        assert (folder / name).is_file(), name
    words = wording.builtin_words(event, language)
    assert words.source("subject") == (folder / "subject.txt").read_text(encoding="utf-8").rstrip("\n")
    for part in ("subject", "body", "html_body", "sms_body"):
        Template(words.source(part))  # compiles


def plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool | datetime | date)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_seed_003_invitation_words_render_in_the_learners_language_from_plain_values(language):
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    learner = make_learner(language=language, timezone="Europe/Warsaw")
    (sl,) = services.add_learners(session, [learner])
    (message,) = messages.invitation_messages(session, [(sl, 1)])
    assert plain(message.context)
    assert set(message.context) <= set(variables.names_of(message.event))
    rendered = render_message(
        message.event, language, {"recipient_name": learner.full_name, **message.context}, tz=learner.timezone
    )
    assert {"en": "Invitation:", "fr": "Invitation :", "pl": "Zaproszenie:"}[language] in rendered.subject
    assert "09:00" in rendered.body  # 08:00 UTC in Warsaw
    assert message.context["accept_url"] in rendered.body
    assert "{{" not in rendered.body


@pytest.mark.django_db
def test_seed_003_manual_email_contexts_are_plain_values_and_documented():
    from live_sessions.emails import RULES

    session = make_session(status=LiveSession.Status.READY)
    (sl,) = services.add_learners(session, [make_learner()])
    for email_type, rule in RULES.items():
        context = services._email_context(session, sl, email_type, messages.link_lifetime(session))
        assert plain(context), email_type
        assert set(context) <= set(variables.names_of(rule.event)), email_type


def test_seed_003_only_the_services_write_status_history():
    """Every StatusChange row is written by live_sessions.services (the flow table's one door)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        written = "StatusChange.objects.create" in text or "StatusChange.objects.bulk_create" in text
        if written or "    StatusChange(" in text:
            writers.append(str(path.relative_to(root)))
    # The demo data command loads a fixture (learners already in their statuses, with their first history row);
    # the admin bench's data writes a long history at once, inside a transaction it rolls back.
    assert sorted(writers) == [
        "learners/management/commands/seed_demo.py",
        "live_sessions/services/status.py",
        "lms_notify/bench_data.py",
    ]


def test_seed_003_session_template_variables_render_without_a_model():
    context = Context({"session": {"title": "T", "starts_at": datetime(2030, 1, 1)}})
    assert Template("{{ session.title }} {{ session.starts_at|date:'Y' }}").render(context) == "T 2030"


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_seed_003_every_word_of_live_sessions_is_translated_and_compiled(language):
    """Learners and approvers read every page in their language: no empty translation, .mo newer than .po."""
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "locale" / language / "LC_MESSAGES"
    po = (folder / "django.po").read_text(encoding="utf-8")
    entries = [e for e in po.split("\n\n") if "msgid" in e and not e.lstrip().startswith("#~")]
    untranslated = [
        e
        for e in entries[1:]
        if re.search(r'^msgstr ""$', e, re.MULTILINE) and not re.search(r'^msgstr ""\n"', e, re.MULTILINE)
    ]
    assert untranslated == []
    assert "#, fuzzy" not in po
    assert (folder / "django.mo").stat().st_size > 1000
