"""Seed 003 "Learner Statuses Flow": every row of the table, through the services, and the refusals."""

import pytest
from django.core.exceptions import ValidationError

from live_sessions import flow, services
from live_sessions.flow import SEED_FLOW, LiveSessionError, Transition, TransitionNotAllowed, Trigger
from live_sessions.models import LiveSession, SessionLearner, StatusChange

from .conftest import make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

S = SessionLearner.Status


@pytest.fixture(autouse=True)
def _on_the_day(during_the_session):
    """Attendance and go-shows are taken while the session is on (issue 16)."""


def ready_session(**kwargs):
    return make_session(status=LiveSession.Status.READY, **kwargs)


def one(session, learner=None, status=S.REGISTERED):
    """A learner already in `status` (set by hand, as an administrator would)."""
    (sl,) = services.add_learners(session, [learner or make_learner()])
    services.set_status([sl], status, actor=None)
    return sl


# Each scenario performs one row of the seed's table through the service that owns it and returns the
# session learner that moved.


def added_to_draft(actor):
    (sl,) = services.add_learners(make_session(), [make_learner()], actor=actor)
    return sl


def published(actor):
    session = make_session()
    (sl,) = services.add_learners(session, [make_learner()], actor=actor)
    services.publish(session, actor=actor)
    return sl


def added_with_calendar(actor):
    (sl,) = services.add_learners(ready_session(calendar_integration=True), [make_learner()], actor=actor)
    return sl


def accepted(actor):
    sl = one(ready_session(), status=S.INVITED)
    services.respond(sl, accept=True)
    return sl


def declined(actor):
    sl = one(ready_session(), status=S.INVITED)
    services.respond(sl, accept=False)
    return sl


def registered_by_learner(actor):
    return services.register(ready_session(), make_learner())


def attended(actor):
    sl = one(ready_session())
    services.mark_attendance(sl, attended=True, actor=actor)
    return sl


def absent(actor):
    sl = one(ready_session())
    services.mark_attendance(sl, attended=False, actor=actor)
    return sl


def cancelled_by_learner(actor):
    sl = one(ready_session())
    services.cancel(sl)
    return sl


def waiting_list_when_full(actor):
    session = ready_session(capacity=1, waiting_list_enabled=True)
    one(session)
    return services.register(session, make_learner())


def invited_from_waiting_list(actor):
    session = ready_session(capacity=1, waiting_list_enabled=True)
    taken = one(session)
    waiting = services.register(session, make_learner())
    services.cancel(taken)
    waiting.refresh_from_db()
    return waiting


def go_show(actor):
    return services.add_go_show(ready_session(), make_learner(), actor=actor)


def needs_approval(actor):
    return services.register(ready_session(requires_approval=True, approver=make_user("approver1")), make_learner())


def approved(actor):
    sl = services.register(ready_session(requires_approval=True, approver=make_user("approver2")), make_learner())
    services.decide_approval(sl, approve=True, actor=actor)
    return sl


def approval_declined(actor):
    sl = services.register(ready_session(requires_approval=True, approver=make_user("approver3")), make_learner())
    services.decide_approval(sl, approve=False, actor=actor)
    return sl


SCENARIOS = {
    Transition(None, S.NOT_INVITED, Trigger.ADDED_BY_ADMIN): added_to_draft,
    Transition(S.NOT_INVITED, S.INVITED, Trigger.SESSION_PUBLISHED): published,
    Transition(None, S.INVITED, Trigger.ADDED_WITH_CALENDAR): added_with_calendar,
    Transition(S.INVITED, S.REGISTERED, Trigger.INVITATION_ACCEPTED): accepted,
    Transition(S.INVITED, S.DECLINED, Trigger.INVITATION_DECLINED): declined,
    Transition(None, S.REGISTERED, Trigger.REGISTRATION): registered_by_learner,
    Transition(S.REGISTERED, S.ATTENDED, Trigger.ATTENDANCE): attended,
    Transition(S.REGISTERED, S.ABSENT, Trigger.ATTENDANCE): absent,
    Transition(S.REGISTERED, S.CANCELLED, Trigger.LEARNER_CANCELLED): cancelled_by_learner,
    Transition(None, S.WAITING_LIST, Trigger.REGISTRATION): waiting_list_when_full,
    Transition(S.WAITING_LIST, S.INVITED, Trigger.PLACE_FREED): invited_from_waiting_list,
    Transition(None, S.GO_SHOW, Trigger.GO_SHOW): go_show,
    Transition(None, S.NEEDS_APPROVAL, Trigger.REGISTRATION): needs_approval,
    Transition(S.NEEDS_APPROVAL, S.REGISTERED, Trigger.APPROVED): approved,
    Transition(S.NEEDS_APPROVAL, S.APPROVAL_DECLINED, Trigger.APPROVAL_DECLINED): approval_declined,
}


