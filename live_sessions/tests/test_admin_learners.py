"""The administrator's Session Learners card and its actions (seed 003 "Manage Learners")."""

from io import BytesIO

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from learners.models import GroupMembership, Learner, LearnerGroup
from live_sessions.admin import LEARNERS_SHOWN, SessionLearnerAdmin
from live_sessions.models import LiveSession, SessionLearner, StatusChange
from notifications.models import Notification

from .conftest import (
    make_learner,
    make_session,
    make_user,
    received_the_calendar_file,
    session_form_data,
    shown_inputs,
)

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status
CHANGELIST = "admin:live_sessions_sessionlearner_changelist"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def boss_client(client, admin_user):
    client.force_login(admin_user)
    return client


def staff_with(*codenames):
    """A staff user holding only the named live_sessions permissions."""
    user = make_user(f"staff-{'-'.join(codenames) or 'none'}", is_staff=True)
    granted = Permission.objects.filter(content_type__app_label="live_sessions", codename__in=codenames)
    user.user_permissions.set(granted)
    return user


def enrol(session, statuses, **learner_fields):
    """Session learners in the given statuses, created directly as the starting situation of a test."""
    return [
        SessionLearner.objects.create(session=session, learner=make_learner(**learner_fields), status=status)
        for status in statuses
    ]


def bulk_enrol(session, n, status=Status.REGISTERED):
    start = Learner.objects.count()
    learners = Learner.objects.bulk_create(
        Learner(
            email=f"bulk{start + i}@example.com",
            first_name="Bulk",
            last_name=f"L{start + i:05d}",
            consent_given_at=timezone.now(),
        )
        for i in range(n)
    )
    SessionLearner.objects.bulk_create(SessionLearner(session=session, learner=x, status=status) for x in learners)


def session_page(session):
    return reverse("admin:live_sessions_livesession_change", args=[session.pk])


def post_action(client, action, rows, *, session=None, select_across=False, follow=False, **data):
    url = reverse(CHANGELIST)
    if session is not None:
        url += f"?session__id__exact={session.pk}"
    payload = {"action": action, "_selected_action": [sl.pk for sl in rows], **data}
    if select_across:
        payload["select_across"] = "1"
    return client.post(url, payload, follow=follow)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- the session page ------------------------------------------------------------------------------------------


def test_the_session_page_shows_fill_rate_counts_per_status_and_badges(boss_client):
    """seed 003 "Fill Rate": (registered + go show + attended) / capacity, with counts per status."""
    session = make_session(capacity=8)
    statuses = [Status.REGISTERED, Status.GO_SHOW, Status.ATTENDED, Status.CANCELLED, Status.WAITING_LIST]
    rows = enrol(session, statuses + [Status.REGISTERED])
    page = boss_client.get(session_page(session)).content.decode()
    assert "4/8 (50%)" in page
    assert "Registered: 2" in page and "Waiting list: 1" in page and "Absent: 0" in page
    assert 'class="sl-badge sl-badge-go_show"' in page
    assert rows[0].learner.email in page


def test_the_session_page_filters_its_learners_by_status_and_searches_them(boss_client):
    """seed 003 "Manage Learners": the card filters by status and finds a learner by name or email."""
    session = make_session()
    registered, waiting = enrol(session, [Status.REGISTERED, Status.WAITING_LIST])
    page = boss_client.get(session_page(session), {"learner_status": "waiting_list"}).content.decode()
    assert waiting.learner.email in page and registered.learner.email not in page
    page = boss_client.get(session_page(session), {"learner_q": registered.learner.last_name}).content.decode()
    assert registered.learner.email in page and waiting.learner.email not in page


