"""The outbox dispatcher (foundation issue; seed 004 for consent, confirmation and inbox links)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from learners.models import Guardian, Invitation, Learner
from notifications.models import Notification
from notifications.outbox import dispatch as outbox
from notifications.outbox.channels import LocMemSmsBackend, PermanentSendError
from notifications.outbox.sendchecks import register_send_check
from notifications.schedules import ensure_schedules
from notifications.services import OutgoingMessage, Recipient, confirm, dispatch_outbox, enqueue

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:s1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    calls = 0

    def send_messages(self, email_messages):
        RefusingBackend.calls += 1
        raise ConnectionRefusedError("SMTP server unreachable")


class UnreachableBackend(BaseEmailBackend):
    """An SMTP server that does not answer: opening the session fails."""

    opened = 0

    def open(self):
        UnreachableBackend.opened += 1
        raise TimeoutError("timed out")

    def send_messages(self, email_messages):  # pragma: no cover - never reached
        raise AssertionError("sent without a connection")


class RejectingSmsBackend:
    def send(self, to, text, *, message_id):
        raise PermanentSendError("number does not exist")


_counter = iter(range(10**6))


def make_learner(**kwargs):
    n = next(_counter)
    defaults = dict(
        email=f"learner{n}@example.com",
        first_name="Ada",
        last_name=f"Lovelace{n}",
        phone="+33612345678",
        consent_given_at=timezone.now(),
    )
    defaults.update(kwargs)
    return Learner.objects.create(**defaults)


def queue(learner=None, *, channel="email", event="program.assigned", occurrence=None, **kwargs):
    learner = learner or make_learner()
    recipient = kwargs.pop("recipient", None) or Recipient(learner=learner)
    [row] = enqueue(
        [
            OutgoingMessage(
                event=event,
                channel=channel,
                recipient=recipient,
                occurrence=occurrence or str(next(_counter)),
                **kwargs,
            )
        ]
    )
    return row


@pytest.fixture(autouse=True)
def _fresh_sms_outbox():
    LocMemSmsBackend.outbox = []
    yield
    LocMemSmsBackend.outbox = []


def test_a_queued_email_is_sent_once_with_text_html_and_a_stable_message_id(mailoutbox):
    """Foundation issue: email has a plain text and an HTML part and Message-ID = the row's."""
    row = queue()

    assert dispatch_outbox() == 1
    assert dispatch_outbox() == 0

    [email] = mailoutbox
    row.refresh_from_db()
    assert row.status == "sent" and row.sent_at is not None and row.claimed_until is None
    assert email.to == [row.to]
    assert email.extra_headers["Message-ID"] == row.message_id
    parsed = email.message()
    assert parsed["Message-ID"] == row.message_id
    assert [part.get_content_type() for part in parsed.walk() if not part.is_multipart()] == [
        "text/plain",
        "text/html",
    ]


def test_a_calendar_attachment_carries_the_method_of_the_invitation(mailoutbox):
    """Foundation issue: text/calendar parts say method=REQUEST so clients offer to accept."""
    queue(attachments=[{"filename": "invite.ics", "content": ICS, "mimetype": "text/calendar"}])

    dispatch_outbox()

    [email] = mailoutbox
    [calendar] = [part for part in email.message().walk() if part.get_content_type() == "text/calendar"]
    assert calendar["Content-Type"] == "text/calendar; method=REQUEST; charset=utf-8"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_filename() == "invite.ics"
    assert "METHOD:REQUEST" in calendar.get_payload(decode=True).decode()


def test_a_failing_send_is_retried_only_after_an_exponential_backoff_then_fails(settings, time_machine):
    """Foundation issue: retries with backoff, keeps the error, gives up after OUTBOX_MAX_ATTEMPTS."""
    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch.RefusingBackend"
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    settings.OUTBOX_MAX_ATTEMPTS = 3
    RefusingBackend.calls = 0
    time_machine.move_to(T0, tick=False)
    row = queue()

    assert dispatch_outbox() == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "SMTP server unreachable" in row.last_error
    assert row.next_attempt_at == T0 + timedelta(seconds=60)

    time_machine.shift(59)
    dispatch_outbox()
    assert RefusingBackend.calls == 1, "not retried before the backoff has passed"

    time_machine.shift(1)
    dispatch_outbox()
    row.refresh_from_db()
    assert (RefusingBackend.calls, row.attempts, row.status) == (2, 2, "queued")
    assert row.next_attempt_at == T0 + timedelta(seconds=60 + 120), "second wait is twice the first"

    time_machine.shift(119)
    dispatch_outbox()
    assert RefusingBackend.calls == 2
    time_machine.shift(1)
    dispatch_outbox()
    row.refresh_from_db()
    assert (RefusingBackend.calls, row.attempts, row.status) == (3, 3, "failed")

    time_machine.shift(timedelta(days=1))
    dispatch_outbox()
    assert RefusingBackend.calls == 3, "a failed message is not tried again by itself"