def test_seed_003_every_row_of_the_flow_table_has_a_scenario():
    assert set(SCENARIOS) == set(SEED_FLOW)
    assert len(SEED_FLOW) == 15


@pytest.mark.parametrize("row", list(SCENARIOS), ids=lambda r: f"{r.from_status or '-'}->{r.to_status}")
def test_seed_003_flow_row(row, admin_user):
    sl = SCENARIOS[row](admin_user)
    sl.refresh_from_db()
    assert sl.status == row.to_status
    last = sl.status_changes.order_by("at", "pk").last()
    assert (last.from_status or None, last.to_status, last.trigger) == (row.from_status, row.to_status, row.trigger)


def test_seed_003_every_change_leaves_a_history_row_with_actor_and_time(admin_user):
    session = make_session()
    (sl,) = services.add_learners(session, [make_learner()], actor=admin_user)
    services.publish(session, actor=admin_user)
    services.respond(sl, accept=True)
    services.mark_attendance(sl, attended=True, actor=admin_user)
    history = list(sl.status_changes.order_by("at", "pk"))
    assert [(h.from_status, h.to_status, h.trigger) for h in history] == [
        ("", "not_invited", "added_by_admin"),
        ("not_invited", "invited", "session_published"),
        ("invited", "registered", "invitation_accepted"),
        ("registered", "attended", "attendance"),
    ]
    assert [h.actor for h in history] == [admin_user, admin_user, None, admin_user]
    assert all(h.at is not None for h in history)


def test_seed_003_a_change_outside_the_table_is_refused_in_words():
    with pytest.raises(TransitionNotAllowed) as refused:
        flow.check(S.REGISTERED, S.INVITED, Trigger.SESSION_PUBLISHED)
    assert "registered cannot become invited" in refused.value.messages[0]
    assert isinstance(refused.value, ValidationError)


def test_seed_003_answering_an_invitation_twice_is_refused_and_changes_nothing():
    sl = one(ready_session(), status=S.INVITED)
    services.respond(sl, accept=True)
    before = StatusChange.objects.count()
    with pytest.raises(LiveSessionError, match="already answered"):
        services.respond(sl, accept=False)
    sl.refresh_from_db()
    assert sl.status == S.REGISTERED and StatusChange.objects.count() == before


def test_seed_003_attendance_of_a_cancelled_learner_is_refused():
    sl = one(ready_session(), status=S.CANCELLED)
    with pytest.raises(TransitionNotAllowed):
        services.mark_attendance(sl, attended=True, actor=None)
    sl.refresh_from_db()
    assert sl.status == S.CANCELLED


def test_seed_003_a_full_session_without_waiting_list_refuses_registration_and_changes_nothing():
    session = ready_session(capacity=1)
    one(session)
    learner = make_learner()
    before = StatusChange.objects.count()
    with pytest.raises(LiveSessionError, match="is full and has no waiting list"):
        services.register(session, learner)
    assert not SessionLearner.objects.filter(session=session, learner=learner).exists()
    assert StatusChange.objects.count() == before


def test_seed_003_a_draft_session_is_not_open_for_registration():
    with pytest.raises(LiveSessionError, match="not open for registration"):
        services.register(make_session(), make_learner())


def test_seed_003_publishing_twice_is_refused():
    session = make_session()
    services.publish(session)
    with pytest.raises(LiveSessionError, match="Only a draft session"):
        services.publish(session)


def test_seed_003_manual_update_may_set_any_status_and_is_recorded_as_manual(admin_user):
    session = ready_session()
    sl = one(session, status=S.ATTENDED)
    assert not flow.is_allowed(S.ATTENDED, S.WAITING_LIST, Trigger.ATTENDANCE)
    changed = services.set_status([sl], S.WAITING_LIST, actor=admin_user)
    assert changed == 1
    sl.refresh_from_db()
    assert sl.status == S.WAITING_LIST and sl.waiting_since is not None
    last = sl.status_changes.order_by("pk").last()
    assert (last.from_status, last.to_status, last.trigger, last.actor) == (
        "attended",
        "waiting_list",
        "manual",
        admin_user,
    )
    assert services.set_status([sl], S.WAITING_LIST, actor=admin_user) == 0


def test_seed_003_saving_attendance_twice_is_harmless(admin_user):
    sl = one(ready_session())
    services.mark_attendance(sl, attended=True, actor=admin_user)
    services.mark_attendance(sl, attended=True, actor=admin_user)
    assert sl.status_changes.filter(to_status=S.ATTENDED).count() == 1


def test_seed_003_the_attendance_form_can_correct_absent_to_attended(admin_user):
    sl = one(ready_session())
    services.mark_attendance(sl, attended=False, actor=admin_user)
    services.mark_attendance(sl, attended=True, actor=admin_user)
    sl.refresh_from_db()
    assert sl.status == S.ATTENDED


