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


def test_the_inbox_link_signs_a_learner_with_an_account_in_and_shows_their_messages_newest_first(
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
        assert int(client.session["_auth_user_id"]) == user.pk
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


def test_opening_someone_elses_link_signs_the_previous_user_out(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw")
    client.force_login(staff)
    ada = make_learner("ada@example.com")
    message = inbox_message(learner=ada, subject="For Ada")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(message)))
        content = client.get("/inbox/").content.decode()
    assert "_auth_user_id" not in client.session
    assert "For Ada" in content


def test_the_inbox_page_costs_the_same_few_queries_whatever_the_number_of_messages(
    client, django_assert_max_num_queries
):
    """House rule: set-based reads; 1 or 60 messages, the same 4 queries (session, owner, messages, read)."""
    ada = make_learner("ada@example.com")
    first = inbox_message(learner=ada, subject="m0")
    for i in range(1, 60):
        inbox_message(learner=ada, subject=f"m{i}")
    with time_machine.travel(SENT, tick=False):
        client.get(path_of(inbox_link(first)))
        with django_assert_max_num_queries(4):
            response = client.get("/inbox/")
    assert response.content.decode().count('class="list-group-item"') == 60


def test_the_inbox_shows_dates_in_the_readers_time_zone(client):
    ada = make_learner("ada@example.com", timezone="Europe/Warsaw", language="pl")
    message = inbox_message(learner=ada, subject="Plan", sent_at=datetime(2026, 1, 15, 13, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 1, 15, 14, 0, tzinfo=UTC), tick=False):
        client.get(path_of(inbox_link(message)))
        content = client.get("/inbox/").content.decode()
    assert "14:00" in content and "stycznia" in content