def test_with_2000_learners_the_session_pages_cost_the_same_queries_as_with_5(
    boss_client, django_assert_max_num_queries
):
    """seed 003: the session list, the session page and its full learner list stay cheap at 2,000 learners."""
    session = make_session(capacity=2500)
    bulk_enrol(session, 5)
    urls = [
        reverse("admin:live_sessions_livesession_changelist"),
        session_page(session),
        reverse(CHANGELIST) + f"?session__id__exact={session.pk}",
    ]
    small = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert boss_client.get(url).status_code == 200
        small[url] = len(queries)
    bulk_enrol(session, 1995)
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            response = boss_client.get(url)
        assert response.status_code == 200
    page = boss_client.get(session_page(session)).content.decode()
    assert "2000/2500 (80%)" in page and "Registered: 2000" in page
    assert page.count('name="_selected_action"') == LEARNERS_SHOWN


# --- add learners ----------------------------------------------------------------------------------------------


def test_add_learners_by_search_or_a_whole_group(boss_client, admin_user):
    """seed 003 "Add Learners": a draft session lists them as not invited; those already in it are left alone."""
    session = make_session()
    picked, member, already = make_learner(), make_learner(), make_learner()
    enrol_already = SessionLearner.objects.create(session=session, learner=already, status=Status.REGISTERED)
    group = LearnerGroup.objects.create(name="Nurses")
    GroupMembership.objects.create(group=group, learner=member)
    GroupMembership.objects.create(group=group, learner=already)
    url = reverse("admin:live_sessions_livesession_add_learners", args=[session.pk])
    assert boss_client.get(url).status_code == 200
    response = boss_client.post(url, {"learners": [picked.pk], "group": group.pk}, follow=True)
    words = messages_of(response)
    assert any("2 learners added" in m and "not invited" in m for m in words), words
    assert any("1 learner was already in this session" in m for m in words), words
    statuses = dict(session.session_learners.values_list("learner_id", "status"))
    assert statuses == {picked.pk: "not_invited", member.pk: "not_invited", already.pk: "registered"}
    change = StatusChange.objects.get(session_learner__learner=picked)
    assert (change.from_status, change.to_status, change.actor) == ("", "not_invited", admin_user)
    enrol_already.refresh_from_db()
    assert enrol_already.status == Status.REGISTERED


def test_adding_learners_to_a_ready_session_with_calendar_integration_invites_them(boss_client):
    """seed 003: "- -> Invited" when the session has the calendar integration."""
    session = make_session(status=LiveSession.Status.READY, calendar_integration=True)
    learner = make_learner()
    url = reverse("admin:live_sessions_livesession_add_learners", args=[session.pk])
    response = boss_client.post(url, {"learners": [learner.pk]}, follow=True)
    assert any("1 learner added" in m and "invited" in m for m in messages_of(response))
    assert session.session_learners.get().status == Status.INVITED
    assert Notification.objects.filter(recipient_learner=learner, event="session.invitation").exists()


def test_add_learners_needs_a_choice_and_the_permission(client):
    """seed 003: a staff user without the permission to add session learners gets 403 and adds nobody."""
    session = make_session()
    learner = make_learner()
    url = reverse("admin:live_sessions_livesession_add_learners", args=[session.pk])
    client.force_login(staff_with("view_livesession", "view_sessionlearner"))
    assert client.post(url, {"learners": [learner.pk]}).status_code == 403
    assert not session.session_learners.exists()
    client.force_login(staff_with("view_livesession", "add_sessionlearner"))
    response = client.post(url, {})
    assert response.status_code == 200 and "Choose learners, a group, or both." in response.content.decode()


# --- update status ---------------------------------------------------------------------------------------------


def test_update_status_sets_any_status_and_records_it_as_manual(boss_client, admin_user):
    """seed 003 "Update Learner Status": select learners, choose any status; the history says manual."""
    session = make_session()
    invited, cancelled = enrol(session, [Status.INVITED, Status.CANCELLED])
    page = post_action(boss_client, "update_status", [invited, cancelled], session=session)
    assert page.status_code == 200 and "Update the status of the selected learners" in page.content.decode()
    response = post_action(
        boss_client, "update_status", [invited, cancelled], session=session, apply="1", status="attended", follow=True
    )
    assert any("2 learners are now attended (recorded as a manual change)" in m for m in messages_of(response))
    for sl in (invited, cancelled):
        change = StatusChange.objects.get(session_learner=sl)
        assert (change.to_status, change.trigger, change.actor) == ("attended", "manual", admin_user)