def test_an_unreachable_server_costs_one_connection_attempt_per_batch_not_per_message(settings):
    """Foundation issue: one connection per batch; every message of it is retried later."""
    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch.UnreachableBackend"
    UnreachableBackend.opened = 0
    rows = [queue() for _ in range(3)]

    assert dispatch_outbox() == 0

    assert UnreachableBackend.opened == 1
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == ("queued", 1, "TimeoutError: timed out")


def test_backoff_is_capped():
    """Foundation issue: the wait never grows past six hours."""
    assert outbox.backoff(1) == timedelta(seconds=60)
    assert outbox.backoff(4) == timedelta(seconds=480)
    assert outbox.backoff(40) == timedelta(hours=6)


def test_a_permanent_error_fails_at_once_without_retries(settings):
    """Foundation issue: an SMS provider saying the number does not exist is not retried."""
    settings.SMS_BACKEND = "notifications.tests.outbox.test_dispatch.RejectingSmsBackend"
    row = queue(channel="sms")

    dispatch_outbox()

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "number does not exist" in row.last_error


def test_messages_awaiting_confirmation_or_omitted_are_never_sent_until_confirmed(mailoutbox):
    """Seed 004: by default messages wait for an administrator's confirmation; omitted ones never go."""
    waiting = queue(requires_confirmation=True)
    omitted = queue(make_learner(consent_given_at=None))
    assert (waiting.status, omitted.status) == ("awaiting_confirmation", "omitted")

    assert dispatch_outbox() == 0
    assert mailoutbox == []

    assert confirm([waiting, omitted], actor=None) == 1
    assert dispatch_outbox() == 1
    assert [m.to for m in mailoutbox] == [[waiting.to]]
    omitted.refresh_from_db()
    assert omitted.status == "omitted"


def test_an_invitation_reminder_is_cancelled_when_the_invitation_was_accepted_meanwhile(mailoutbox):
    """Seed 002 / seed 000: the send-time check drops reminders that no longer make sense."""
    learner = make_learner()
    accepted = Invitation.objects.create(learner=learner)
    still_pending = Invitation.objects.create(learner=make_learner())
    reminder = queue(learner, event="invitation.reminder", refs={"invitation": accepted.pk})
    resend = queue(still_pending.learner, event="notify.invitation", refs={"invitation": still_pending.pk})
    Invitation.objects.filter(pk=accepted.pk).update(status="accepted")

    assert dispatch_outbox() == 1

    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason, reminder.sent_at) == ("cancelled", "invitation_accepted", None)
    assert [m.to for m in mailoutbox] == [[resend.to]]


def test_consent_withdrawn_after_queueing_cancels_the_message(mailoutbox):
    """Seed 004: nothing is sent to someone without consent, even if it was queued before."""
    learner = make_learner()
    to_learner = queue(learner)
    guardian = Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com")
    to_guardian = queue(learner, recipient=Recipient(guardian=guardian))
    Learner.objects.filter(pk=learner.pk).update(consent_given_at=None)

    assert dispatch_outbox() == 0

    assert mailoutbox == []
    for row in (to_learner, to_guardian):
        row.refresh_from_db()
        assert (row.status, row.reason) == ("cancelled", "no_consent")


def test_a_registered_check_that_crashes_holds_its_messages_back_for_a_retry(mailoutbox, settings):
    """Foundation issue: a broken check neither sends nor cancels blindly; the error is kept."""

    @register_send_check("session.custom")
    def broken(notifications):
        raise ValueError("check is broken")

    try:
        row = queue(event="session.custom", subject="Hello", body="Hi")
        dispatch_outbox()
    finally:
        from notifications.outbox import sendchecks

        sendchecks._CHECKS["session.custom"].remove(broken)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "check is broken" in row.last_error
    assert mailoutbox == []


def test_an_sms_goes_through_the_configured_backend(settings):
    """Foundation issue: SMS backends are pluggable (SMS_BACKEND)."""
    settings.SMS_BACKEND = "notifications.outbox.channels.LocMemSmsBackend"
    row = queue(channel="sms")

    assert dispatch_outbox() == 1

    assert LocMemSmsBackend.outbox == [{"to": "+33612345678", "text": row.body, "message_id": row.message_id}]


