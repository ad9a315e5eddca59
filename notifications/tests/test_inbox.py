"""The inbox link sent with system messages (seed 004): it signs the recipient into their own
inbox without a password, and works for 7 days from the message's sending."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from learners.models import Guardian, Learner
from notifications.links import inbox_link
from notifications.models import Notification

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def make_learner(email, **kwargs):
    return Learner.objects.create(
        email=email, first_name=email.split("@")[0].title(), last_name="Test", consent_given_at=SENT, **kwargs
    )


def inbox_message(*, subject, sent_at=SENT, learner=None, guardian=None, status="sent", channel="inbox"):
    recipient_key = f"g{guardian.pk}" if guardian else f"l{learner.pk}"
    return Notification.objects.create(
        event="inbox.new_message",
        channel=channel,
        recipient_learner=guardian.learner if guardian else learner,
        recipient_guardian=guardian,
        subject=subject,
        body=f"Body of {subject}",
        status=status,
        sent_at=sent_at if status == "sent" else None,
        created_at=sent_at,
        dedupe_key=f"test:{recipient_key}:{channel}:{subject}",
    )


def path_of(url):
    assert url.startswith(settings.SITE_URL + "/inbox/open/")
    return url[len(settings.SITE_URL) :]


def test_the_inbox_link_shows_a_learner_with_an_account_their_messages_newest_first_without_a_django_login(
    client, django_user_model
):
    user = django_user_model.objects.create_user("ada", "ada@example.com", "pw")
    ada = make_learner("ada@example.com", user=user)
    older = inbox_message(learner=ada, subject="Older", sent_at=SENT - timedelta(days=1))
    newer = inbox_message(learner=ada, subject="Newer")
    inbox_message(learner=ada, subject="Not delivered yet", status="queued")
    inbox_message(learner=ada, subject="An email", channel="email")
    inbox_message(learner=make_learner("bob@example.com"), subject="Bob's secret")

    with time_machine.travel(SENT + timedelta(hours=1), tick=False):
        response = client.get(path_of(inbox_link(newer)))
        assert response.status_code == 302 and response["Location"] == "/inbox/"
        assert "_auth_user_id" not in client.session
        page = client.get("/inbox/")
    content = page.content.decode()
    assert page.status_code == 200
    assert content.index("Newer") < content.index("Older")
    for hidden in ("Not delivered yet", "An email", "Bob&#x27;s secret"):
        assert hidden not in content
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.read_at == newer.read_at == SENT + timedelta(hours=1)


def test_a_learner_without_an_account_reads_their_inbox_through_the_session(client):
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Timetable")
    with time_machine.travel(SENT, tick=False):
        assert client.get(path_of(inbox_link(message))).status_code == 302
        page = client.get("/inbox/")
    assert page.status_code == 200 and "Timetable" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_guardian_sees_their_own_copy_not_the_learners_inbox(client):
    ada = make_learner("ada@example.com")
    parent = Guardian.objects.create(learner=ada, name="Parent", email="parent@example.com")
    inbox_message(learner=ada, subject="For Ada only")
    copy = inbox_message(guardian=parent, subject="Copy for the parent")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(copy)))
        content = client.get("/inbox/").content.decode()
    assert "Copy for the parent" in content and "For Ada only" not in content


def test_the_inbox_link_expires_after_seven_days_from_sending(client):
    """Seed 004: "Link jest aktywny przez 7 dni od momentu wysłania powiadomienia"."""
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Timetable")
    path = path_of(inbox_link(message))
    with time_machine.travel(SENT + timedelta(days=7) - timedelta(minutes=1), tick=False):
        assert client.get(path).status_code == 302
    fresh = type(client)()
    with time_machine.travel(SENT + timedelta(days=7, minutes=1), tick=False):
        response = fresh.get(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert fresh.get("/inbox/").status_code == 403


def test_a_tampered_inbox_link_is_refused_with_400(client):
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Timetable")
    path = path_of(inbox_link(message))
    tampered = path.replace("/inbox/open/", "/inbox/open/x")
    with time_machine.travel(SENT, tick=False):
        assert client.get(tampered).status_code == 400
    assert client.get("/inbox/").status_code == 403


def test_an_action_token_is_not_an_inbox_link(client):
    from notifications.links import make_action_url

    ada = make_learner("ada@example.com")
    url = make_action_url(purpose="invitation", obj=1, recipient=ada, expires_in=timedelta(days=1))
    token = url.rstrip("/").split("/")[-1]
    assert client.get(f"/inbox/open/{token}/").status_code == 400


def test_a_link_opened_from_another_site_does_not_sign_a_staff_member_out_of_the_admin(client, django_user_model):
    """issue 16 (Low): opening an inbox link logged out the signed-in staff user, so any site could end an
    administrator's session with a link. The link's grant now sits beside the login, and reads the inbox."""
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True, is_superuser=True)
    client.force_login(staff)
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="For Ada")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(message)), HTTP_REFERER="https://evil.test/page")
        content = client.get("/inbox/").content.decode()
        assert client.session["_auth_user_id"] == str(staff.pk)
        assert client.get("/admin/").status_code == 200
    assert "For Ada" in content


def test_a_learners_inbox_link_opened_in_a_staff_browser_gives_the_learner_no_admin(client, django_user_model):
    """issue 16: the two stay apart both ways: the grant reads one inbox, the admin still needs a staff login."""
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="For Ada")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(message)))
        assert "For Ada" in client.get("/inbox/").content.decode()
        assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_inbox_page_costs_the_same_few_queries_whatever_the_number_of_messages(
    client, django_assert_max_num_queries
):
    """House rule: set-based reads; 1 or 60 messages, the same 7 queries (session, owner, messages, read,
    the learner's training to start: assignments, e-learning courses, and the reminders she unsubscribed from)."""
    ada = make_learner("ada@example.com")
    first = inbox_message(learner=ada, subject="m0")
    for i in range(1, 60):
        inbox_message(learner=ada, subject=f"m{i}")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(first)))
        with django_assert_max_num_queries(7):
            response = client.get("/inbox/")
    assert response.content.decode().count('class="list-group-item"') == 60