def test_seed_003_go_show_of_a_registered_learner_marks_them_attended(admin_user):
    session = ready_session()
    learner = make_learner()
    one(session, learner)
    sl = services.add_go_show(session, learner, actor=admin_user)
    assert sl.status == S.ATTENDED


def test_seed_003_registering_with_approval_emails_the_approver():
    from notifications.models import Notification

    approver = make_user("approver9")
    sl = services.register(ready_session(requires_approval=True, approver=approver), make_learner())
    message = Notification.objects.get(event="session.approval_request")
    assert message.recipient_user == approver and message.to == approver.email
    assert "/a/" in message.body and sl.learner.full_name in message.body


def test_seed_003_adding_learners_twice_keeps_one_row_each(admin_user):
    session = make_session()
    learners = [make_learner(), make_learner()]
    first = services.add_learners(session, learners, actor=admin_user)
    again = services.add_learners(session, learners, actor=admin_user)
    assert [sl.pk for sl in first] == [sl.pk for sl in again]
    assert SessionLearner.objects.filter(session=session).count() == 2


def test_seed_003_the_attendance_form_refuses_a_learner_cancelled_meanwhile_and_saves_nothing(admin_user):
    session = ready_session()
    present, gone = one(session), one(session)
    services.cancel(gone)
    with pytest.raises(LiveSessionError, match=gone.learner.full_name):
        services.mark_attendance_many(session, {present.pk: True, gone.pk: True}, actor=admin_user)
    assert SessionLearner.objects.get(pk=present.pk).status == S.REGISTERED


def test_seed_003_registering_twice_is_harmless():
    session = ready_session()
    learner = make_learner()
    first = services.register(session, learner)
    again = services.register(session, learner)
    assert first.pk == again.pk and again.status == S.REGISTERED
    assert first.status_changes.count() == 1


def test_seed_003_a_learner_who_declined_may_register_later():
    sl = one(ready_session(), status=S.INVITED)
    services.respond(sl, accept=False)
    again = services.register(sl.session, sl.learner)
    assert again.pk == sl.pk and again.status == S.REGISTERED


def test_seed_003_an_approval_declined_learner_cannot_register_again():
    session = ready_session(requires_approval=True, approver=make_user("approver4"))
    sl = services.register(session, make_learner())
    services.decide_approval(sl, approve=False, actor=None)
    with pytest.raises(LiveSessionError, match="cannot register again"):
        services.register(session, sl.learner)


def test_seed_003_approving_when_the_session_is_full_puts_the_learner_on_the_waiting_list():
    session = ready_session(
        requires_approval=True, approver=make_user("approver5"), capacity=1, waiting_list_enabled=True
    )
    first, second = services.register(session, make_learner()), services.register(session, make_learner())
    services.decide_approval(first, approve=True, actor=None)
    services.decide_approval(second, approve=True, actor=None)
    assert (first.status, second.status) == (S.REGISTERED, S.WAITING_LIST)


@pytest.mark.parametrize(
    "action, words",
    [
        (lambda s, sl: services.reschedule(s, starts_at=s.ends_at, ends_at=s.starts_at), "must end after it starts"),
        (lambda s, sl: services.set_capacity(s, capacity=-1), "cannot be negative"),
        (lambda s, sl: services.set_status([sl], "lost", actor=None), "is not a learner status"),
        (lambda s, sl: services.copy_learners([sl], s, status="lost", actor=None), "is not a learner status"),
        (lambda s, sl: services.send_email(s, [sl], "newsletter", actor=None), "is not an email type"),
        (lambda s, sl: services.request_participation(sl.learner, []), "at least one session"),
    ],
)
def test_seed_003_bad_input_gets_a_clear_message_and_changes_nothing(action, words):
    session = ready_session()
    sl = one(session)
    before = (StatusChange.objects.count(), LiveSession.objects.get(pk=session.pk).starts_at)
    with pytest.raises(LiveSessionError, match=words):
        action(session, sl)
    assert (StatusChange.objects.count(), LiveSession.objects.get(pk=session.pk).starts_at) == before


def test_seed_003_a_cancelled_session_cannot_be_cancelled_rescheduled_or_joined_again():
    session = ready_session()
    services.cancel_session(session)
    with pytest.raises(LiveSessionError, match="already cancelled"):
        services.cancel_session(session)
    with pytest.raises(LiveSessionError, match="cannot be rescheduled"):
        services.reschedule(session, starts_at=session.starts_at, ends_at=session.ends_at)
    with pytest.raises(LiveSessionError, match="cannot be added"):
        services.add_learners(session, [make_learner()])
    with pytest.raises(LiveSessionError, match="not open for registration"):
        services.register(session, make_learner())
