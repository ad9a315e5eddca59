"""Issue 17 as an administrator tried it: a rule "by SMS and in the inbox, to the learner and her guardians"
is obeyed by the code that really raises each event, not only by the door itself (test_door.py walks the
whole catalogue through the door).

Issue 17 part II: every live-session message takes the door too. `test_every_live_session_event_obeys_its_rule`
walks every live-session event of the catalogue (not a sample) through the code that really raises it.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from learners import scanners as learner_scanners
from learners.models import Guardian
from learners.services import invite
from live_sessions import services as session_services
from live_sessions.ical import event_uid
from live_sessions.models import SessionLearner
from live_sessions.scanners import scan_expired_waiting_list_offers, scan_participation_reminders
from live_sessions.tests.conftest import make_learner, make_session, make_user
from notifications import registry
from notifications.inbound import samples
from notifications.models import Notification, NotificationRule
from notifications.services import Recipient, receive_email
from programs.models import Course
from programs.services import request_training

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    learner = make_learner(phone="+33612345678")
    Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com", phone="+33612345679")
    return learner


def sms_and_inbox_rule(event):
    NotificationRule.objects.create(
        event=event, channels=["sms", "inbox"], notify_learner=True, notify_guardians=True, requires_confirmation=True
    )


def assert_obeyed(event, learner):
    rows = Notification.objects.filter(event=event)
    keys = {Recipient(learner=learner).key, Recipient(guardian=learner.guardians.get()).key}
    got = {(Recipient.key_of_notification(r), r.channel, r.status) for r in rows}
    assert got == {(k, c, Notification.Status.AWAITING_CONFIRMATION) for k in keys for c in ("sms", "inbox")}


def test_an_invitation_sent_by_an_administrator_obeys_its_rule(learner):
    sms_and_inbox_rule("invitation.sent")
    invite(learner, actor=make_user())
    assert_obeyed("invitation.sent", learner)


def test_the_invitation_reminder_scan_obeys_its_rule(learner):
    sms_and_inbox_rule("invitation.reminder")
    invitation = invite(learner, send_email=True)
    Notification.objects.all().delete()
    type(invitation).objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(days=8))
    learner_scanners.scan_invitation_reminders()
    assert_obeyed("invitation.reminder", learner)


def test_a_recorded_training_request_obeys_its_rule(learner):
    sms_and_inbox_rule("training_request.submitted")
    request_training(learner, Course.objects.create(title="First aid"), requested_by=None)
    assert_obeyed("training_request.submitted", learner)


def test_a_date_choice_obeys_its_rule(learner):
    sms_and_inbox_rule("participation.request")
    session_services.request_participation(learner, [make_session(status="ready")], actor=make_user())
    assert_obeyed("participation.request", learner)


S = SessionLearner.Status
EMAIL_TYPES = (
    "registration_form",
    "attendance_reminder",
    "follow_up",
    "feedback_form",
    "feedback_form_reminder",
    "custom",
    "waiting_learners_invitation",
)


def _session(**fields):
    fields.setdefault("status", "ready")
    return make_session(
        registration_form_url="https://forms.example.org/r", feedback_form_url="https://forms.example.org/f", **fields
    )


def _in_status(learner, status, **fields):
    session = _session(**fields)
    [session_learner] = session_services.add_learners(session, [learner])
    session_services.set_status([session_learner], status, actor=make_user("setup"))
    return session, session_learner


def _invited(learner):
    session = _session(status="draft")
    session_services.add_learners(session, [learner])
    session_services.publish(session)
    return session, SessionLearner.objects.get(session=session, learner=learner)


def _administrators_email(email_type):
    status = {
        "attendance_reminder": S.REGISTERED,
        "waiting_learners_invitation": S.WAITING_LIST,
        "follow_up": S.ATTENDED,
        "feedback_form": S.ATTENDED,
        "feedback_form_reminder": S.ATTENDED,
    }.get(email_type, S.REGISTERED)

    def raise_it(learner):
        session, session_learner = _in_status(learner, status, waiting_list_enabled=True)
        if email_type == "feedback_form_reminder":
            session_services.send_email(session, [session_learner], "feedback_form", actor=make_user("first"))
        session_services.send_email(session, [session_learner], email_type, actor=make_user(), subject="S", body="B")

    return raise_it


def _cancelled(learner):
    session, _ = _in_status(learner, S.REGISTERED)
    session_services.cancel_session(session, actor=make_user())


def _rescheduled(learner):
    # Issue 18: new dates go only to the learners who received the calendar file (selectors.calendar_holders).
    session, _ = _in_status(learner, S.REGISTERED, calendar_integration=True)
    starts = session.starts_at + timedelta(days=7)
    session_services.reschedule(session, starts_at=starts, ends_at=starts + timedelta(hours=3), actor=make_user())


def _convoked(learner):
    session, session_learner = _in_status(learner, S.REGISTERED)
    session_services.convoke(session, [session_learner], actor=make_user())


def _approval_requested(learner):
    session = _session(requires_approval=True, approver=make_user("approver"))
    session_services.register(session, learner)


def _approval_decided(*, approve):
    def raise_it(learner):
        session = _session(requires_approval=True, approver=make_user("approver"))
        session_learner = session_services.register(session, learner)
        session_services.decide_approval(session_learner, approve=approve, actor=session.approver)

    return raise_it


def _waiting_list_joined(learner):
    session = _session(capacity=1, waiting_list_enabled=True, calendar_integration=False)
    [first] = session_services.add_learners(session, [make_learner()])
    session_services.set_status([first], S.REGISTERED, actor=make_user("setup"))
    session_services.register(session, learner)


def _date_chosen(learner):
    session = _session()
    request = session_services.request_participation(learner, [session], actor=make_user())
    session_services.choose_date(request, session=session)


def _date_choice_reminded(learner):
    session = _session(starts_at=timezone.now() + timedelta(days=30), ends_at=timezone.now() + timedelta(days=31))
    request = session_services.request_participation(learner, [session], actor=make_user())
    type(request).objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(days=8))
    scan_participation_reminders()


def _date_choice_after_approval(learner):
    training_request = request_training(learner, Course.objects.create(title="First aid"), requested_by=None)
    session_services.approve_with_date_choice(training_request, [_session()], actor=make_user())


def _reply_recorded(learner):
    session, session_learner = _invited(learner)
    receive_email(
        samples.calendar_reply(
            "outlook", uid=event_uid(session.pk, learner.pk), attendee=learner.email, partstat="ACCEPTED"
        )
    )


def _place_offered(learner):
    session = _session(capacity=1, waiting_list_enabled=True, calendar_integration=False)
    [first] = session_services.add_learners(session, [make_learner()])
    session_services.set_status([first], S.REGISTERED, actor=make_user("setup"))
    session_services.register(session, learner)
    session_services.cancel(first)


def _offer_expired(learner):
    # Issue 18: the learner whose offered place was not taken in time hears it passed on (the scanner).
    session = _session(capacity=1, waiting_list_enabled=True, calendar_integration=False)
    [first] = session_services.add_learners(session, [make_learner()])
    session_services.set_status([first], S.REGISTERED, actor=make_user("setup"))
    session_services.register(session, learner)
    session_services.cancel(first)
    SessionLearner.objects.filter(session=session, learner=learner).update(
        status_changed_at=timezone.now() - timedelta(hours=settings.WAITING_LIST_OFFER_HOURS, minutes=1)
    )
    scan_expired_waiting_list_offers()


RAISED_BY = {
    "session.invitation": lambda learner: _invited(learner),
    "session.cancelled": _cancelled,
    "session.rescheduled": _rescheduled,
    "session.convocation": _convoked,
    "session.approval_request": _approval_requested,
    # Issue 18: what the learner hears about her own request.
    "session.approval_pending": _approval_requested,
    "session.approval_granted": _approval_decided(approve=True),
    "session.approval_refused": _approval_decided(approve=False),
    "session.waiting_list_joined": _waiting_list_joined,
    "session.offer_expired": _offer_expired,
    "session.reply_recorded": _reply_recorded,
    "participation.request": lambda learner: session_services.request_participation(
        learner, [_session()], actor=make_user()
    ),
    "participation.request_after_approval": _date_choice_after_approval,
    "participation.reminder": _date_choice_reminded,
    "participation.confirmed": _date_chosen,
    **{f"session.{email_type}": _administrators_email(email_type) for email_type in EMAIL_TYPES},
}


def test_the_walk_covers_every_live_session_event_of_the_catalogue():
    """Issue 17 "Done when": the whole catalogue, not a sample."""
    declared = {code for code in registry.declarations() if code.split(".")[0] in ("session", "participation")}
    assert declared == set(RAISED_BY)


@pytest.mark.parametrize("event", sorted(set(RAISED_BY) - {"session.approval_request"}))
def test_every_live_session_event_obeys_its_rule(learner, event):
    """Issue 17: a rule "by SMS and in the inbox, to the learner and her guardians, after confirmation" is
    obeyed by the real caller of every live-session event: no immediate email, guardians included."""
    sms_and_inbox_rule(event)
    RAISED_BY[event](learner)
    assert_obeyed(event, learner)


def test_the_approval_request_obeys_its_rule_and_goes_to_the_approver_only(learner):
    sms_and_inbox_rule("session.approval_request")
    _approval_requested(learner)
    rows = Notification.objects.filter(event="session.approval_request")
    # A user has no phone number: the SMS is omitted with its reason, the inbox copy waits for confirmation.
    assert {(r.recipient_user.username, r.channel, r.status) for r in rows} == {
        ("approver", "sms", Notification.Status.OMITTED),
        ("approver", "inbox", Notification.Status.AWAITING_CONFIRMATION),
    }


def test_a_session_cancelled_without_channel_sends_nothing(learner):
    """Issue 17: a rule "session cancelled, no channel" is silent, as the rules screen says."""
    NotificationRule.objects.create(event="session.cancelled", channels=[], notify_learner=True)
    _cancelled(learner)
    assert not Notification.objects.filter(event="session.cancelled").exists()


def test_the_trainers_copy_of_an_invitation_has_neither_her_calendar_file_nor_her_answer_links(learner):
    """Seed 004: the session's trainers ("lektor") hear of it when the rule says so; only the learner's copy
    carries her calendar file and her accept/decline link."""
    NotificationRule.objects.create(
        event="session.invitation", channels=["email"], notify_learner=True, notify_trainers=True
    )
    session = _session(status="draft")
    session.trainers.add(make_user("trainer", email="trainer@example.com"))
    session_services.add_learners(session, [learner])
    session_services.publish(session)
    own = Notification.objects.get(event="session.invitation", recipient_guardian=None, recipient_user=None)
    trainers = Notification.objects.get(event="session.invitation", recipient_user__username="trainer")
    assert own.attachments and "/a/" in own.body
    assert trainers.attachments == [] and "/a/" not in trainers.body