def test_update_status_without_the_change_permission_changes_nothing(client):
    """seed 003: the action declares its permission; a staff user who only views cannot use it."""
    session = make_session()
    (sl,) = enrol(session, [Status.INVITED])
    client.force_login(staff_with("view_sessionlearner"))
    response = post_action(client, "update_status", [sl], apply="1", status="registered", follow=True)
    assert response.status_code == 200
    sl.refresh_from_db()
    assert sl.status == Status.INVITED and not StatusChange.objects.exists()


# --- send email ------------------------------------------------------------------------------------------------


def test_send_email_previews_who_gets_it_and_who_is_skipped_then_sends_the_edited_text(boss_client):
    """seed 003 "Email Types": an attendance reminder goes to registered learners only; the others are skipped
    with the reason in words, and the administrator edits subject and body before sending."""
    session = make_session(status=LiveSession.Status.READY)
    registered, invited = enrol(session, [Status.REGISTERED, Status.INVITED])
    choose = post_action(boss_client, "send_email", [registered, invited], session=session)
    assert "Waiting learners invitation" in choose.content.decode()
    preview = post_action(
        boss_client, "send_email", [registered, invited], session=session, email_type="attendance_reminder"
    )
    page = preview.content.decode()
    assert registered.learner.full_name in page.split('id="email-skipped"')[0]
    skipped = page.split('id="email-skipped"')[1].split("</table>")[0]
    assert invited.learner.full_name in skipped and "this email is only for registered learners" in skipped
    form = preview.context["form"]
    assert form.initial["subject"] and form.initial["body"]
    send = {
        "email_type": "attendance_reminder",
        "send_id": form.initial["send_id"],
        "subject": "See you tomorrow, {{ learner.first_name }}",
        "body": "Bring your badge.",
        "send": "1",
    }
    response = post_action(boss_client, "send_email", [registered, invited], session=session, follow=True, **send)
    words = messages_of(response)
    assert any("Attendance reminder sent to 1 learner" in m for m in words), words
    assert any("Skipped 1 learner" in m and invited.learner.full_name in m for m in words), words
    (message,) = Notification.objects.filter(event="session.attendance_reminder")
    assert message.recipient_learner == registered.learner
    assert message.subject == f"See you tomorrow, {registered.learner.first_name}"
    # A second click on the same preview page sends nothing twice.
    post_action(boss_client, "send_email", [registered, invited], session=session, **send)
    assert Notification.objects.filter(event="session.attendance_reminder").count() == 1


def test_a_broken_edited_template_is_refused_in_words_and_nothing_is_sent(boss_client):
    """Bad input gets a clear message and changes nothing."""
    session = make_session(status=LiveSession.Status.READY)
    (registered,) = enrol(session, [Status.REGISTERED])
    data = {"email_type": "custom", "send_id": "a" * 32, "subject": "Hi {% if %}", "body": "x", "send": "1"}
    response = post_action(boss_client, "send_email", [registered], session=session, **data)
    assert response.status_code == 200
    assert "does not compile" in response.content.decode()
    assert not Notification.objects.filter(event="session.custom").exists()


def test_send_email_needs_one_session_and_the_permission(client, admin_user):
    """seed 003: a staff user without the permission sends nothing; learners of two sessions are refused."""
    first, second = make_session(), make_session(title="Other")
    (a,) = enrol(first, [Status.REGISTERED])
    (b,) = enrol(second, [Status.REGISTERED])
    client.force_login(staff_with("view_sessionlearner"))
    data = {"email_type": "custom", "send_id": "b" * 32, "subject": "S", "body": "B", "send": "1"}
    post_action(client, "send_email", [a], **data)
    assert not Notification.objects.exists()
    client.force_login(admin_user)
    response = post_action(client, "send_email", [a, b], follow=True)
    assert any("one session only" in m for m in messages_of(response))


# --- export ----------------------------------------------------------------------------------------------------