def test_the_file_sms_backend_writes_one_json_line_per_message(settings, tmp_path):
    """Foundation issue: a development backend that keeps SMS on disk."""
    settings.SMS_BACKEND = "notifications.outbox.channels.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    queue(channel="sms")
    queue(channel="sms")

    dispatch_outbox()

    [log] = tmp_path.iterdir()
    assert len(log.read_text().splitlines()) == 2


def test_delivering_an_inbox_message_emails_a_link_to_read_it(mailoutbox, monkeypatch):
    """Seed 004: a new system message sends the learner and the parent a link to their inbox."""
    monkeypatch.setattr(outbox, "inbox_url", lambda row: f"https://lms.example.org/inbox/t{row.pk}/")
    learner = make_learner()
    guardian = Guardian.objects.create(learner=learner, name="Parent", email="parent@example.com")
    to_learner = queue(learner, channel="inbox", subject="Your schedule", body="See you Monday")
    to_guardian = queue(learner, channel="inbox", recipient=Recipient(guardian=guardian), subject="S", body="B")

    dispatch_outbox()

    for row in (to_learner, to_guardian):
        row.refresh_from_db()
        assert row.status == "sent" and row.sent_at is not None
    alerts = Notification.objects.filter(event="inbox.new_message").order_by("to")
    assert [(a.to, a.status) for a in alerts] == [(learner.email, "sent"), ("parent@example.com", "sent")]
    by_address = {m.to[0]: m.body for m in mailoutbox}
    assert f"https://lms.example.org/inbox/t{to_learner.pk}/" in by_address[learner.email]
    assert f"https://lms.example.org/inbox/t{to_guardian.pk}/" in by_address["parent@example.com"]

    dispatch_outbox()
    assert Notification.objects.filter(event="inbox.new_message").count() == 2


def test_an_event_sent_by_email_and_as_a_system_message_gives_the_reader_one_email_not_two(mailoutbox):
    """Issue 20 "Each message once": a rule with e-mail and system message sent the email and, in the same
    second, a "new message" email about the same thing."""
    learner = make_learner()
    queue(learner, channel="email", occurrence="a1", subject="Your schedule", body="See you Monday")
    queue(learner, channel="inbox", occurrence="a1", subject="Your schedule", body="See you Monday")
    only_inbox = queue(learner, channel="inbox", occurrence="a2", subject="Other", body="B")

    dispatch_outbox()

    alerts = list(Notification.objects.filter(event="inbox.new_message"))
    assert [alert.context.get("inbox_message") for alert in alerts] == [only_inbox.pk]
    assert [m.subject for m in mailoutbox].count("Your schedule") == 1
    assert len(mailoutbox) == 2


def test_a_system_message_whose_email_twin_was_omitted_is_still_announced_by_email(mailoutbox):
    learner = make_learner()
    queue(learner, channel="email", occurrence="b1")
    Notification.objects.filter(channel="email").update(status="cancelled")
    inbox = queue(learner, channel="inbox", occurrence="b1", subject="S", body="B")

    dispatch_outbox()

    assert Notification.objects.filter(event="inbox.new_message", context__inbox_message=inbox.pk).exists()


def test_dispatch_queries_do_not_grow_with_the_batch_except_one_update_per_message(settings, mailoutbox):
    """House rule: the claim and the send-time checks are set-based; only "mark sent" is per message."""
    settings.OUTBOX_BATCH_SIZE = 200

    def queries_for(n):
        for _ in range(n):
            learner = make_learner()
            invitation = Invitation.objects.create(learner=learner)
            queue(learner, event="invitation.reminder", refs={"invitation": invitation.pk})
            queue(learner, channel="sms")
        with CaptureQueriesContext(connection) as ctx:
            assert dispatch_outbox() == 2 * n
        return len(ctx.captured_queries)

    small, large = queries_for(5), queries_for(50)
    assert large - small == 2 * (50 - 5), "exactly one statement per extra message"
    assert small <= 12 + 2 * 5


def test_limit_caps_how_many_messages_one_call_handles(mailoutbox, settings):
    """Foundation issue: dispatch_outbox(limit=n)."""
    settings.OUTBOX_BATCH_SIZE = 2
    for _ in range(5):
        queue()
    assert dispatch_outbox(limit=3) == 3
    assert dispatch_outbox() == 2


