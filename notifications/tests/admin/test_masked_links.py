"""Issue 16 (High), attacked from the admin: staff who may read messages never see a recipient's live link.

A view-only staff user approved a registration with the approver's link read on the outbox's message page.
Every admin display of a message (list, page, HTML preview, template values, history, previews of a
session email) shows our signed links with the token replaced by "…".
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from live_sessions import services as session_services
from live_sessions.models import LiveSession, SessionLearner
from live_sessions.tests.conftest import make_learner, make_session, make_user
from notifications.links import make_action_url, make_inbox_url, mask_links
from notifications.models import Notification

pytestmark = pytest.mark.django_db

# Anything that looks like one of our signed links on a page, token included.
SIGNED_LINK = re.compile(r"/(?:a|inbox/open)/([^/\"'<>\s&]+)/")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def view_only_staff():
    user = make_user("viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


def notifier():
    user = make_user("notifier", is_staff=True)
    user.groups.add(Group.objects.get(name="Notifier"))
    return user


def approval_waiting():
    """An approver's email with the live approval link in its text, its HTML and its template values."""
    approver = make_user("approver")
    sl = session_services.register(
        make_session(status=LiveSession.Status.READY, requires_approval=True, approver=approver), make_learner()
    )
    message = Notification.objects.get(event="session.approval_request")
    link = next(word for word in message.body.split() if "/a/" in word)
    inbox = make_inbox_url(recipient=approver)
    Notification.objects.create(
        event=message.event,
        channel="inbox",
        recipient_user=approver,
        subject="For the approver only",
        body="-",
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        dedupe_key="approver-inbox",
    )
    # Whatever the template made of it: an href, a template value, a failed attempt that quoted it.
    Notification.objects.filter(pk=message.pk).update(
        html_body=f'<p><a href="{link}">Approve</a> <a href="{inbox}">Inbox</a></p>',
        context={**message.context, "action_url": link, "inbox_url": inbox},
        last_error=f"550 rejected {link}",
        last_attempt_at=timezone.now(),
        attempts=1,
    )
    return sl, link, inbox, message


def pages_of_the_message(client, message):
    return [
        client.get(reverse("admin:notifications_notification_changelist")),
        client.get(reverse("admin:notifications_notification_changelist") + "?q=approval"),
        client.get(reverse("admin:notifications_notification_change", args=[message.pk])),
        client.get(reverse("admin:notifications_notification_history", args=[message.pk])),
    ]


@pytest.mark.parametrize("who", [view_only_staff, notifier], ids=["view-only staff", "Notifier group"])
def test_staff_reading_an_approvers_message_get_no_link_that_approves_the_registration(client, who):
    """issue 16 High "Staff see working links": the attack as reported, by a user who may only read messages."""
    sl, link, inbox, message = approval_waiting()
    token, inbox_token = link.rstrip("/").rsplit("/", 1)[1], inbox.rstrip("/").rsplit("/", 1)[1]
    client.force_login(who())

    pages = [response.content.decode() for response in pages_of_the_message(client, message)]
    assert all(response.status_code == 200 for response in pages_of_the_message(client, message))
    taken = {match for page in pages for match in SIGNED_LINK.findall(page)}
    assert all(token not in page and inbox_token not in page for page in pages)
    assert "/a/…/" in pages[2] and "/inbox/open/…/" in pages[2]

    # Whatever the page gave, tried as the approver's link: the registration still waits for the approver.
    for candidate in taken | {"…"}:
        client.post(f"/a/{candidate}/", {"decision": "approve"})
        client.get(f"/inbox/open/{candidate}/")
    assert SessionLearner.objects.get(pk=sl.pk).status == SessionLearner.Status.NEEDS_APPROVAL
    assert "For the approver only" not in client.get("/inbox/").content.decode()


def test_the_preview_of_a_session_email_shows_the_learners_links_masked(client):
    """issue 16 High: the sample a staff member reads before sending a session email is a message too."""
    admin_user = make_user("boss", is_staff=True, is_superuser=True)
    session = make_session(status=LiveSession.Status.READY)
    registered = SessionLearner.objects.create(
        session=session, learner=make_learner(), status=SessionLearner.Status.REGISTERED
    )
    client.force_login(admin_user)
    url = reverse("admin:live_sessions_sessionlearner_changelist") + f"?session__id__exact={session.pk}"
    payload = {"action": "send_email", "_selected_action": [registered.pk], "email_type": "attendance_reminder"}
    page = client.post(url, payload).content.decode()
    assert "/a/…/" in page
    assert not [token for token in SIGNED_LINK.findall(page) if token != "…"]


def test_masking_keeps_the_address_and_drops_only_the_token():
    link = make_action_url(purpose="invitation", obj=3, recipient="l1", expires_in=timedelta(days=1))
    text = f'Answer: {link}\n<a href="{link}">here</a> or https://forms.example.org/survey'
    assert mask_links(text) == (
        'Answer: http://testserver/a/…/\n<a href="http://testserver/a/…/">here</a> or https://forms.example.org/survey'
    )
