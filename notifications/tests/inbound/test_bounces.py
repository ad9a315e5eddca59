"""Issue 19 "Bounces and complaints": a permanent failure reported by Postfix, Exim or Microsoft 365 marks the
address the project sent to as undeliverable, later messages to it are omitted with that reason until an
administrator clears it; a temporary failure marks nothing unless it repeats within the window.
"""

import pytest
from django.utils import timezone

from learners.models import Learner
from notifications.inbound import samples
from notifications.models import InboundMessage, UndeliverableAddress
from notifications.services import OutgoingMessage, Recipient, dispatch_outbox, enqueue, receive_email

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def learner(email="ada@example.org"):
    return Learner.objects.create(email=email, first_name="Ada", last_name="Lovelace", consent_given_at=timezone.now())


def send(who, occurrence="1"):
    (row,) = enqueue(
        [OutgoingMessage(event="program.due", channel="email", recipient=Recipient(learner=who), occurrence=occurrence)]
    )
    dispatch_outbox()
    row.refresh_from_db()
    return row


@pytest.mark.parametrize("bouncer", samples.BOUNCERS)
def test_a_permanent_failure_marks_the_address_and_later_messages_are_omitted(bouncer):
    ada = learner()
    sent = send(ada)
    assert sent.status == "sent"
    receive_email(samples.bounce(bouncer, recipient="Ada@Example.org", original_message_id=sent.message_id))
    mark = UndeliverableAddress.objects.get()
    assert (mark.address, mark.learner_id, mark.notification_id) == ("ada@example.org", ada.pk, sent.pk)
    assert mark.status_code == "5.1.1" and mark.diagnostic
    sent.refresh_from_db()
    assert sent.delivery == "bounced"
    later = send(ada, occurrence="2")
    assert (later.status, later.reason) == ("omitted", "undeliverable")


def test_a_message_queued_before_the_bounce_is_cancelled_at_send_time():
    ada = learner()
    send(ada)
    (queued,) = enqueue(
        [OutgoingMessage(event="program.due", channel="email", recipient=Recipient(learner=ada), occurrence="2")]
    )
    receive_email(samples.bounce("postfix", recipient=ada.email))
    dispatch_outbox()
    queued.refresh_from_db()
    assert (queued.status, queued.reason) == ("cancelled", "undeliverable")


@pytest.mark.parametrize("bouncer", samples.BOUNCERS)
def test_a_temporary_failure_marks_nothing(bouncer):
    ada = learner()
    send(ada)
    receive_email(samples.bounce(bouncer, recipient=ada.email, status="4.2.2"))
    assert not UndeliverableAddress.objects.exists()
    assert send(ada, occurrence="2").status == "sent"


def test_repeated_temporary_failures_within_the_window_count_as_permanent(settings):
    settings.INBOUND_SOFT_BOUNCE_LIMIT = 3
    ada = learner()
    send(ada)
    for n in range(3):
        receive_email(samples.bounce("postfix", recipient=ada.email, status="4.2.2", original_message_id=f"<x{n}@y>"))
    assert UndeliverableAddress.objects.get().cause == "soft_bounces"


def test_a_bounce_for_an_address_the_project_never_sent_to_marks_nothing():
    learner()  # known, but never written to
    receive_email(samples.bounce("exim", recipient="ada@example.org"))
    receive_email(samples.bounce("postfix", recipient="stranger@example.net"))
    assert not UndeliverableAddress.objects.exists()
    assert set(InboundMessage.objects.values_list("result", flat=True)) == {"ignored"}


def test_changing_the_learners_address_sends_to_her_again():
    ada = learner()
    send(ada)
    receive_email(samples.bounce("microsoft365", recipient=ada.email))
    ada.email = "ada.new@example.org"
    ada.save()
    assert not UndeliverableAddress.objects.exists()
    assert send(ada, occurrence="2").status == "sent"


def test_the_same_bounce_twice_is_recorded_once():
    ada = learner()
    send(ada)
    message = samples.bounce("postfix", recipient=ada.email)
    receive_email(message)
    receive_email(message)
    assert InboundMessage.objects.count() == 1