def test_export_downloads_an_xlsx_of_the_selected_learners(boss_client):
    """seed 003 "Export the list of learners": an .xlsx file with the selected learners."""
    session = make_session()
    registered, waiting, _other = enrol(session, [Status.REGISTERED, Status.WAITING_LIST, Status.INVITED])
    response = post_action(boss_client, "export_xlsx", [registered, waiting], session=session)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert response["Content-Disposition"].startswith('attachment; filename="first-aid-workshop-')
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    emails = {cell for row in rows[1:] for cell in row}
    assert registered.learner.email in emails and waiting.learner.email in emails
    assert "Registered" in {str(c) for c in rows[1] + rows[2]} or "registered" in {str(c) for c in rows[1] + rows[2]}


def test_export_is_not_offered_to_staff_who_may_only_look(client):
    """seed 003 "Export": the learners' contact details leave the app only for those who manage them."""
    session = make_session()
    (sl,) = enrol(session, [Status.REGISTERED])
    client.force_login(staff_with("view_sessionlearner"))
    response = post_action(client, "export_xlsx", [sl], follow=True)
    assert response.status_code == 200 and not response["Content-Type"].startswith("application/vnd")
    assert "export_xlsx" not in SessionLearnerAdmin(SessionLearner, admin.site).get_actions(response.wsgi_request)
    client.force_login(make_user("nobody", is_staff=True))
    assert post_action(client, "export_xlsx", [sl]).status_code == 403


# --- copy ------------------------------------------------------------------------------------------------------


def test_copy_into_a_full_session_puts_learners_on_its_waiting_list_and_says_so(boss_client):
    """seed 003 "Copy Learners": the target's automation applies; a full session puts them on its waiting list."""
    source = make_session(title="Monday")
    target = make_session(title="Tuesday", capacity=1, waiting_list_enabled=True)
    enrol(target, [Status.REGISTERED])
    waiting, cancelled = enrol(source, [Status.WAITING_LIST, Status.CANCELLED])
    form = post_action(boss_client, "copy_to_session", [waiting, cancelled], session=source)
    assert form.status_code == 200 and "Tuesday" in form.content.decode()
    response = post_action(
        boss_client,
        "copy_to_session",
        [waiting, cancelled],
        session=source,
        apply="1",
        target=target.pk,
        status="registered",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("was copied as waiting list (the target session&#x27;s automation)") == 2, page
    assert set(target.session_learners.values_list("status", flat=True)) == {"registered", "waiting_list"}


def test_copy_into_a_full_session_without_waiting_list_copies_nobody_and_names_them(boss_client):
    source = make_session(title="Monday")
    target = make_session(title="Tuesday", capacity=1)
    enrol(target, [Status.REGISTERED])
    (sl,) = enrol(source, [Status.CANCELLED])
    data = {"apply": "1", "target": target.pk, "status": "registered"}
    page = post_action(boss_client, "copy_to_session", [sl], session=source, **data).content.decode()
    assert "was not copied: the target session is full and has no waiting list" in page
    assert target.session_learners.count() == 1


def test_copy_without_the_add_permission_changes_nothing(client):
    source, target = make_session(title="Monday"), make_session(title="Tuesday")
    (sl,) = enrol(source, [Status.CANCELLED])
    client.force_login(staff_with("view_sessionlearner", "change_sessionlearner"))
    post_action(client, "copy_to_session", [sl], apply="1", target=target.pk, status="registered")
    assert not target.session_learners.exists()


# --- bulk actions at 2,000 learners ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, data",
    [
        ("update_status", {"apply": "1", "status": "attended"}),
        ("export_xlsx", {}),
        ("send_email", {"email_type": "attendance_reminder"}),
        ("send_email", {"email_type": "custom", "send_id": "c" * 32, "subject": "S", "body": "B", "send": "1"}),
        ("copy_to_session", {"apply": "1", "status": "not_invited"}),
    ],
)
def test_each_bulk_action_costs_the_same_queries_for_2000_learners_as_for_5(
    boss_client, django_assert_max_num_queries, action, data
):
    """seed 003: the actions on selected learners are set-based (all learners of the session selected)."""

    def run(n):
        session = make_session(title=f"S{n}", capacity=0, status=LiveSession.Status.READY)
        bulk_enrol(session, n)
        payload = dict(data)
        if action == "copy_to_session":
            payload["target"] = make_session(title=f"T{n}").pk
        first = session.session_learners.first()
        return lambda: post_action(boss_client, action, [first], session=session, select_across=True, **payload)

    small = run(5)
    with CaptureQueriesContext(connection) as queries:
        assert small().status_code in (200, 302)
    large = run(2000)
    with django_assert_max_num_queries(len(queries)):
        response = large()
    assert response.status_code in (200, 302)
    if "send" in data:
        assert Notification.objects.filter(event="session.custom").count() == 2005


