"""Issue 18 "Approval, truthfully": a request waiting for approval is said to be waiting, in the learner's
language, with no calendar invitation; the approver's decision reaches the learner; the approver's page speaks
in full sentences in the approver's language."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from learners.models import Learner
from live_sessions import messages, services
from live_sessions.models import LiveSession, SessionLearner
from notifications.links import make_action_url
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import STARTS, make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

S = SessionLearner.Status
ASKED = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

WAITING_WORDS = {
    "en": "is waiting for approval",
    "fr": "est en attente d’approbation",
    "pl": "oczekuje na zatwierdzenie",
}


def path(purpose, obj, recipient):
    url = make_action_url(purpose=purpose, obj=obj.pk, recipient=recipient, expires_in=timedelta(days=30))
    return url[len(settings.SITE_URL) :]


def approval_session(approver=None, **fields):
    return make_session(
        status=LiveSession.Status.READY, requires_approval=True, approver=approver or make_user("approver"), **fields
    )


def sent_mail():
    mail.outbox.clear()
    dispatch_outbox()
    return list(mail.outbox)


def calendar_methods(email) -> list[bytes]:
    return [
        part.get_payload(decode=True).split(b"METHOD:")[1].split(b"\r\n")[0]
        for part in email.message().walk()
        if part.get_content_type() == "text/calendar"
    ]


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_choosing_a_date_that_requires_approval_says_the_request_is_waiting_and_sends_no_invitation(client, language):
    """Issue 18: Zofia's page and email said "Twój udział został potwierdzony" with a CONFIRMED invitation."""
    session = approval_session()
    learner = make_learner(language=language, first_name="Zofia", last_name="Wójcik")
    with time_machine.travel(ASKED, tick=False):
        request = services.request_participation(learner, [session])
        sent_mail()
        response = client.post(
            path(messages.PARTICIPATION_PURPOSE, request, f"l{learner.pk}"), {"decision": str(session.pk)}
        )
        page = response.content.decode()
        assert response.status_code == 200 and WAITING_WORDS[language] in page
        emails = [e for e in sent_mail() if e.to == [learner.email]]
    assert SessionLearner.objects.get(session=session, learner=learner).status == S.NEEDS_APPROVAL
    (email,) = emails
    assert WAITING_WORDS[language] in email.body
    assert "potwierdzony" not in email.body and calendar_methods(email) == []
    assert not Notification.objects.filter(event="participation.confirmed").exists()


def test_registering_for_a_session_that_requires_approval_tells_the_learner_she_waits_for_approval():
    session = approval_session()
    learner = make_learner(language="fr")
    with time_machine.travel(ASKED, tick=False):
        services.register(session, learner)
        emails = {e.to[0]: e for e in sent_mail()}
    assert WAITING_WORDS["fr"] in emails[learner.email].body and calendar_methods(emails[learner.email]) == []


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_an_approval_reaches_the_learner_with_the_calendar_invitation(language):
    session = approval_session()
    learner = make_learner(language=language)
    with time_machine.travel(ASKED, tick=False):
        sl = services.register(session, learner)
        sent_mail()
        services.decide_approval(sl, approve=True, actor=session.approver)
        (email,) = sent_mail()
    assert email.to == [learner.email]
    assert {"en": "approved", "fr": "approuvée", "pl": "zatwierdzona"}[language] in email.body
    assert calendar_methods(email) == [b"REQUEST"]


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_a_decline_reaches_the_learner_and_cancels_the_calendar_invitation_she_had_been_sent(language):
    """Issue 18: "The approver declined: Zofia heard nothing, and her calendar kept the event"."""
    session = approval_session()
    learner = make_learner(language=language)
    with time_machine.travel(ASKED, tick=False):
        sl = services.register(session, learner)
        # An invitation sent before this fix (the date choice's "confirmed") sits in her calendar.
        Notification.objects.create(
            event="participation.confirmed",
            channel="email",
            recipient_learner=learner,
            to=learner.email,
            dedupe_key=f"old-confirmation-{sl.pk}",
            status=Notification.Status.SENT,
            attachments=[{"filename": "invite.ics"}],
            context={"session_learner": sl.pk},
        )
        services.decide_approval(sl, approve=False, actor=session.approver)
        (email,) = sent_mail()
    assert {"en": "declined", "fr": "refusée", "pl": "odrzucona"}[language] in email.body
    assert calendar_methods(email) == [b"CANCEL"]


def test_a_decline_without_an_earlier_invitation_sends_no_calendar_file():
    session = approval_session()
    with time_machine.travel(ASKED, tick=False):
        sl = services.register(session, make_learner())
        sent_mail()
        services.decide_approval(sl, approve=False, actor=session.approver)
        (email,) = sent_mail()
    assert "declined" in email.body and calendar_methods(email) == []


@pytest.mark.parametrize(
    ("language", "decision", "words"),
    [
        ("en", "decline", "You declined the request. Zofia Wójcik will not attend"),
        ("pl", "decline", "Prośba została przez Ciebie odrzucona. Zofia Wójcik nie weźmie udziału"),
        ("fr", "approve", "Vous avez approuvé la demande. Zofia Wójcik est inscrit·e"),
    ],
)
def test_the_approvers_page_speaks_in_full_sentences_in_the_approvers_language(client, language, decision, words):
    """Issue 18: the approver's page read "Zofia Wójcik is approval declined."."""
    approver = make_user("approver")
    Learner.objects.create(email="approver@example.com", first_name="Jan", language=language, user=approver)
    session = approval_session(approver)
    with time_machine.travel(ASKED, tick=False):
        sl = services.register(session, make_learner(first_name="Zofia", last_name="Wójcik"))
        page = client.post(path(messages.APPROVAL_PURPOSE, sl, f"u{approver.pk}"), {"decision": decision})
    content = page.content.decode()
    assert words in content
    assert "is approval declined" not in content


def test_an_approval_when_the_session_is_full_puts_the_learner_on_the_waiting_list_and_tells_her_position():
    session = approval_session(capacity=1, waiting_list_enabled=True)
    with time_machine.travel(STARTS - timedelta(days=20), tick=False):
        first = services.register(session, make_learner())
        second = services.register(session, make_learner())
        services.decide_approval(first, approve=True, actor=session.approver)
        sent_mail()
        services.decide_approval(second, approve=True, actor=session.approver)
        (email,) = sent_mail()
    assert SessionLearner.objects.get(pk=second.pk).status == S.WAITING_LIST
    assert "position 1" in email.body and "approved" in email.body and calendar_methods(email) == []
