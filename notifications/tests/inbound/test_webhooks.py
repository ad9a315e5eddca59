"""Issue 19: providers that push. Postmark's tracking and inbound webhooks, end to end through django-anymail
with the payloads Postmark documents (https://postmarkapp.com/developer/webhooks/webhooks-overview):
delivered / bounced / complained set the message's delivery state; bounces and complaints mark the address;
a wrong or missing webhook secret is refused and changes nothing.
"""

import base64
import json

import pytest
from django.utils import timezone

from learners.models import Learner
from notifications.inbound import samples
from notifications.models import InboundMessage, Notification, UndeliverableAddress
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue

pytestmark = pytest.mark.django_db

SECRET = "postmark:s3cret-webhook"
TRACKING = "/anymail/postmark/tracking/"
INBOUND = "/anymail/postmark/inbound/"


@pytest.fixture(autouse=True)
def _webhooks(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def sent_message(email="ada@example.org"):
    ada = Learner.objects.create(email=email, first_name="Ada", consent_given_at=timezone.now())
    enqueue([OutgoingMessage(event="program.due", channel="email", recipient=Recipient(learner=ada), occurrence="1")])
    dispatch_outbox()
    return Notification.objects.get(recipient_learner=ada)


def delivery(row):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": row.to,
        "Tag": "program.due",
        "DeliveredAt": "2030-02-01T09:31:02.9070259Z",
        "Details": "smtp;250 2.0.0 OK 1706779862 a1si123456wrx.0 - gsmtp",
        "Metadata": {"lms_notification": str(row.pk)},
    }


def bounce(row, kind="HardBounce", record="Bounce", event_id=4323372036854775807):
    return {
        "RecordType": record,
        "ID": event_id,
        "Type": kind,
        "TypeCode": {"HardBounce": 1, "SoftBounce": 4096, "SpamComplaint": 512}[kind],
        "Name": "Hard bounce",
        "Tag": "program.due",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": row.to,
        "From": "noreply@lms-notify.local",
        "BouncedAt": "2030-02-01T09:31:02.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Reminder",
        "Metadata": {"lms_notification": str(row.pk)},
    }


def post(client, url, payload, **headers):
    return client.post(url, json.dumps(payload), content_type="application/json", **headers)


def test_a_delivered_event_sets_the_message_delivery_state(client):
    row = sent_message()
    assert post(client, TRACKING, delivery(row), **auth()).status_code == 200
    row.refresh_from_db()
    assert row.delivery == "delivered" and row.delivery_at is not None


def test_a_hard_bounce_marks_the_address_and_the_message_bounced(client):
    row = sent_message()
    assert post(client, TRACKING, bounce(row), **auth()).status_code == 200
    row.refresh_from_db()
    assert row.delivery == "bounced"
    mark = UndeliverableAddress.objects.get()
    assert (mark.address, mark.notification_id) == ("ada@example.org", row.pk) and "5.1.1" in mark.diagnostic
    # Postmark retries a webhook until it gets 200: the second delivery of it changes nothing more.
    assert post(client, TRACKING, bounce(row), **auth()).status_code == 200
    assert InboundMessage.objects.filter(source="webhook").count() == 1


def test_a_spam_complaint_marks_the_address(client):
    row = sent_message()
    post(client, TRACKING, bounce(row, kind="SpamComplaint", record="SpamComplaint"), **auth())
    row.refresh_from_db()
    assert row.delivery == "complained"
    assert UndeliverableAddress.objects.get().cause == "complaint"


def test_a_soft_bounce_marks_nothing(client):
    row = sent_message()
    post(client, TRACKING, bounce(row, kind="SoftBounce"), **auth())
    assert not UndeliverableAddress.objects.exists()


@pytest.mark.parametrize("headers", [{}, auth("postmark:guessed"), auth("someone:s3cret-webhook")])
def test_attack_a_webhook_with_a_wrong_or_no_secret_is_refused_and_changes_nothing(client, headers):
    row = sent_message()
    response = post(client, TRACKING, bounce(row), **headers)
    assert response.status_code in (400, 401, 403)
    row.refresh_from_db()
    assert row.delivery == "" and not UndeliverableAddress.objects.exists()


def test_attack_without_a_configured_secret_the_webhooks_do_not_answer(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}
    row = sent_message()
    assert post(client, TRACKING, bounce(row)).status_code == 404
    assert not UndeliverableAddress.objects.exists()


def test_an_inbound_webhook_hands_the_email_to_the_inbound_door(client):
    """Postmark's inbound JSON with RawEmail (the "include raw email content" option)."""
    raw = samples.bounce("postfix", recipient="nobody@example.net").decode()
    payload = {
        "FromName": "Mail Delivery System",
        "From": "MAILER-DAEMON@mail.lms-notify.example",
        "FromFull": {"Email": "MAILER-DAEMON@mail.lms-notify.example", "Name": "Mail Delivery System"},
        "To": "lms@inbound.example.org",
        "ToFull": [{"Email": "lms@inbound.example.org", "Name": "", "MailboxHash": ""}],
        "Subject": "Undelivered Mail Returned to Sender",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "Date": "Fri, 1 Feb 2030 09:31:02 +0000",
        "TextBody": "",
        "Headers": [],
        "Attachments": [],
        "RawEmail": raw,
    }
    assert post(client, INBOUND, payload, **auth()).status_code == 200
    row = InboundMessage.objects.get()
    assert (row.kind, row.source) == ("bounce", "webhook")


def test_the_message_page_shows_the_delivery_state_the_provider_reported(client, admin_client):
    row = sent_message()
    post(client, TRACKING, bounce(row), **auth())
    page = admin_client.get(f"/admin/notifications/notification/{row.pk}/change/").content.decode()
    assert "Bounced" in page