# --- the session form goes through the services ----------------------------------------------------------------


def test_setting_a_draft_session_to_ready_publishes_it_and_invites_its_learners(boss_client, settings):
    """seed 003 "Not invited -> Invited": when the admin changes the session status to Ready, once she has seen
    who will be invited (issue 18)."""
    settings.TIME_ZONE = "UTC"
    session = make_session()
    not_invited, not_invited_too = enrol(session, [Status.NOT_INVITED, Status.NOT_INVITED])
    page = boss_client.post(session_page(session), session_form_data(session, status="ready"), follow=True)
    assert not Notification.objects.exists() and "2 messages will go." in page.content.decode()
    response = boss_client.post(page.request["PATH_INFO"], shown_inputs(page), follow=True)
    assert any("Published. 2 messages sent, 0 omitted." in m for m in messages_of(response))
    assert set(session.session_learners.values_list("status", flat=True)) == {"invited"}
    assert StatusChange.objects.filter(trigger="session_published").count() == 2
    assert Notification.objects.filter(event="session.invitation").count() == 2


def test_a_session_status_move_the_flow_does_not_know_is_refused_on_the_form(boss_client, settings):
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    response = boss_client.post(session_page(session), session_form_data(session, status="draft"))
    assert response.status_code == 200
    assert "A ready session cannot become draft." in response.content.decode()
    session.refresh_from_db()
    assert session.status == "ready"


def test_raising_the_capacity_on_the_form_offers_the_free_place_to_the_waiting_list(boss_client, settings):
    """seed 003 "Waiting List -> Invited" when spots become available."""
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY, capacity=1, waiting_list_enabled=True)
    enrol(session, [Status.REGISTERED])
    (waiting,) = enrol(session, [Status.WAITING_LIST])
    SessionLearner.objects.filter(pk=waiting.pk).update(waiting_since=waiting.created_at)
    response = boss_client.post(session_page(session), session_form_data(session, capacity=2), follow=True)
    assert any("1 learner of the waiting list was offered a free place." in m for m in messages_of(response))
    waiting.refresh_from_db()
    assert waiting.status == Status.INVITED


def test_every_action_on_session_learners_declares_its_permission():
    """Project rule: every admin action declares its permission."""
    for name in SessionLearnerAdmin.actions:
        action = getattr(SessionLearnerAdmin, name)
        assert getattr(action, "allowed_permissions", None), name


def test_new_dates_on_the_session_form_send_the_updated_invitation_once_confirmed(boss_client, settings):
    """seed 003 / issue: rescheduling sends invited and registered learners the same invitation, updated;
    seed 002 §IV: after the administrator confirms the new dates on the confirmation page."""
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    invited, registered, declined = enrol(session, [Status.INVITED, Status.REGISTERED, Status.DECLINED])
    received_the_calendar_file(invited, registered, declined)
    # Issue 18: typed as the session's clock (Paris, UTC+1 in March) reads them: 10:00 there is 09:00 UTC.
    data = session_form_data(session, starts_at_1="10:00:00", ends_at_1="13:00:00")
    page = boss_client.post(session_page(session), data, follow=True)
    assert page.request["PATH_INFO"] == reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    session.refresh_from_db()
    assert (session.starts_at.hour, session.calendar_sequence) == (8, 0)
    assert not Notification.objects.filter(event="session.rescheduled").exists()
    response = boss_client.post(page.request["PATH_INFO"], shown_inputs(page), follow=True)
    assert any("New dates saved; 2 learners get the updated calendar invitation." in m for m in messages_of(response))
    session.refresh_from_db()
    assert (session.starts_at.hour, session.calendar_sequence) == (9, 1)
    told = set(Notification.objects.filter(event="session.rescheduled").values_list("recipient_learner", flat=True))
    assert told == {invited.learner_id, registered.learner_id}