def test_the_inbox_shows_dates_in_the_readers_time_zone(client):
    ada = make_learner("ada@example.com", timezone="Europe/Warsaw", language="pl")
    message = inbox_message(learner=ada, subject="Plan", sent_at=datetime(2026, 1, 15, 13, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 1, 15, 14, 0, tzinfo=UTC), tick=False):
        client.get(path_of(inbox_link(message)))
        content = client.get("/inbox/").content.decode()
    assert "14:00" in content and "stycznia" in content


# --- Issue 7: the inbox link is a bearer token for the recipient's own pages, nothing more ---------


def test_the_inbox_link_of_a_superuser_linked_learner_gives_no_admin_page(client, django_user_model):
    """Seed 004 link, attacked: whoever holds the email of a learner linked to a superuser gets the
    learner's inbox, never the Django admin nor any staff permission."""
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    ada = make_learner("ada@example.com", user=boss)
    message = inbox_message(learner=ada, subject="Timetable")
    with time_machine.travel(SENT, tick=False):
        assert client.get(path_of(inbox_link(message))).status_code == 302
        assert "Timetable" in client.get("/inbox/").content.decode()
        admin_page = client.get("/admin/")
        admin_list = client.get("/admin/learners/learner/")
    assert "_auth_user_id" not in client.session
    assert admin_page.status_code == 302 and admin_page["Location"].startswith("/admin/login/")
    assert admin_list.status_code == 302 and admin_list["Location"].startswith("/admin/login/")


def test_a_site_administrators_inbox_link_gives_their_messages_and_no_admin(client, django_user_model):
    """A system message to a site administrator (recipient_user): the link reads that inbox only."""
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    row = Notification.objects.create(
        event="program.exception",
        channel="inbox",
        recipient_user=boss,
        subject="Exception reported",
        status="sent",
        sent_at=SENT,
        dedupe_key="test:u:inbox:1",
    )
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(row)))
        assert "Exception reported" in client.get("/inbox/").content.decode()
        assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_opening_the_inbox_link_cycles_the_session_key(client):
    """No session fixation: a session id planted before the link is opened does not carry the grant."""
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Timetable")
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(message)))
        assert client.session.session_key != planted
        attacker = type(client)()
        attacker.cookies[settings.SESSION_COOKIE_NAME] = planted
        assert attacker.get("/inbox/").status_code == 403
        assert client.get("/inbox/").status_code == 200


def test_the_grant_ends_when_the_link_expires_even_if_the_session_lives_on(client):
    """The session may outlive the link (2 weeks): what the link granted does not."""
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Timetable")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(message)))
    with time_machine.travel(SENT + timedelta(days=7, minutes=1), tick=False):
        assert client.get("/inbox/").status_code == 403


def test_a_deactivated_learners_link_shows_a_clear_page_and_no_messages(client):
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Private timetable")
    path = path_of(inbox_link(message))
    Learner.objects.filter(pk=ada.pk).update(is_active=False)
    with time_machine.travel(SENT, tick=False):
        response = client.get(path)
        page = client.get("/inbox/")
    assert response.status_code == 403 and "no longer active" in response.content.decode()
    assert "Private timetable" not in response.content.decode() + page.content.decode()


