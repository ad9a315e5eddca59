"""Issue 19 "Unsubscribe, the way mailbox providers require it" (RFC 8058): optional events (reminders) carry
List-Unsubscribe and List-Unsubscribe-Post; a POST to the signed URL opts the learner out of that family
without a login, on a page in her language; later messages of the family are omitted as "unsubscribed"; her
inbox page lets her come back; mandatory events are never unsubscribable.
"""

import re

import pytest
from django.core import mail
from django.utils import timezone

from learners.models import Learner
from notifications.links import make_inbox_url
from notifications.models import Notification, Unsubscription
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    mail.outbox = []


def learner(language="en"):
    return Learner.objects.create(
        email="ada@example.org", first_name="Ada", language=language, consent_given_at=timezone.now()
    )


def send(who, event, occurrence="1"):
    enqueue([OutgoingMessage(event=event, channel="email", recipient=Recipient(learner=who), occurrence=occurrence)])
    dispatch_outbox()
    return Notification.objects.get(event=event, recipient_learner=who, dedupe_key__endswith=f":{occurrence}")


def unsubscribe_path(message):
    header = message.extra_headers["List-Unsubscribe"]
    return re.fullmatch(r"<http://testserver(/unsubscribe/[^>]+/)>", header).group(1)


def test_a_reminder_carries_one_click_unsubscribe_headers_and_a_mandatory_event_none():
    ada = learner()
    send(ada, "elearning.reminder")
    send(ada, "program.assigned")
    send(ada, "session.convocation")
    reminder, assigned, convocation = mail.outbox
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_path(reminder)
    for mandatory in (assigned, convocation):
        assert "List-Unsubscribe" not in mandatory.extra_headers


def test_a_one_click_post_opts_her_out_and_later_reminders_are_omitted_as_unsubscribed(client):
    ada = learner()
    send(ada, "elearning.reminder")
    path = unsubscribe_path(mail.outbox[0])
    # What Gmail or Outlook.com send: a POST with this body, no cookie, no CSRF token.
    response = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Unsubscription.objects.filter(family="training_reminders").exists()
    later = send(ada, "notify.training_reminder", occurrence="2")
    assert (later.status, later.reason) == ("omitted", "unsubscribed")
    assert send(ada, "program.due", occurrence="3").status == "sent"


def test_opening_the_link_only_asks_in_her_language_and_changes_nothing(client):
    ada = learner(language="fr")
    send(ada, "session.attendance_reminder")
    page = client.get(unsubscribe_path(mail.outbox[0]))
    assert page.status_code == 200 and "Ne plus recevoir les rappels sur vos sessions" in page.content.decode()
    assert not Unsubscription.objects.exists()
    done = client.post(unsubscribe_path(mail.outbox[0]), {"decision": "unsubscribe"}).content.decode()
    assert "Vous êtes désabonnée" in done


def test_the_page_reads_polish_for_a_polish_learner(client):
    ada = learner(language="pl")
    send(ada, "invitation.reminder")
    done = client.post(unsubscribe_path(mail.outbox[0])).content.decode()
    assert "Wypisano Cię" in done


def test_attack_a_tampered_or_forged_unsubscribe_link_is_refused_and_changes_nothing(client):
    """A link edited to name another learner or another family (a mandatory one) must not work."""
    from django.core import signing

    ada = learner()
    send(ada, "elearning.reminder")
    path = unsubscribe_path(mail.outbox[0])
    assert client.post(path[:-3] + "xx/").status_code == 400
    forged = signing.dumps(["l999", "training_reminders"], salt="wrong-salt", compress=False)
    assert client.post(f"/unsubscribe/{forged}/").status_code == 400
    mandatory = signing.dumps([f"l{ada.pk}", "convocations"], salt="notifications.unsubscribe", compress=False)
    assert client.post(f"/unsubscribe/{mandatory}/").status_code == 400
    assert not Unsubscription.objects.exists()


def test_her_inbox_page_lists_what_she_left_and_lets_her_receive_it_again(client):
    ada = learner()
    send(ada, "elearning.reminder")
    client.post(unsubscribe_path(mail.outbox[0]))
    browser = client.__class__()
    browser.get(make_inbox_url(recipient=Recipient(learner=ada)).removeprefix("http://testserver"))
    page = browser.get("/inbox/").content.decode()
    assert "You unsubscribed from reminders about your training." in page
    browser.post("/inbox/preferences/", {"resubscribe": "training_reminders"})
    assert not Unsubscription.objects.exists()
    assert send(ada, "elearning.reminder", occurrence="2").status == "sent"


def test_a_reminder_queued_before_she_left_is_cancelled_at_send_time():
    from notifications import optout

    ada = learner()
    (queued,) = enqueue(
        [OutgoingMessage(event="elearning.reminder", channel="email", recipient=Recipient(learner=ada), occurrence="1")]
    )
    optout.unsubscribe(f"l{ada.pk}", "training_reminders")
    dispatch_outbox()
    queued.refresh_from_db()
    assert (queued.status, queued.reason) == ("cancelled", "unsubscribed")
