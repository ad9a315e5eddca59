"""Issue 20: a failed message shows the SMTP error explained in words, with the server's exact answer kept in a
details section ("PermanentSendError: 550 5.1.1…" and nothing else told the administrator nothing)."""

import pytest
from django.urls import reverse

from learners.models import Learner
from notifications.admin.send_errors import explain_send_error
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, words",
    [
        ("PermanentSendError: 550 5.1.1 <x@example.com>: Recipient address rejected: User unknown", "does not exist"),
        ("(552, b'5.2.2 Mailbox full')", "mailbox is full"),
        ("554 5.7.1 Message rejected as spam", "spam filter"),
        ("550 Requested action not taken: mailbox unavailable", "refused this address"),
        ("ConnectionRefusedError: [Errno 111] Connection refused", "could not be reached"),
        ("(535, b'5.7.8 Username and Password not accepted')", "user name or password"),
    ],
)
def test_common_smtp_errors_are_explained_in_words(raw, words):
    assert words in explain_send_error(raw)


def test_an_unknown_error_is_not_explained_by_guesswork():
    assert explain_send_error("SomethingOdd: the moon is full") == ""


def test_the_failed_message_page_explains_the_error_and_keeps_the_exact_answer(admin_client):
    ada = Learner.objects.create(email="ada@example.com", first_name="Ada", last_name="L")
    raw = "PermanentSendError: 550 5.1.1 <ada@example.com>: Recipient address rejected: User unknown"
    row = Notification.objects.create(
        event="program.assigned",
        channel="email",
        recipient_learner=ada,
        to=ada.email,
        status="failed",
        dedupe_key="k",
        last_error=raw,
    )
    page = admin_client.get(reverse("admin:notifications_notification_change", args=[row.pk])).content.decode()
    assert "the receiving server says this address does not exist" in page
    assert "<details><summary>The server&#x27;s exact answer</summary>" in page and "User unknown" in page
    listing = admin_client.get(reverse("admin:notifications_notification_changelist")).content.decode()
    assert "the receiving server says this address does not exist" in listing
