"""Issue 19: "The organiser address of calendar invitations and the bounce address (Return-Path) are settings
that point at that mailbox". Checked on the wire: a real SMTP server (aiosmtpd) records the envelope sender."""

import socket

import pytest
from django.utils import timezone

from learners.models import Learner
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def test_mail_is_sent_with_the_inbound_mailbox_as_envelope_sender_and_our_from_header(settings, smtp_server):
    recorder, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Northwind Training <noreply@northwind.example>"
    settings.INBOUND_ADDRESS = "bounces@inbound.northwind.example"
    ada = Learner.objects.create(email="ada@example.org", first_name="Ada", consent_given_at=timezone.now())
    enqueue([OutgoingMessage(event="program.due", channel="email", recipient=Recipient(learner=ada), occurrence="1")])
    assert dispatch_outbox() == 1
    (envelope,) = recorder.envelopes
    assert envelope.mail_from == "bounces@inbound.northwind.example"
    assert b"From: Northwind Training <noreply@northwind.example>" in envelope.original_content
