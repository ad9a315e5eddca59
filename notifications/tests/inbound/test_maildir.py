"""Mail that comes back through a local mailbox folder (INBOUND_MAILDIR): the demo's mailbox, read like the
IMAP mailbox — each message received once and moved to the processed folder once its transaction commits."""

import mailbox

import pytest
from django.core.management import call_command
from django.utils import timezone

from learners.models import Learner
from live_sessions import services as sessions
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession, SessionLearner
from notifications.inbound import maildir, samples
from notifications.models import InboundMessage, Notification, UndeliverableAddress
from notifications.services import dispatch_outbox
from notifications.tasks import poll_mailbox_task

# The invitations publish sends are the system's own: they wait for confirmation by default (issue 17); here
# they go at once, so that a bounce can name the message Bob was sent.
pytestmark = pytest.mark.usefixtures("automatic_channels")


@pytest.fixture
def folder(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.INBOUND_IMAP_URL = ""
    settings.INBOUND_MAILDIR = str(tmp_path / "mailbox")
    return mailbox.Maildir(settings.INBOUND_MAILDIR, create=True)


def invited_and_written_to():
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
    sessions.publish(session)
    dispatch_outbox()
    return SessionLearner.objects.get(learner=ada), bob


@pytest.mark.django_db(transaction=True)
def test_a_reply_and_a_bounce_dropped_in_the_local_mailbox_are_read_once_and_moved(folder):
    ada_sl, bob = invited_and_written_to()
    sent_to_bob = Notification.objects.get(recipient_learner=bob, status="sent")
    folder.add(
        samples.calendar_reply(
            "outlook", uid=event_uid(ada_sl.session_id, ada_sl.learner_id), attendee="ada@example.org"
        )
    )
    folder.add(samples.bounce("postfix", recipient=bob.email, original_message_id=sent_to_bob.message_id))

    assert poll_mailbox_task()["moved"] == 2

    ada_sl.refresh_from_db()
    assert ada_sl.status == "registered"
    assert UndeliverableAddress.objects.get().address == bob.email
    assert len(folder) == 0 and len(folder.get_folder("Processed")) == 2
    assert set(InboundMessage.objects.values_list("source", flat=True)) == {"maildir"}
    assert maildir.poll_maildir().received == 0


@pytest.mark.django_db(transaction=True)
def test_a_message_already_received_is_moved_again_without_being_applied_twice(folder):
    ada_sl, _bob = invited_and_written_to()
    reply = samples.calendar_reply(
        "google", uid=event_uid(ada_sl.session_id, ada_sl.learner_id), attendee="ada@example.org"
    )
    folder.add(reply)
    maildir.poll_maildir()
    folder.add(reply)  # delivered twice (a poll died before moving it, or the server delivered it again)

    result = maildir.poll_maildir()

    assert (result.received, result.repeated, result.moved) == (0, 1, 1)
    assert InboundMessage.objects.count() == 1
    assert ada_sl.status_changes.filter(to_status="registered").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_puts_two_calendar_answers_in_the_local_mailbox_that_the_worker_applies(folder):
    ada_sl, bob = invited_and_written_to()
    call_command("demo_mailbox", stdout=open("/dev/null", "w"))  # noqa: SIM115

    poll_mailbox_task()

    ada_sl.refresh_from_db()
    bob_sl = SessionLearner.objects.get(learner=bob)
    assert (ada_sl.status, bob_sl.status) == ("registered", "declined")
    assert InboundMessage.objects.filter(result="applied").count() == 2