def test_the_learner_page_shows_the_mark_and_only_the_permission_offers_to_clear_it(client):
    """A staff user without notifications.delete_undeliverableaddress sees the mark but gets no Delete box."""
    from django.contrib.auth.models import Permission, User

    ada = learner()
    send(ada)
    receive_email(samples.bounce("postfix", recipient=ada.email))
    staff = User.objects.create_user("clerk", password="x", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_learner", "change_learner"]))
    client.force_login(staff)
    url = f"/admin/learners/learner/{ada.pk}/change/"
    page = client.get(url).content.decode()
    assert "5.1.1" in page and "Recipient address rejected" in page
    assert "undeliverable_marks-0-DELETE" not in page
    staff.user_permissions.add(Permission.objects.get(codename="delete_undeliverableaddress"))
    client.force_login(User.objects.get(pk=staff.pk))
    assert "undeliverable_marks-0-DELETE" in client.get(url).content.decode()


def test_the_clear_action_of_the_undeliverable_list_needs_the_delete_permission(client):
    """The attack over HTTP: posting the admin action without the permission clears nothing."""
    from django.contrib.auth.models import Permission, User

    ada = learner()
    send(ada)
    receive_email(samples.bounce("exim", recipient=ada.email))
    mark = UndeliverableAddress.objects.get()
    staff = User.objects.create_user("clerk", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_undeliverableaddress"))
    client.force_login(staff)
    url = "/admin/notifications/undeliverableaddress/"
    client.post(url, {"action": "clear_marks", "_selected_action": [mark.pk]})
    assert UndeliverableAddress.objects.filter(pk=mark.pk).exists()
    staff.user_permissions.add(Permission.objects.get(codename="delete_undeliverableaddress"))
    client.force_login(User.objects.get(pk=staff.pk))
    client.post(url, {"action": "clear_marks", "_selected_action": [mark.pk]})
    assert not UndeliverableAddress.objects.filter(pk=mark.pk).exists()
    assert send(ada, occurrence="2").status == "sent"


def test_inbound_mail_is_listed_read_only_in_the_admin(client):
    from django.contrib.auth.models import Permission, User

    receive_email(samples.bounce("postfix", recipient="nobody@example.net"))
    staff = User.objects.create_user("clerk", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_inboundmessage"))
    client.force_login(staff)
    page = client.get("/admin/notifications/inboundmessage/?kind__exact=bounce&q=nobody")
    assert page.status_code == 200 and "not an address we sent to" in page.content.decode()
    row = InboundMessage.objects.get()
    assert client.post(f"/admin/notifications/inboundmessage/{row.pk}/delete/").status_code == 403


def test_inbound_mail_is_kept_for_the_retention_period_then_purged(settings, time_machine):
    """Issue 19: "Every inbound message is kept for a set time"; the every-minute task purges."""
    from notifications.tasks import poll_mailbox_task

    settings.INBOUND_RETENTION_DAYS = 30
    settings.INBOUND_IMAP_URL = ""
    time_machine.move_to("2030-01-01T09:00:00Z")
    receive_email(samples.bounce("postfix", recipient="nobody@example.net"))
    time_machine.move_to("2030-01-30T09:00:00Z")
    poll_mailbox_task()
    assert InboundMessage.objects.count() == 1
    time_machine.move_to("2030-02-01T09:00:00Z")
    assert poll_mailbox_task()["purged"] == 1
    assert not InboundMessage.objects.exists()


def test_a_handler_that_fails_rolls_back_what_it_did_records_the_message_and_raises_nothing(monkeypatch):
    """CONTRACT.md: receive_email "changes nothing and raises nothing" on a message it cannot handle."""
    from notifications.inbound import bounces

    ada = learner()
    send(ada)

    def half_done(message, raw, *, inbound_id):
        UndeliverableAddress.objects.create(address="half@example.org")
        raise RuntimeError("server words in an unexpected shape")

    monkeypatch.setattr(bounces, "handle_report", half_done)
    receive_email(samples.bounce("postfix", recipient=ada.email))
    assert not UndeliverableAddress.objects.exists()
    row = InboundMessage.objects.get()
    assert row.kind == "unhandled" and "RuntimeError" in row.outcome