def test_schedules_are_created_once_whatever_the_number_of_runs():
    """Foundation issue: django-q2 schedules come from code, idempotently."""
    from django_q.models import Schedule

    # The migration already made them: a migrated database is never without its schedules.
    assert Schedule.objects.count() == 3
    Schedule.objects.all().delete()
    assert set(ensure_schedules().values()) == {"created"}
    assert set(ensure_schedules().values()) == {"unchanged"}
    Schedule.objects.filter(func="notifications.tasks.dispatch_outbox_task").update(minutes=30)
    assert "updated" in ensure_schedules().values()
    rows = Schedule.objects.order_by("func").values_list("func", "minutes")
    assert list(rows) == [
        ("notifications.tasks.dispatch_outbox_task", 1),
        ("notifications.tasks.poll_mailbox_task", 1),
        ("notifications.tasks.scan_triggers_task", 5),
    ]
    call_command("setup_schedules", stdout=io.StringIO())
    assert Schedule.objects.count() == 3


def test_outbox_status_exits_non_zero_past_its_thresholds(settings, time_machine):
    """Foundation issue: monitoring probe."""
    time_machine.move_to(T0, tick=False)
    out = io.StringIO()
    call_command("outbox_status", stdout=out)
    assert "OK" in out.getvalue()

    queue()
    queue()
    queue(requires_confirmation=True)
    time_machine.shift(timedelta(minutes=20))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("outbox_status", stdout=out, stderr=io.StringIO())
    assert exit_info.value.code == 2
    assert "queued: 2" in out.getvalue() and "awaiting confirmation: 1" in out.getvalue()
    assert "oldest due message: 20.0 min" in out.getvalue()

    call_command("outbox_status", "--max-age-minutes=30", stdout=io.StringIO())
    with pytest.raises(SystemExit):
        call_command(
            "outbox_status", "--max-age-minutes=30", "--max-queued=1", stdout=io.StringIO(), stderr=io.StringIO()
        )

    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    dispatch_outbox()
    with pytest.raises(SystemExit):
        call_command("outbox_status", "--max-failures=1", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("outbox_status", "--max-failures=2", stdout=io.StringIO())


def _admin_action(admin_client, action, rows):
    url = reverse("admin:notifications_notification_changelist")
    response = admin_client.post(url, {"action": action, "_selected_action": [r.pk for r in rows]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_admin_retry_now_requeues_failed_messages_and_reports_counts(admin_client, settings):
    """Foundation issue: "Retry now" resets attempts; counts in the message."""
    settings.EMAIL_BACKEND = "notifications.tests.outbox.test_dispatch.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    failed, sent = queue(), queue()
    dispatch_outbox()
    Notification.objects.filter(pk=sent.pk).update(status="sent")

    feedback = _admin_action(admin_client, "retry_now", [failed, sent])

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("queued", 0)
    assert feedback == [
        "1 message queued to be sent now.",
        "1 message skipped: only failed or queued messages not being sent right now can be retried.",
    ]


def test_admin_confirm_and_send_and_cancel(admin_client, mailoutbox):
    """Seed 004: an administrator confirms waiting messages, or cancels them."""
    to_confirm, to_cancel = queue(requires_confirmation=True), queue(requires_confirmation=True)

    assert _admin_action(admin_client, "confirm_and_send", [to_confirm]) == ["1 message confirmed and queued."]
    assert _admin_action(admin_client, "cancel", [to_cancel, to_confirm]) == ["2 messages cancelled."]
    assert _admin_action(admin_client, "confirm_and_send", [to_cancel]) == [
        "1 message skipped: it was not awaiting confirmation."
    ]
    assert dispatch_outbox() == 0
    assert mailoutbox == []


def test_the_outbox_admin_lists_searches_and_shows_a_message(admin_client):
    """Foundation issue: a useful admin (columns, filters, search, read-only detail)."""
    row = queue(
        make_learner(last_name="Hopper"),
        attachments=[{"filename": "a.ics", "content": ICS, "mimetype": "text/calendar"}],
    )
    url = reverse("admin:notifications_notification_changelist")
    assert admin_client.get(url, {"q": "Hopper"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "nobody"}).context["cl"].result_count == 0
    assert admin_client.get(url, {"status__exact": "queued", "channel__exact": "email"}).status_code == 200
    detail = admin_client.get(reverse("admin:notifications_notification_change", args=[row.pk]))
    assert detail.status_code == 200
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in detail.content.decode()
