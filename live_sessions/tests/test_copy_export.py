"""Seed 003 "Fill Rate", "Copy Learners" and "Export the list of learners"."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from live_sessions import selectors, services
from live_sessions.models import LiveSession, SessionLearner

from .conftest import make_learner, make_session

pytestmark = pytest.mark.django_db

S = SessionLearner.Status


def session_with(statuses, **kwargs):
    kwargs.setdefault("status", LiveSession.Status.READY)
    session = make_session(**kwargs)
    rows = services.add_learners(session, [make_learner() for _ in statuses])
    for sl, status in zip(rows, statuses, strict=True):
        services.set_status([sl], status, actor=None)
    return session, rows


def test_seed_003_fill_rate_counts_registered_go_show_and_attended_over_capacity():
    session, _rows = session_with(
        [S.REGISTERED, S.GO_SHOW, S.ATTENDED, S.INVITED, S.WAITING_LIST, S.ABSENT, S.CANCELLED, S.NEEDS_APPROVAL],
        capacity=8,
    )
    assert services.fill_rate(session) == 3 / 8
    summary = selectors.session_summary(session)
    assert summary["filled"] == 3 and summary["counts"][S.WAITING_LIST] == 1 and summary["total"] == 8


def test_seed_003_fill_rate_without_capacity_is_zero():
    session, _rows = session_with([S.REGISTERED], capacity=0)
    assert services.fill_rate(session) == 0.0


def test_seed_003_copying_into_a_full_session_puts_learners_on_its_waiting_list(admin_user):
    _source, (cancelled, waiting) = session_with([S.CANCELLED, S.WAITING_LIST])
    target, _taken = session_with([S.REGISTERED], capacity=1, waiting_list_enabled=True)
    outcomes = services.copy_learners_with_outcomes([cancelled, waiting], target, status=S.REGISTERED, actor=admin_user)
    assert [o.outcome for o in outcomes] == [S.WAITING_LIST, S.WAITING_LIST]
    assert "waiting list" in outcomes[0].message and "automation" in outcomes[0].message
    copied = SessionLearner.objects.filter(session=target, learner__in=[cancelled.learner, waiting.learner])
    assert {sl.status for sl in copied} == {S.WAITING_LIST}
    assert {c.trigger for sl in copied for c in sl.status_changes.all()} == {"copied"}


def test_seed_003_copying_fills_the_free_places_first_then_the_waiting_list(admin_user):
    _source, rows = session_with([S.CANCELLED, S.CANCELLED, S.CANCELLED])
    target = make_session(status=LiveSession.Status.READY, capacity=2, waiting_list_enabled=True)
    copied = services.copy_learners(rows, target, status=S.REGISTERED, actor=admin_user)
    assert [sl.status for sl in copied] == [S.REGISTERED, S.REGISTERED, S.WAITING_LIST]
    assert copied[2].copy_outcome == S.WAITING_LIST and "waiting list" in copied[2].copy_message


def test_seed_003_copying_into_a_full_session_without_waiting_list_says_who_was_not_copied(admin_user):
    _source, (cancelled,) = session_with([S.CANCELLED])
    target, _taken = session_with([S.REGISTERED], capacity=1)
    (outcome,) = services.copy_learners_with_outcomes([cancelled], target, status=S.REGISTERED, actor=admin_user)
    assert outcome.outcome == "refused_full" and outcome.session_learner is None
    assert "full and has no waiting list" in outcome.message
    assert services.copy_learners([cancelled], target, status=S.REGISTERED, actor=admin_user) == []


def test_seed_003_copying_someone_already_in_the_target_keeps_their_status_there(admin_user):
    learner = make_learner()
    source = make_session(status=LiveSession.Status.READY)
    target = make_session(status=LiveSession.Status.READY)
    (there,) = services.add_learners(target, [learner])
    services.set_status([there], S.ATTENDED, actor=None)
    (sl,) = services.add_learners(source, [learner])
    (outcome,) = services.copy_learners_with_outcomes([sl], target, status=S.REGISTERED, actor=admin_user)
    assert outcome.outcome == "already_in_session" and "already in the target session (attended)" in outcome.message


def test_seed_003_copying_as_invited_into_a_draft_session_keeps_them_not_invited(admin_user):
    _source, rows = session_with([S.WAITING_LIST])
    target = make_session()
    (copied,) = services.copy_learners(rows, target, status=S.INVITED, actor=admin_user)
    assert copied.status == S.NOT_INVITED


def test_seed_003_copying_as_invited_into_a_ready_session_sends_the_calendar_invitation(admin_user):
    from notifications.models import Notification

    _source, rows = session_with([S.WAITING_LIST])
    target = make_session(status=LiveSession.Status.READY)
    (copied,) = services.copy_learners(rows, target, status=S.INVITED, actor=admin_user)
    assert copied.status == S.INVITED
    assert Notification.objects.filter(event="session.invitation", recipient_learner=copied.learner).count() == 1


def test_seed_003_export_is_an_xlsx_with_status_contacts_history_dates_and_attendance():
    session, rows = session_with([S.ATTENDED, S.ABSENT, S.REGISTERED])
    data = services.export_learners(session, rows[:2])
    book = load_workbook(BytesIO(data))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    for column in ("Last name", "Email", "Phone", "Status", "Attendance", "Added", "Registered", "History"):
        assert column in header
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= 30
    body = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(body) == 2
    by_email = {row["Email"]: row for row in body}
    attended = by_email[rows[0].learner.email]
    assert attended["Status"] == "Attended" and attended["Attendance"] == "Attended"
    assert by_email[rows[1].learner.email]["Attendance"] == "Absent"
    assert attended["Added"] is not None and "Attended" in attended["History"]


def test_seed_003_export_of_2000_learners_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    from learners.models import Learner

    session = make_session()
    learners = Learner.objects.bulk_create(
        Learner(email=f"x{i}@example.com", first_name="X", last_name=str(i)) for i in range(2000)
    )
    rows = services.add_learners(session, learners)
    with django_assert_max_num_queries(3):
        data = services.export_learners(session, rows)
    assert load_workbook(BytesIO(data)).active.max_row == 2001


def test_seed_003_copying_2000_learners_costs_a_fixed_number_of_queries(admin_user, django_assert_max_num_queries):
    from learners.models import Learner

    source = make_session()
    target = make_session(status=LiveSession.Status.READY, capacity=1500, waiting_list_enabled=True)
    learners = Learner.objects.bulk_create(
        Learner(email=f"c{i}@example.com", first_name="C", last_name=str(i)) for i in range(2000)
    )
    rows = services.add_learners(source, learners)
    with django_assert_max_num_queries(15):
        outcomes = services.copy_learners_with_outcomes(rows, target, status=S.REGISTERED, actor=admin_user)
    assert sum(o.outcome == S.REGISTERED for o in outcomes) == 1500
    assert sum(o.outcome == S.WAITING_LIST for o in outcomes) == 500
