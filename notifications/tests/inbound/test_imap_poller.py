"""Issue 19 "How mail arrives": the poller reads a real IMAP server (Debian's Dovecot, started by the test),
picks up calendar replies and bounces, moves each message to the processed folder only after its transaction
commits, survives the server going away mid-poll, and never processes a message twice with two workers.
"""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from learners.models import Learner
from live_sessions import services as sessions
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession, SessionLearner, StatusChange
from notifications.inbound import imap, samples
from notifications.models import InboundMessage, Notification, UndeliverableAddress
from notifications.services import dispatch_outbox, set_channel_confirmation

PROCESSED = "Processed"


@pytest.fixture(autouse=True)
def _mailbox_settings(settings, dovecot):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.INBOUND_IMAP_URL = dovecot.url
    settings.INBOUND_IMAP_PROCESSED_FOLDER = PROCESSED
    settings.INBOUND_IMAP_TIMEOUT = 5


def world():
    """A session with Ada invited (her invitation sent) and Bob written to (a reminder sent)."""
    ada, bob = (
        Learner.objects.create(email=f"{n}@example.org", first_name=n, last_name="L", consent_given_at=timezone.now())
        for n in ("ada", "bob")
    )
    session = LiveSession.objects.create(
        title="First aid",
        starts_at=timezone.now() + timezone.timedelta(days=9),
        ends_at=timezone.now() + timezone.timedelta(days=9, hours=2),
    )
    sessions.add_learners(session, [ada, bob])
    set_channel_confirmation("email", required=False)  # the invitations go at once (seed 004: else they wait)
    sessions.publish(session)
    dispatch_outbox()
    sent_to_bob = Notification.objects.get(recipient_learner=bob, status="sent")
    reply = samples.calendar_reply("outlook", uid=event_uid(session.pk, ada.pk), attendee=ada.email)
    bounce = samples.bounce("postfix", recipient=bob.email, original_message_id=sent_to_bob.message_id)
    return SessionLearner.objects.get(learner=ada), bob, reply, bounce


@pytest.mark.django_db(transaction=True)
def test_the_poller_picks_up_a_calendar_reply_and_a_bounce_and_moves_them(dovecot):
    ada_sl, bob, reply, bounce = world()
    dovecot.deliver(reply, bounce)
    result = imap.poll_mailbox()
    assert (result.received, result.moved, result.error) == (2, 2, "")
    ada_sl.refresh_from_db()
    assert ada_sl.status == "registered"
    assert UndeliverableAddress.objects.get().address == bob.email
    assert dovecot.count("INBOX") == 0 and dovecot.count(PROCESSED) == 2
    assert set(InboundMessage.objects.values_list("source", flat=True)) == {"imap"}


@pytest.mark.django_db(transaction=True)
def test_the_poller_survives_the_server_going_away_mid_poll_and_finishes_later(dovecot, monkeypatch):
    ada_sl, bob, reply, bounce = world()
    other = b"From: x@example.net\r\nSubject: Hello\r\nMessage-ID: <hello@example.net>\r\n\r\nHi\r\n"
    dovecot.deliver(reply, bounce, other)
    real_receive, calls = imap.receive, []

    def receive_then_lose_the_server(raw, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            dovecot.stop()  # the server goes away after handing over the second message
        return real_receive(raw, **kwargs)

    monkeypatch.setattr(imap, "receive", receive_then_lose_the_server)
    first = imap.poll_mailbox()  # must not raise
    assert first.error and first.received == 2 and first.moved == 1
    monkeypatch.setattr(imap, "receive", real_receive)
    dovecot.start()
    second = imap.poll_mailbox()
    assert (second.repeated, second.received, second.error) == (1, 1, "")
    assert dovecot.count("INBOX") == 0 and dovecot.count(PROCESSED) == 3
    assert InboundMessage.objects.count() == 3
    assert StatusChange.objects.filter(session_learner=ada_sl, to_status="registered").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_never_process_a_message_twice(dovecot):
    ada_sl, bob, reply, bounce = world()
    dovecot.deliver(reply, bounce)
    results, start = [], threading.Barrier(2)

    def worker():
        try:
            start.wait()
            results.append(imap.poll_mailbox())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.received for r in results) == 2 and not any(r.error for r in results)
    assert InboundMessage.objects.count() == 2
    assert StatusChange.objects.filter(session_learner=ada_sl, to_status="registered").count() == 1
    assert dovecot.count(PROCESSED) == 2


@pytest.mark.django_db(transaction=True)
def test_messages_received_inside_a_transaction_are_moved_only_once_it_commits(dovecot):
    """Inside an open transaction nothing is moved: a rollback would otherwise lose the message."""
    from django.db import transaction

    ada_sl, bob, reply, bounce = world()
    dovecot.deliver(reply)
    with transaction.atomic():
        result = imap.poll_mailbox()
        assert result.received == 1 and result.moved == 0
        transaction.set_rollback(True)
    assert dovecot.count("INBOX") == 1


@pytest.mark.django_db(transaction=True)
def test_without_a_mailbox_configured_the_poll_does_nothing(settings):
    settings.INBOUND_IMAP_URL = ""
    assert imap.poll_mailbox().skipped
