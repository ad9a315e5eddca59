"""Issue 20, "Learners never land in the admin": without LEARNING_PLATFORM_URL (the default), a learner's
buttons ("Continue my training", "Start my training", "Renew my certification", …) lead to her own pages — her
training and her messages, through her signed link — never to the staff login.

Her link is signed as the email leaves (issue 17, performance holds): the stored message names her pages, what
reaches her carries her link, valid seven days from its sending (seed 004)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail

from learners.models import Learner
from notifications.links import learner_home_url, own_pages_url, read_inbox_grant
from notifications.models import NotificationRule
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue
from notifications.variables import sample_context
from programs import services as programs
from programs.models import Program

pytestmark = pytest.mark.django_db

# Every built-in email with a button of the learner's that leads to her training (not to an answer link).
EVENTS_WITH_A_TRAINING_BUTTON = [
    "program.assigned",
    "program.completed",
    "program.course_set_completed",
    "program.course_set_due",
    "program.due",
    "program.unassigned",
    "certification.expiry",
    "certification.recertification_failed",
    "certification.window_open",
    "elearning.reminder",
    "notify.training_reminder",
    "notify.missing_training",
    "notify.renewal",
]
HREF = re.compile(r'href="([^"]+)"')
INBOX_LINK = re.compile(r"https?://[^\s\"<>]+/inbox/open/[^\s\"<>]+/")


@pytest.fixture(autouse=True)
def no_learning_platform(settings):
    settings.LEARNING_PLATFORM_URL = ""


def make_learner(language="en", **kwargs):
    return Learner.objects.create(
        email=f"ada.{language}@example.com",
        first_name="Ada",
        last_name="Lovelace",
        language=language,
        consent_given_at=datetime(2026, 1, 1, tzinfo=UTC),
        **kwargs,
    )


class Sent:
    """The email as it reached the learner: its text and HTML parts."""

    def __init__(self, email):
        self.body = email.body
        self.html_body = email.alternatives[0][0] if email.alternatives else ""


def sent(row) -> Sent:
    mail.outbox.clear()
    dispatch_outbox()
    (email,) = [email for email in mail.outbox if email.extra_headers.get("Message-ID") == row.message_id]
    return Sent(email)


def email_to(learner, event):
    context = {**sample_context(event), "action_url": learner_home_url()}
    if "dashboard_url" in context:
        context["dashboard_url"] = learner_home_url()
    message = OutgoingMessage(
        event=event, channel="email", recipient=Recipient(learner=learner), occurrence="t", context=context
    )
    (row,) = enqueue([message])
    return row


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
@pytest.mark.parametrize("event", EVENTS_WITH_A_TRAINING_BUTTON)
def test_a_learner_button_opens_her_own_pages_and_never_the_staff_login(client, event, language):
    learner = make_learner(language)
    email = sent(email_to(learner, event))
    links = HREF.findall(email.html_body)
    assert links and not any("/admin" in link for link in links) and "/admin" not in email.body
    button = INBOX_LINK.search(email.html_body)
    assert button, f"{event}/{language}: the button is not the learner's own link: {links}"
    assert INBOX_LINK.search(email.body), f"{event}/{language}: the text part has no link of hers"
    page = client.get(button.group(0).removeprefix(settings.SITE_URL), follow=True)
    assert page.status_code == 200 and page.redirect_chain[-1][0] == "/inbox/"
    assert b"Ada Lovelace" in page.content


def test_the_site_address_sends_a_learner_to_her_pages_and_staff_to_the_admin(client):
    """Any unsigned copy of the site's address (an old email, a forwarded one) never shows the staff login."""
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert "/admin" not in client.get("/", follow=True).redirect_chain[-1][0]
    staff = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get("/")["Location"] == "/admin/"


