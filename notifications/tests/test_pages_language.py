"""Pages reached from messages speak the reader's language (en, fr, pl) with dates in their time zone, and say
what happens next (seed 002 §I invitations, seed 004 inbox)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from learners.models import Invitation, Learner
from lms_notify.testing import english_words, visible_text
from notifications.links import make_action_url, make_inbox_url
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def make_learner(language, **kwargs):
    return Learner.objects.create(
        email=f"{language}@example.com",
        first_name={"en": "Ada", "fr": "Amélie", "pl": "Zofia"}[language],
        last_name="Nowak",
        language=language,
        timezone={"en": "Europe/London", "fr": "Europe/Paris", "pl": "Europe/Warsaw"}[language],
        consent_given_at=timezone.now(),
        **kwargs,
    )


def local(url):
    return url[len(settings.SITE_URL) :]


def invitation_path(learner, *, days=30):
    invitation = Invitation.objects.create(learner=learner, sent_at=timezone.now())
    url = make_action_url(purpose="invitation", obj=invitation, recipient=learner, expires_in=timedelta(days=days))
    return local(url)


@pytest.mark.parametrize(
    "language, question, accept, next_words",
    [
        ("fr", "vous êtes invité(e) à vous connecter", "Accepter", "Et maintenant ?"),
        ("pl", "zapraszamy Cię do zalogowania się", "Akceptuję", "Co dalej"),
    ],
)
def test_seed_002_the_invitation_page_and_its_answer_are_in_the_learners_language(
    client, language, question, accept, next_words
):
    path = invitation_path(make_learner(language))

    page = visible_text(client.get(path).content.decode())
    assert question in page and accept in page
    assert english_words(page) == []

    answered = client.post(path, {"decision": "accept"})
    page = visible_text(answered.content.decode())
    assert answered.status_code == 200 and next_words in page
    assert answered.context["next_step"]["url"]  # where to go next: a button
    assert english_words(page) == []


def test_an_expired_link_says_so_in_the_recipients_language_whatever_the_browsers(client):
    path = invitation_path(make_learner("pl"), days=1)

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    page = visible_text(response.content.decode())
    assert response.status_code == 410
    assert "Ten link wygasł" in page and english_words(page) == []


def test_a_tampered_link_names_nobody_so_its_page_follows_the_browsers_language(client):
    path = invitation_path(make_learner("pl"))

    response = client.get(path[:-3] + "xyz/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    page = visible_text(response.content.decode())
    assert response.status_code == 400
    assert "Ce lien n'est pas valide" in page and english_words(page) == []


def test_seed_004_the_inbox_is_in_the_owners_language_with_dates_in_their_time_zone(client):
    zofia = make_learner("pl")
    sent = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    Notification.objects.create(
        event="inbox.new_message",
        channel="inbox",
        recipient_learner=zofia,
        subject="Nowe szkolenie",
        body="Treść wiadomości",
        status=Notification.Status.SENT,
        sent_at=sent,
        dedupe_key="test:inbox:pl",
    )

    with time_machine.travel(sent + timedelta(hours=1), tick=False):
        client.get(local(make_inbox_url(recipient=zofia, issued_at=sent)))
        page = visible_text(client.get("/inbox/").content.decode())

    assert "Twoje wiadomości" in page and "Nowa" in page
    assert "2 marca 2026 09:00" in page  # 08:00 UTC is 09:00 in Warsaw
    assert english_words(page) == []
