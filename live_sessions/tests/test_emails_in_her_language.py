"""Issue 17 part II: the emails an administrator sends about a session (the seven send_email types, the
convocation, the new dates) reach French and Polish learners in their language. The form shows the English
words; an administrator who leaves them as shown sends each reader the built-in words of her language, and
words she wrote herself are rendered for each reader (her language, her time zone). Polish dates read
"4 marca 2030" (genitive), never "4 Marzec 2030".
"""

from datetime import timedelta

import pytest

from live_sessions import services
from live_sessions.emails import RULES
from live_sessions.models import SessionLearner
from live_sessions.services.participation import _CONVOCATION_RULE
from notifications.models import Notification
from notifications.templating import render_message

from .conftest import make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

S = SessionLearner.Status
LANGUAGES = ("en", "fr", "pl")
# STARTS is 4 March 2030, 08:00 UTC: 09:00 in Paris.
THE_DAY = {"en": "4 March 2030", "fr": "4 mars 2030", "pl": "4 marca 2030"}
STATUS_OF_TYPE = {
    "registration_form": S.REGISTERED,
    "attendance_reminder": S.REGISTERED,
    "follow_up": S.ATTENDED,
    "feedback_form": S.ATTENDED,
    "feedback_form_reminder": S.ATTENDED,
    "custom": S.REGISTERED,
    "waiting_learners_invitation": S.WAITING_LIST,
    "convocation": S.REGISTERED,
}


def _session_learner(language, status, **learner_fields):
    session = make_session(
        status="ready",
        calendar_integration=False,
        waiting_list_enabled=True,
        registration_form_url="https://forms.example.org/r",
        feedback_form_url="https://forms.example.org/f",
    )
    [session_learner] = services.add_learners(session, [make_learner(language=language, **learner_fields)])
    services.set_status([session_learner], status, actor=make_user("setup"))
    return session, session_learner


def _send_as_shown(session, session_learner, email_type):
    """What the admin page does when the administrator sends the words its form showed (English)."""
    admin = make_user()
    if email_type == "convocation":
        preview = services.preview_convocation(session, [session_learner])
        return services.convoke(
            session, [session_learner], actor=admin, subject=preview.subject_template, body=preview.body_template
        )
    if email_type == "feedback_form_reminder":
        services.send_email(session, [session_learner], "feedback_form", actor=admin)
    preview = services.preview_email(session, [session_learner], email_type)
    # A browser posts a textarea with CRLF line endings.
    return services.send_email(
        session,
        [session_learner],
        email_type,
        actor=admin,
        subject=preview.subject_template,
        body=preview.body_template.replace("\n", "\r\n"),
    )


def _expected(event, session, session_learner, email_type, language):
    rule = _CONVOCATION_RULE if email_type == "convocation" else RULES[email_type]
    context = services._email_context(session, session_learner, email_type, timedelta(days=30), rule)
    return render_message(event, language, context, tz=session_learner.learner.timezone)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("email_type", sorted(STATUS_OF_TYPE))
def test_an_administrators_session_email_left_as_shown_reaches_her_in_her_language(email_type, language):
    session, session_learner = _session_learner(language, STATUS_OF_TYPE[email_type])
    result = _send_as_shown(session, session_learner, email_type)
    assert result.sent == [session_learner]
    event = f"session.{email_type}"
    row = Notification.objects.get(event=event)
    expected = _expected(event, session, session_learner, email_type, language)
    greeting = row.body.split("\n")[0]
    assert (row.language, row.subject, greeting) == (language, expected.subject, expected.body.split("\n")[0])
    if language != "en":
        assert greeting != _expected(event, session, session_learner, email_type, "en").body.split("\n")[0]
    # The built-in words of her language keep their HTML, button included, not the text in a layout.
    assert row.html_body.count("<a ") >= expected.html_body.count("<a ") and row.html_body
    if "starts_at" in expected.body or email_type in ("attendance_reminder", "convocation"):
        assert THE_DAY[language] in row.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_new_dates_message_reaches_her_in_her_language(language):
    # Issue 18: new dates go only to the learners who hold the calendar file (selectors.calendar_holders),
    # so she is added to a ready session with its calendar invitation before registering.
    session = make_session(status="ready", calendar_integration=True)
    [session_learner] = services.add_learners(session, [make_learner(language=language)])
    services.set_status([session_learner], S.REGISTERED, actor=make_user("setup"))
    starts = session.starts_at + timedelta(days=7)
    services.reschedule(
        session, starts_at=starts, ends_at=starts + timedelta(hours=3), actor=make_user(), message="Salle 4"
    )
    row = Notification.objects.get(event="session.rescheduled")
    new_day = {"en": "11 March 2030", "fr": "11 mars 2030", "pl": "11 marca 2030"}[language]
    assert row.language == language and new_day in row.body and "Salle 4" in row.body
    assert row.status == Notification.Status.QUEUED  # the administrator's own, confirmed on the page: not held


@pytest.mark.parametrize("language", LANGUAGES)
def test_words_the_administrator_wrote_are_rendered_in_each_readers_language_and_time_zone(language):
    session, session_learner = _session_learner(language, S.REGISTERED, timezone="America/New_York")
    services.send_email(
        session,
        [session_learner],
        "custom",
        actor=make_user(),
        subject='On {{ session.starts_at|date:"j F Y" }}',
        body='{{ session.title }} at {{ session.starts_at|date:"H:i" }}',
    )
    row = Notification.objects.get(event="session.custom")
    assert row.subject == f"On {THE_DAY[language]}"
    assert "First aid workshop at 03:00" in row.body  # 08:00 UTC in New York (winter time until 10 March)


def test_a_subject_written_alone_keeps_the_built_in_body_of_her_language():
    """Issue 17: editing only the subject keeps the body, its HTML and its button, in the reader's language."""
    session, session_learner = _session_learner("pl", S.REGISTERED)
    preview = services.preview_email(session, [session_learner], "attendance_reminder")
    services.send_email(
        session,
        [session_learner],
        "attendance_reminder",
        actor=make_user(),
        subject="Do zobaczenia {{ session.starts_at|date:'j F' }}",
        body=preview.body_template,
    )
    row = Notification.objects.get(event="session.attendance_reminder")
    expected = _expected("session.attendance_reminder", session, session_learner, "attendance_reminder", "pl")
    assert row.subject == "Do zobaczenia 4 marca"
    assert row.body.split("\n")[0] == expected.body.split("\n")[0] and "<a " in row.html_body