def test_an_assigned_learner_follows_start_my_training_to_her_training_and_messages(client):
    NotificationRule.objects.create(
        event="program.assigned", channels=["email"], notify_learner=True, requires_confirmation=False
    )
    learner = make_learner("fr")
    program = Program.objects.create(title="Sécurité au travail")
    programs.assign(learner, program, due_at=datetime(2026, 12, 31, tzinfo=UTC) + timedelta(days=365))
    email = sent(learner.notifications.get(event="program.assigned"))
    page = client.get(INBOX_LINK.search(email.html_body).group(0).removeprefix(settings.SITE_URL), follow=True)
    content = page.content.decode()
    assert page.status_code == 200 and "Sécurité au travail" in content and "Votre formation" in content


def test_the_manager_copy_never_carries_the_learner_own_link():
    """A signed link is its holder's whole authority: the manager reads about the learner, without her link."""
    manager = Learner.objects.create(
        email="boss@example.com",
        first_name="Maria",
        last_name="Boss",
        consent_given_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    learner = make_learner(manager=manager)
    NotificationRule.objects.create(
        event="program.assigned",
        channels=["email"],
        notify_learner=True,
        notify_manager=True,
        requires_confirmation=False,
    )
    programs.assign(learner, Program.objects.create(title="Safety"))
    copy = manager.notifications.get(event="program.assigned")
    email = sent(copy)
    assert not INBOX_LINK.search(email.html_body) and not INBOX_LINK.search(email.body)
    assert own_pages_url() not in copy.body + copy.html_body


def test_with_a_learning_platform_the_buttons_lead_to_it(settings):
    settings.LEARNING_PLATFORM_URL = "https://learn.example.org/"
    email = sent(email_to(make_learner(), "program.assigned"))
    assert 'href="https://learn.example.org/"' in email.html_body and not INBOX_LINK.search(email.html_body)


def test_the_stored_message_names_her_pages_and_never_holds_her_link(client):
    """Seed 004 / issue 16 (a link is a bearer token, no staff screen shows it live): the outbox row keeps the
    address of her pages, which asks whoever opens it without her link to open her latest email; only the email
    that leaves carries her signed link."""
    learner = make_learner()
    row = email_to(learner, "program.assigned")
    assert f'href="{own_pages_url()}"' in row.html_body and own_pages_url() in row.body
    assert not INBOX_LINK.search(row.body + row.html_body)
    page = client.get(own_pages_url().removeprefix(settings.SITE_URL))
    assert page.status_code == 403 and "Open the link in your latest email" in page.content.decode()
    email = sent(row)
    row.refresh_from_db()
    assert INBOX_LINK.search(email.html_body) and not INBOX_LINK.search(row.body + row.html_body)


def test_her_link_lives_seven_days_from_the_sending_not_from_the_queuing():
    """Seed 004, "7-day inbox link": a message that waited three days for confirmation still gives her seven
    days from the day it reached her."""
    queued_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    learner = make_learner()
    with time_machine.travel(queued_at, tick=False):
        row = email_to(learner, "program.assigned")
    with time_machine.travel(queued_at + timedelta(days=3), tick=False):
        email = sent(row)
    token = INBOX_LINK.search(email.html_body).group(0).rstrip("/").rsplit("/", 1)[-1]
    expected = int((queued_at + timedelta(days=3 + settings.INBOX_LINK_DAYS)).timestamp())
    with time_machine.travel(queued_at + timedelta(days=3), tick=False):
        assert read_inbox_grant(token).expires_at == expected


def test_an_address_that_only_begins_like_her_pages_is_left_alone():
    """Only the address of her pages becomes her link: her preferences page, or an address of the site that
    merely starts the same way, stays as the message wrote it."""
    learner = make_learner()
    pages = own_pages_url()
    message = OutgoingMessage(
        event="program.assigned",
        channel="email",
        recipient=Recipient(learner=learner),
        occurrence="t",
        subject="Links",
        body=f"Preferences: {pages}preferences/\nOther: {pages}x\nMine: {pages}\n",
    )
    (row,) = enqueue([message])
    email = sent(row)
    assert f"{pages}preferences/" in email.body and f"{pages}x" in email.body
    assert len(INBOX_LINK.findall(email.body)) == 1 and f"Mine: {pages}\n" not in email.body