def test_a_learner_deactivated_after_opening_the_link_reads_nothing_more(client):
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="Private timetable")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(message)))
        Learner.objects.filter(pk=ada.pk).update(is_active=False)
        page = client.get("/inbox/")
    assert page.status_code == 403 and "Private timetable" not in page.content.decode()


def test_the_guardian_of_a_deactivated_learner_reads_nothing(client):
    ada = make_learner("ada@example.com", is_active=False)
    parent = Guardian.objects.create(learner=ada, name="Parent", email="parent@example.com")
    copy = inbox_message(guardian=parent, subject="Copy for the parent")
    with time_machine.travel(SENT, tick=False):
        response = client.get(path_of(inbox_link(copy)))
    assert response.status_code == 403 and "Copy for the parent" not in response.content.decode()


OPENED = datetime(2030, 1, 1, tzinfo=UTC)
SOON = int((OPENED + timedelta(days=3)).timestamp())


@pytest.mark.parametrize(
    "payload",
    [
        {"r": "KEY", "e": SOON + 60 * 86400},
        {"r": "KEY", "e": 10**30},
        {"r": "KEY", "e": 2**62},
        {"r": "KEY", "e": True},
        {"r": "KEY", "e": "soon"},
        {"r": ["KEY"], "e": SOON},
        {"r": "l" + "9" * 40, "e": SOON},
        {"r": "l" + "9" * 5000, "e": SOON},
        {"r": "x1", "e": SOON},
        {"e": SOON},
        ["KEY"],
    ],
    ids=lambda p: repr(p)[:40],
)
def test_validly_signed_absurd_inbox_tokens_answer_400(client, payload):
    from django.core import signing

    from notifications.links import INBOX_SALT

    key = f"l{make_learner('ada@example.com').pk}"
    payload = (
        {k: key if v == "KEY" else [key] if v == ["KEY"] else v for k, v in payload.items()}
        if isinstance(payload, dict)
        else [key]
    )
    token = signing.dumps(payload, salt=INBOX_SALT, compress=True)
    with time_machine.travel(OPENED, tick=False):
        response = client.get(f"/inbox/open/{token}/")
    assert response.status_code == 400
    assert client.get("/inbox/").status_code == 403


def test_link_and_inbox_pages_are_never_stored_by_a_cache(client):
    """issue 16: a recipient's page (their inbox, an expired or tampered link) says Cache-Control: no-store."""
    ada = make_learner("ada@example.com")
    link = path_of(inbox_link(inbox_message(learner=ada, subject="For Ada")))
    with time_machine.travel(SENT, tick=False):
        responses = [client.get(link), client.get("/inbox/"), client.get(link.replace("/open/", "/open/x"))]
    responses.append(client.get("/a/not-a-token/"))
    for response in responses:
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_an_empty_inbox_says_how_many_emails_went_to_the_learner_and_where(client):
    """Issue 20 "Each message once": the inbox said "no message" to a learner who had received five emails."""
    ada = make_learner("ada@example.com")
    link = inbox_message(learner=ada, subject="never delivered", status="cancelled")
    for i in range(5):
        inbox_message(learner=ada, subject=f"email {i}", channel="email")
    Notification.objects.filter(channel="email").update(to="ada@example.com")

    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(link)))
        content = client.get("/inbox/").content.decode()

    assert "No system message. 5 emails were sent to a…@example.com." in content


def test_the_links_of_a_system_message_are_clickable_in_the_inbox(client):
    ada = make_learner("ada@example.com")
    first = inbox_message(learner=ada, subject="Your session")
    Notification.objects.filter(pk=first.pk).update(body="Choose your date: https://lms.example.org/a/xyz/ <b>")

    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(first)))
        content = client.get("/inbox/").content.decode()

    assert '<a href="https://lms.example.org/a/xyz/" rel="nofollow">https://lms.example.org/a/xyz/</a>' in content
    assert "<b>" not in content.split('class="message-body"')[1]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", "Aucun message système. 2 e-mails ont été envoyés à a…@example.com."),
        ("pl", "Brak wiadomości systemowych. 2 e-maile wysłano na adres a…@example.com."),
    ],
)
def test_the_empty_inbox_says_where_emails_went_in_the_learners_language(client, language, words):
    ada = make_learner("ada@example.com", language=language)
    link = inbox_message(learner=ada, subject="never delivered", status="cancelled")
    for i in range(2):
        inbox_message(learner=ada, subject=f"email {i}", channel="email")
    Notification.objects.filter(channel="email").update(to="ada@example.com")

    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(link)))
        content = client.get("/inbox/").content.decode()

    assert words in content