def test_cancelling_on_the_session_form_cancels_its_learners_through_the_service(boss_client, settings):
    """Issue 18: the form leads to the cancel confirmation page; confirmed with a reason, the service cancels."""
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    (registered,) = enrol(session, [Status.REGISTERED])
    page = boss_client.post(session_page(session), session_form_data(session, status="cancelled"), follow=True)
    response = boss_client.post(
        page.request["PATH_INFO"], {**shown_inputs(page), "reason": "The trainer is ill."}, follow=True
    )
    assert any("Session cancelled" in m for m in messages_of(response))
    registered.refresh_from_db()
    assert registered.status == Status.CANCELLED
    assert StatusChange.objects.get(session_learner=registered).trigger == "session_cancelled"


def test_the_publish_action_invites_the_learners_of_draft_sessions_only(client, admin_user):
    """seed 003 "Not invited -> Invited", after the look of issue 18; a staff user who may only view sessions
    cannot publish."""
    draft, ready = make_session(title="Draft"), make_session(title="Ready", status=LiveSession.Status.READY)
    (waiting,) = enrol(draft, [Status.NOT_INVITED])
    url = reverse("admin:live_sessions_livesession_changelist")
    data = {"action": "publish_sessions", "_selected_action": [draft.pk, ready.pk]}
    client.force_login(staff_with("view_livesession"))
    client.post(url, data)
    draft.refresh_from_db()
    assert draft.status == LiveSession.Status.DRAFT
    client.force_login(admin_user)
    page = client.post(url, data, follow=True)
    assert "1 session was not a draft and was left as it was." in messages_of(page)
    response = client.post(page.request["PATH_INFO"], shown_inputs(page), follow=True)
    assert any(m.startswith("Published. 1 message sent") for m in messages_of(response))
    waiting.refresh_from_db()
    assert waiting.status == Status.INVITED


def test_select_all_within_a_session_search_never_widens_to_the_session_title(boss_client):
    """A word of the session's title must not select every learner of the session."""
    session = make_session(title="Safety first")
    safe, other = enrol(session, [Status.REGISTERED, Status.REGISTERED])
    Learner.objects.filter(pk=safe.learner_id).update(last_name="Safety")
    url = reverse(CHANGELIST) + f"?session__id__exact={session.pk}&q=safety"
    data = {"action": "update_status", "_selected_action": [safe.pk], "select_across": "1"}
    boss_client.post(url, {**data, "apply": "1", "status": "absent"})
    safe.refresh_from_db()
    other.refresh_from_db()
    assert (safe.status, other.status) == (Status.ABSENT, Status.REGISTERED)


def test_a_session_ending_before_it_starts_is_refused_on_the_form(boss_client, settings):
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    data = session_form_data(session, ends_at_0=session.starts_at.strftime("%Y-%m-%d"), ends_at_1="07:00:00")
    response = boss_client.post(session_page(session), data)
    assert "The session must end after it starts." in response.content.decode()
    session.refresh_from_db()
    assert session.calendar_sequence == 0


def test_a_session_learners_page_shows_its_status_history_in_words(boss_client, admin_user):
    """seed 003 / issue: every change is a StatusChange row shown on the session learner in the admin."""
    session = make_session()
    (sl,) = enrol(session, [Status.INVITED])
    post_action(boss_client, "update_status", [sl], apply="1", status="registered")
    page = boss_client.get(reverse("admin:live_sessions_sessionlearner_change", args=[sl.pk])).content.decode()
    assert "Status history" in page and "Updated by hand" in page and admin_user.username in page
