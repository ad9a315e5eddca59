"""Issue 17 through the admin, as an administrator (or someone without the right) would do it over HTTP:
the rule form refuses recipients and timings that do not fit the event, the channel confirmation setting
(seed 004) is switched only with the right, the home page counts the messages that wait, and an edit in one
language changes that language only."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner
from notifications.models import ChannelSetting, MessageTemplate, Notification, NotificationRule
from notifications.services import send
from notifications.templating import TemplateCache
from notifications.variables import sample_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def rule_data(**overrides):
    data = {
        "event": "program.assigned",
        "is_enabled": "on",
        "channels": ["email"],
        "notify_learner": "on",
        "timing": "on_event",
        "offset_days": "0",
        "requires_confirmation": "on",
    }
    data.update(overrides)
    return data


def test_the_rule_form_refuses_trainers_on_a_program_event_and_saves_nothing(admin_client):
    response = admin_client.post(reverse("admin:notifications_notificationrule_add"), rule_data(notify_trainers="on"))
    assert response.status_code == 200 and "This event cannot reach" in response.content.decode()
    assert not NotificationRule.objects.exists()


def test_the_rule_form_refuses_three_days_before_a_program_assignment(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_notificationrule_add"), rule_data(timing="before", offset_days="3")
    )
    assert response.status_code == 200 and "is not possible for this event" in response.content.decode()
    assert not NotificationRule.objects.exists()


def test_trainers_may_be_chosen_for_a_live_session_event_and_the_form_tells_the_page_what_fits(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_notificationrule_add"),
        rule_data(event="session.cancelled", notify_trainers="on"),
    )
    assert response.status_code == 302 and NotificationRule.objects.get().notify_trainers
    page = admin_client.get(reverse("admin:notifications_notificationrule_add")).content.decode()
    assert "data-fits" in page and "notifications/rule_form.js" in page


def test_the_admin_home_counts_the_messages_awaiting_confirmation_with_a_link_to_review_them(admin_client):
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())
    send("invitation.reminder", about=learner, occurrence="i1", context={"action_url": "http://x/"})
    page = admin_client.get(reverse("admin:index")).content.decode()
    row = re.search(r'<tr[^>]* id="awaiting-confirmation-count">(.*?)</tr>', page, re.S).group(1)
    assert '<a href="/admin/notifications/notification/?status__exact=awaiting_confirmation">1</a>' in row


def test_switching_a_channel_to_automatic_needs_the_right_to_change_it(client, django_user_model):
    staff = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_channelsetting"))
    client.force_login(staff)
    email = ChannelSetting.objects.get(channel="email")

    response = client.post(
        reverse("admin:notifications_channelsetting_change", args=[email.pk]), {"requires_confirmation": ""}
    )

    assert response.status_code == 403
    assert ChannelSetting.objects.get(channel="email").requires_confirmation


def test_an_administrator_switches_email_to_automatic_from_its_page(admin_client):
    email = ChannelSetting.objects.get(channel="email")
    response = admin_client.post(reverse("admin:notifications_channelsetting_change", args=[email.pk]), {})
    assert response.status_code == 302
    email.refresh_from_db()
    assert not email.requires_confirmation and email.updated_by.username == "root"


def test_editing_the_english_subject_changes_neither_french_nor_polish_words(admin_client):
    """Issue 17: the edited English row no longer wins over the French and Polish built-in words."""
    MessageTemplate.objects.create(event="program.due", language="en", subject="EDITED", body="")
    cache = TemplateCache()
    for language in ("fr", "pl"):
        assert "EDITED" not in cache.render("program.due", language, sample_context("program.due")).subject
    assert cache.render("program.due", "en", sample_context("program.due")).subject == "EDITED"


def test_editing_only_a_subject_keeps_the_built_in_body_and_its_html_button(admin_client):
    event = "invitation.sent"
    context = sample_context(event)
    built_in = TemplateCache().render(event, "en", context)
    admin_client.post(
        reverse("admin:notifications_messagetemplate_add") + f"?event={event}&language=en",
        {"event": event, "language": "en", "subject": "Join us", **_builtin_parts(event)},
    )
    assert MessageTemplate.objects.filter(event=event, subject="Join us").exists()

    edited = TemplateCache().render(event, "en", context)

    assert edited.subject == "Join us"
    assert edited.body == built_in.body and edited.html_body == built_in.html_body
    assert context["action_url"] in edited.html_body


def _builtin_parts(event):
    from notifications.templating import builtin_parts

    return {k: v for k, v in builtin_parts(event, "en").items() if k != "subject"}


def test_the_templates_list_says_per_language_built_in_or_edited(admin_client):
    MessageTemplate.objects.create(event="program.due", language="fr", subject="Échéance", body="x")
    page = admin_client.get(reverse("admin:notifications_messagetemplate_changelist") + "?event=program.due")
    text = page.content.decode()
    assert text.count("Built-in") == 2 and text.count("Edited") == 1


def test_a_rule_never_holds_what_the_channel_setting_says_when_the_rule_says_otherwise():
    NotificationRule.objects.create(event="invitation.reminder", channels=["email"], requires_confirmation=False)
    learner = Learner.objects.create(email="ada@example.com", first_name="Ada", consent_given_at=timezone.now())
    rows = send("invitation.reminder", about=learner, occurrence="i1", context={"action_url": "http://x/"})
    assert {r.status for r in rows} == {Notification.Status.QUEUED}
