"""Issue 19: a learner who answers the calendar invitation in her calendar client is registered or declined,
as if she had clicked the link (seed 003 "from a calendar invitation"); forged, misdirected, unknown,
malformed and repeated replies change nothing more. Replies are shaped as Outlook/Exchange, Google Calendar,
Apple Calendar and Thunderbird send them (notifications/inbound/samples).
"""

from datetime import UTC, datetime

import pytest

from live_sessions import services
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession, SessionLearner
from notifications.inbound import samples
from notifications.models import InboundMessage
from notifications.services import receive_email

from .conftest import make_learner, make_session

# What the invitations say and when they go: the system's own messages are not held here (seed 004, conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("automatic_channels")]

S = SessionLearner.Status


def invited(**session_fields):
    learner = make_learner()
    session = make_session(**session_fields)
    services.add_learners(session, [learner])
    services.publish(session)
    return SessionLearner.objects.get(session=session, learner=learner)


def reply(sl, client="outlook", **kwargs):
    kwargs.setdefault("uid", event_uid(sl.session_id, sl.learner_id))
    kwargs.setdefault("attendee", sl.learner.email)
    return samples.calendar_reply(client, **kwargs)


def status_of(sl):
    sl.refresh_from_db()
    return sl.status


@pytest.mark.parametrize("client", samples.CLIENTS)
def test_accepting_in_her_calendar_client_registers_the_learner(client):
    sl = invited()
    receive_email(reply(sl, client, partstat="ACCEPTED"))
    assert status_of(sl) == S.REGISTERED
    (row,) = InboundMessage.objects.all()
    assert (row.kind, row.result, row.learner_id) == ("calendar_reply", "applied", sl.learner_id)
    assert sl.status_changes.filter(to_status=S.REGISTERED, trigger="invitation_accepted").exists()


@pytest.mark.parametrize("client", samples.CLIENTS)
def test_declining_in_her_calendar_client_declines_the_invitation(client):
    sl = invited()
    receive_email(reply(sl, client, partstat="DECLINED"))
    assert status_of(sl) == S.DECLINED


def test_an_accept_when_the_session_is_full_puts_her_on_the_waiting_list():
    sl = invited(capacity=1, waiting_list_enabled=True)
    other = make_learner()
    services.register(sl.session, other)  # takes the one place
    receive_email(reply(sl, "google"))
    assert status_of(sl) == S.WAITING_LIST


def test_a_reply_for_a_completed_session_changes_nothing():
    sl = invited()
    LiveSession.objects.filter(pk=sl.session_id).update(status=LiveSession.Status.COMPLETED)
    receive_email(reply(sl, "apple"))
    assert status_of(sl) == S.INVITED
    assert InboundMessage.objects.get().result == "refused"


def test_attack_a_reply_with_a_guessed_uid_and_a_spoofed_from_changes_nothing():
    """The UID pattern of another learner is easy to guess; its keyed part is not."""
    sl = invited()
    guessed = f"live-session-{sl.session_id}-learner-{sl.learner_id}-{'0' * 24}@testserver"
    receive_email(reply(sl, "thunderbird", uid=guessed, sender=sl.learner.email))
    legacy = f"live-session-{sl.session_id}-learner-{sl.learner_id}@testserver"
    receive_email(reply(sl, "outlook", uid=legacy, sender=sl.learner.email))
    assert status_of(sl) == S.INVITED
    assert set(InboundMessage.objects.values_list("result", flat=True)) == {"ignored"}


def test_attack_someone_else_answering_for_the_learner_from_her_uid_changes_nothing():
    sl = invited()
    receive_email(reply(sl, "google", sender="mallory@example.net"))
    assert status_of(sl) == S.INVITED
    assert "not by the learner" in InboundMessage.objects.get().outcome


def test_a_reply_naming_another_attendee_than_the_invited_learner_changes_nothing():
    sl = invited()
    other = make_learner()
    receive_email(reply(sl, "outlook", attendee=other.email, sender=other.email))
    assert status_of(sl) == S.INVITED
    assert InboundMessage.objects.get().result == "refused"


