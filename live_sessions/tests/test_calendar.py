"""Seed 003 "Invited": calendar invitations, their update on reschedule and their cancellation.

The emails are dispatched through the outbox to Django's locmem backend and the attached calendar is parsed
with icalendar: same UID for a learner, SEQUENCE raised on every change, METHOD matching the MIME part.
"""

from datetime import timedelta

import pytest
from django.core import mail
from icalendar import Calendar

from live_sessions import services
from live_sessions.ical import event_uid
from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import STARTS, make_learner, make_session

# What the invitations say and when they go: the system's own messages are not held here (seed 004, conftest).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("automatic_channels")]

S = SessionLearner.Status


def calendar_parts(message):
    """[(MIME method, parsed calendar)] of one sent email."""
    found = []
    for part in message.message().walk():
        if part.get_content_type() == "text/calendar":
            found.append((part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))))
    return found


def sent_to(learner):
    return [m for m in mail.outbox if m.to == [learner.email]]


def only_event(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def published_session(learners, **kwargs):
    session = make_session(**kwargs)
    services.add_learners(session, learners)
    services.publish(session)
    dispatch_outbox()
    return session


def test_seed_003_publishing_emails_a_calendar_request_with_organizer_attendee_uid_sequence_and_zoned_times():
    learner = make_learner(language="fr")
    session = published_session([learner], title="Secourisme", timezone="Europe/Warsaw")
    (message,) = sent_to(learner)
    ((mime_method, calendar),) = calendar_parts(message)
    event = only_event(calendar)
    assert mime_method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == event_uid(session.pk, learner.pk)
    assert int(event["SEQUENCE"]) == 0
    assert str(event["ATTENDEE"]) == f"mailto:{learner.email}"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert event.decoded("DTSTART") == STARTS
    # Issue 18: written as the session's clock reads it (TZID), with the zone's rules beside it.
    text = calendar.to_ical().decode()
    assert "DTSTART;TZID=Europe/Warsaw:20300304T090000" in text
    assert "DTEND;TZID=Europe/Warsaw:20300304T120000" in text
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Warsaw"]
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Warsaw"
    assert "Secourisme" in message.subject and "/a/" in message.body
    assert message.subject.startswith("Invitation :")  # the learner's language


def test_seed_003_adding_to_a_ready_session_with_calendar_integration_invites_at_once():
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    learner = make_learner()
    (sl,) = services.add_learners(session, [learner])
    assert sl.status == S.INVITED
    dispatch_outbox()
    assert len(calendar_parts(sent_to(learner)[0])) == 1


def test_seed_003_adding_to_a_ready_session_without_calendar_integration_does_not_invite():
    session = make_session(status=LiveSession.Status.READY)
    (sl,) = services.add_learners(session, [make_learner()])
    assert sl.status == S.NOT_INVITED
    assert not Notification.objects.exists()


def test_seed_003_reschedule_sends_the_same_invitation_with_a_higher_sequence_to_invited_and_registered():
    invited, registered, declined = make_learner(), make_learner(), make_learner()
    session = published_session([invited, registered, declined])
    rows = {sl.learner_id: sl for sl in SessionLearner.objects.filter(session=session)}
    services.respond(rows[registered.pk], accept=True)
    services.respond(rows[declined.pk], accept=False)
    mail.outbox = []

    new_start = STARTS + timedelta(days=7)
    services.reschedule(session, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    dispatch_outbox()

    assert sent_to(declined) == []
    for learner in (invited, registered):
        (message,) = sent_to(learner)
        ((mime_method, calendar),) = calendar_parts(message)
        event = only_event(calendar)
        assert mime_method == str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == event_uid(session.pk, learner.pk)
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == new_start
    session.refresh_from_db()
    assert session.calendar_sequence == 1


def test_seed_003_cancelling_the_session_sends_method_cancel_and_cancels_its_learners():
    invited, registered, declined, listed = make_learner(), make_learner(), make_learner(), make_learner()
    session = published_session([invited, registered, declined])
    rows = {sl.learner_id: sl for sl in SessionLearner.objects.filter(session=session)}
    services.respond(rows[registered.pk], accept=True)
    services.respond(rows[declined.pk], accept=False)
    services.add_learners(session, [listed])  # no calendar integration: stays not invited
    mail.outbox = []

    services.cancel_session(session)
    dispatch_outbox()

    session.refresh_from_db()
    assert session.status == LiveSession.Status.CANCELLED
    final = dict(SessionLearner.objects.filter(session=session).values_list("learner_id", "status"))
    assert final == {
        invited.pk: S.CANCELLED,
        registered.pk: S.CANCELLED,
        declined.pk: S.DECLINED,
        listed.pk: S.CANCELLED,
    }
    assert sent_to(declined) == [] and sent_to(listed) == []
    for learner in (invited, registered):
        (message,) = sent_to(learner)
        ((mime_method, calendar),) = calendar_parts(message)
        event = only_event(calendar)
        assert mime_method == str(calendar["METHOD"]) == "CANCEL"
        assert str(event["UID"]) == event_uid(session.pk, learner.pk)
        assert int(event["SEQUENCE"]) == 1
        assert str(event["STATUS"]) == "CANCELLED"


def test_seed_003_an_invitation_whose_learner_answered_before_sending_is_cancelled_not_sent():
    learner = make_learner()
    session = make_session()
    (sl,) = services.add_learners(session, [learner])
    services.publish(session)
    services.respond(sl, accept=False)
    dispatch_outbox()
    row = Notification.objects.get(event="session.invitation")
    assert row.status == Notification.Status.CANCELLED and row.reason == "learner_now_declined"
    assert mail.outbox == []


def test_seed_003_messages_of_a_cancelled_session_are_not_sent_except_the_cancellation():
    learner = make_learner()
    session = make_session()
    services.add_learners(session, [learner])
    services.publish(session)
    services.cancel_session(session)
    dispatch_outbox()
    statuses = dict(Notification.objects.values_list("event", "status"))
    assert statuses == {"session.invitation": "cancelled", "session.cancelled": "sent"}


def test_seed_003_an_invitation_to_a_learner_removed_from_the_session_is_cancelled():
    session = make_session()
    (sl,) = services.add_learners(session, [make_learner()])
    services.publish(session)
    sl.delete()
    dispatch_outbox()
    assert Notification.objects.get().reason == "removed_from_session"


def test_seed_003_publishing_2000_learners_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    from learners.models import Learner

    session = make_session()
    learners = Learner.objects.bulk_create(
        Learner(email=f"bulk{i}@example.com", first_name="Bulk", last_name=str(i)) for i in range(2000)
    )
    services.add_learners(session, learners)
    # Issue 17 part II: through the door, which reads the event's rules and the channel settings once a batch.
    with django_assert_max_num_queries(13):
        services.publish(session)
    assert SessionLearner.objects.filter(session=session, status=S.INVITED).count() == 2000
    assert Notification.objects.filter(event="session.invitation").count() == 2000


def test_seed_003_publishing_costs_the_same_queries_for_20_and_200_learners():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from learners.models import Learner

    counts = []
    for size in (20, 200):
        session = make_session()
        learners = Learner.objects.bulk_create(
            Learner(email=f"s{size}-{i}@example.com", first_name="S", last_name=str(i)) for i in range(size)
        )
        services.add_learners(session, learners)
        with CaptureQueriesContext(connection) as queries:
            services.publish(session)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def bulk_learners(prefix, count=2000):
    from learners.models import Learner

    return Learner.objects.bulk_create(
        Learner(email=f"{prefix}{i}@example.com", first_name="B", last_name=str(i), consent_given_at=STARTS)
        for i in range(count)
    )


def test_seed_003_adding_2000_learners_to_a_calendar_session_costs_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    learners = bulk_learners("cal")
    with django_assert_max_num_queries(12):
        rows = services.add_learners(session, learners)
    assert {sl.status for sl in rows} == {S.INVITED} and len(rows) == 2000


def test_seed_003_rescheduling_and_cancelling_2000_learners_cost_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    session = make_session()
    services.add_learners(session, bulk_learners("re"))
    services.publish(session)
    with django_assert_max_num_queries(12):
        services.reschedule(session, starts_at=STARTS + timedelta(days=1), ends_at=STARTS + timedelta(days=1, hours=1))
    with django_assert_max_num_queries(14):
        services.cancel_session(session)
    assert Notification.objects.filter(event="session.cancelled").count() == 2000
    assert SessionLearner.objects.filter(session=session, status=S.CANCELLED).count() == 2000


def test_the_calendar_organiser_is_the_organisation_at_the_mailbox_where_replies_are_read(settings):
    """Issue 18: "the calendar organiser is 'LMS Notify', not the organisation": the organiser's name is
    ORGANISATION_NAME; its address the inbound mailbox, else the From address."""
    settings.ORGANISATION_NAME = "Acme Training"
    settings.DEFAULT_FROM_EMAIL = "LMS Notify <training@acme.example>"
    settings.INBOUND_ADDRESS = ""
    learner = make_learner()
    published_session([learner])
    ((_, calendar),) = calendar_parts(sent_to(learner)[0])
    organiser = only_event(calendar)["ORGANIZER"]
    assert (str(organiser), str(organiser.params["CN"])) == ("mailto:training@acme.example", "Acme Training")

    settings.INBOUND_ADDRESS = "Replies <replies@acme.example>"
    other = make_learner()
    published_session([other])
    ((_, calendar),) = calendar_parts(sent_to(other)[0])
    organiser = only_event(calendar)["ORGANIZER"]
    assert (str(organiser), str(organiser.params["CN"])) == ("mailto:replies@acme.example", "Acme Training")
