"""Issue 18 "The approver's pages speak in full sentences in the approver's language", and likewise the new
administrator's pages: the look before a mass send (publish, cancel, new dates: lookahead.html,
confirm_send.html, change_dates.html, admin/sending.py) and each learner's last message on the session page and
in the export were English only. Rendered as a French or Polish administrator's browser asks for them
(Accept-Language), none of their English sentences is left."""

from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from live_sessions import services
from live_sessions.models import LiveSession, SessionLearner

from .conftest import make_learner, make_session, received_the_calendar_file
from .test_admin_learners import session_page

pytestmark = pytest.mark.django_db
Status = SessionLearner.Status

# The English sentences of those pages, as they read before they could be translated.
ENGLISH = (
    "Who will be told",
    "Once you confirm, these messages are yours",
    "message will go.",
    "messages will go.",
    "will be omitted",
    "A sample message",
    "links masked",
    "Publishing makes the session ready",
    "Cancelling sets the session",
    "Show the sample with this reason",
    "Publish and send the invitations",
    "Cancel the session and send",
    "Back, nothing sent",
    "Publish “",
    "Cancel “",
    "Reason for the cancellation",
    "Sent to every learner told of the cancellation",
    "Change the dates",
    "Current dates:",
    "already has the calendar invitation",
    "Save the dates and notify",
    "the session's time zone",
    "Starts at",
    "Ends at",
    "Last message",
    "Nothing sent yet",
    "Awaiting confirmation:",
    "Omitted (",
)
SAID_IN = {"fr": ("Qui sera prévenu", "Dernier message"), "pl": ("Kto zostanie powiadomiony", "Ostatnia wiadomość")}


@pytest.fixture
def boss(client, admin_user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(admin_user)
    return client


def english_left(text):
    return [sentence for sentence in ENGLISH if sentence in text]


def a_session_with_learners(status, session_status):
    session = make_session(status=session_status)
    rows = [
        SessionLearner.objects.create(session=session, learner=make_learner(language=language), status=status)
        for language in ("en", "fr", "pl")
    ]
    rows.append(
        SessionLearner.objects.create(session=session, learner=make_learner(consent_given_at=None), status=status)
    )
    return session, rows


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_publish_confirmation_speaks_the_administrators_language(boss, language):
    session, _ = a_session_with_learners(Status.NOT_INVITED, LiveSession.Status.DRAFT)
    url = reverse("admin:live_sessions_livesession_publish", args=[session.pk])
    text = boss.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert SAID_IN[language][0] in text
    assert english_left(text) == []


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_cancel_confirmation_speaks_the_administrators_language(boss, language):
    session, _ = a_session_with_learners(Status.REGISTERED, LiveSession.Status.READY)
    url = reverse("admin:live_sessions_livesession_cancel", args=[session.pk])
    text = boss.post(url, {"reason": "Formateur malade", "preview": "1"}, HTTP_ACCEPT_LANGUAGE=language)
    text = text.content.decode()
    assert SAID_IN[language][0] in text
    assert english_left(text) == []


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_new_dates_confirmation_speaks_the_administrators_language(boss, language):
    session, rows = a_session_with_learners(Status.REGISTERED, LiveSession.Status.READY)
    received_the_calendar_file(*rows)
    url = reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    text = boss.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert SAID_IN[language][0] in text
    assert english_left(text) == []


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_last_message_on_the_session_page_and_in_the_export_speaks_the_administrators_language(boss, language):
    session, rows = a_session_with_learners(Status.NOT_INVITED, LiveSession.Status.DRAFT)
    services.publish(session)  # the system's own: held for confirmation, and omitted for the one without consent
    SessionLearner.objects.create(session=session, learner=make_learner(), status=Status.NOT_INVITED)

    text = boss.get(session_page(session), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert SAID_IN[language][1] in text
    assert english_left(text) == []

    with translation.override(language):
        data = services.export_learners(session, session.session_learners.all())
    cells = " ".join(str(c.value) for row in load_workbook(BytesIO(data)).active.iter_rows() for c in row)
    assert SAID_IN[language][1] in cells
    assert english_left(cells) == []