def test_a_learner_replying_with_her_uid_for_another_learner_of_the_session_changes_nothing():
    sl = invited()
    other = make_learner()
    services.add_learners(sl.session, [other])
    other_sl = SessionLearner.objects.get(learner=other)
    other_sl.status = S.INVITED
    SessionLearner.objects.filter(pk=other_sl.pk).update(status=S.INVITED)
    # Her own UID, but naming the other learner as attendee, sent by the other learner's address.
    receive_email(reply(sl, "apple", attendee=other.email, sender=other.email))
    assert status_of(sl) == S.INVITED and status_of(other_sl) == S.INVITED


def test_an_unknown_uid_is_recorded_and_changes_nothing():
    sl = invited()
    receive_email(reply(sl, "google", uid="040000008200E00074C5B7101A82E0080000000000000000000000000000000000"))
    assert status_of(sl) == S.INVITED
    assert "Unknown invitation" in InboundMessage.objects.get().outcome


@pytest.mark.parametrize(
    "junk",
    [b"", b"\x00\xff\xfe garbage", b"Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEV"],
)
def test_a_malformed_message_is_recorded_and_raises_nothing(junk):
    sl = invited()
    receive_email(junk)
    assert status_of(sl) == S.INVITED
    assert InboundMessage.objects.get().kind == "unhandled"


def test_the_same_reply_twice_is_applied_once():
    sl = invited()
    message = reply(sl, "outlook", partstat="ACCEPTED")
    receive_email(message)
    receive_email(message)
    assert InboundMessage.objects.count() == 1
    assert sl.status_changes.filter(to_status=S.REGISTERED).count() == 1


def test_a_reply_to_an_older_sequence_does_not_overwrite_the_answer_to_the_newer_one():
    """RFC 5546 §2.1.5: SEQUENCE then DTSTAMP order the answers."""
    sl = invited()
    receive_email(reply(sl, "google", partstat="DECLINED", sequence=1, stamped_at=datetime(2030, 2, 2, tzinfo=UTC)))
    receive_email(reply(sl, "google", partstat="ACCEPTED", sequence=0, stamped_at=datetime(2030, 2, 1, tzinfo=UTC)))
    assert status_of(sl) == S.DECLINED
    older = InboundMessage.objects.order_by("pk").last()
    assert older.result == "ignored" and "newer version" in older.outcome


def test_a_counter_proposal_is_shown_to_the_administrator_and_not_applied():
    sl = invited()
    receive_email(
        reply(sl, "outlook", method="COUNTER", partstat="TENTATIVE", start=datetime(2030, 3, 5, 8, tzinfo=UTC))
    )
    assert status_of(sl) == S.INVITED
    row = InboundMessage.objects.get()
    assert row.result == "for_review" and "proposes another time" in row.outcome


def test_the_invitation_uid_is_the_same_for_its_update_and_differs_between_learners():
    session = make_session()
    assert event_uid(session.pk, 1) == event_uid(session.pk, 1)
    assert event_uid(session.pk, 1).split("-")[-1] != event_uid(session.pk, 2).split("-")[-1]


def test_invitations_name_the_inbound_mailbox_as_organiser(settings):
    from django.core import mail
    from icalendar import Calendar

    from notifications.services import dispatch_outbox

    settings.INBOUND_ADDRESS = "LMS replies <lms@inbound.example.org>"
    invited()
    dispatch_outbox()
    (message,) = mail.outbox
    part = next(p for p in message.message().walk() if p.get_content_type() == "text/calendar")
    (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert str(event["ORGANIZER"]).lower() == "mailto:lms@inbound.example.org"


def test_she_gets_an_email_in_her_language_saying_what_her_calendar_answer_did():
    from django.core import mail

    from notifications.services import dispatch_outbox

    sl = invited()
    sl.learner.language = "fr"
    sl.learner.save()
    dispatch_outbox()
    mail.outbox = []
    receive_email(reply(sl, "google", partstat="ACCEPTED"))
    dispatch_outbox()
    (message,) = mail.outbox
    assert message.subject.startswith("Inscription confirmée : First aid workshop")
    assert "Nous avons reçu la réponse donnée dans votre calendrier." in message.body
