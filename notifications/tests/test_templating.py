"""Message templates: validation, language fallback, dates in the recipient's zone, admin preview and rules.

Seeds: 002 (messages in the recipient's language), 004 (rules and confirmation), 001 (rule timing).
"""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from learners.models import Learner
from notifications import wording
from notifications.admin.rules import NotificationRuleForm
from notifications.admin.templates import MessageTemplateForm
from notifications.models import MessageTemplate, Notification, NotificationRule
from notifications.services import OutgoingMessage, Recipient, enqueue
from notifications.templating import (
    TemplateCache,
    TemplateRenderError,
    builtin_parts,
    sample_context,
    template_errors,
)

pytestmark = pytest.mark.django_db


def template_data(**overrides):
    data = {
        "event": "program.assigned",
        "language": "fr",
        "subject": "Nouveau : {{ program }}",
        "body": "Bonjour {{ learner.first_name }}",
        "html_body": "",
        "sms_body": "",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Many tests sign an administrator in; the production hasher would make them slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_a_template_with_an_unknown_filter_is_refused_with_the_error_and_nothing_is_saved(admin_client):
    """Foundation: a broken template is refused at save time, not when messages go out."""
    url = reverse("admin:notifications_messagetemplate_add")
    response = admin_client.post(url, template_data(body="Bonjour {{ learner.first_name|shout }}"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "does not compile: Invalid filter: &#x27;shout&#x27;" in content
    assert MessageTemplate.objects.count() == 0


def test_a_template_that_fails_at_render_time_is_refused():
    """Foundation: compiling is not enough; it must render with the event's sample data."""
    # ({% url %}, the first example, is refused when parsed since issue 16: a tag a message does not need.)
    form = MessageTemplateForm(data=template_data(body="Due in {{ 5|divisibleby:0 }} days"))
    assert not form.is_valid()
    assert "fails to render" in form.errors["body"][0] and "ZeroDivisionError" in form.errors["body"][0]


def test_a_template_with_a_broken_tag_is_refused_on_the_part_that_is_broken():
    form = MessageTemplateForm(data=template_data(sms_body="{% if %}"))
    assert not form.is_valid()
    assert list(form.errors) == ["sms_body"]


def test_a_valid_template_saves_through_the_admin(admin_client):
    url = reverse("admin:notifications_messagetemplate_add")
    response = admin_client.post(url, template_data())
    assert response.status_code == 302
    assert MessageTemplate.objects.get().subject == "Nouveau : {{ program }}"


def test_every_built_in_text_renders_with_its_sample_data():
    """Seeds 000-004: the built-in words of every event and language are valid templates, which an
    administrator could save as they are, and render as whole messages inside the base layout."""
    found = wording.available()
    assert len(found) > 30
    for event, language in found:
        if event == wording.GENERIC:
            continue
        assert template_errors(event, language, builtin_parts(event, language)) == {}, (event, language)
        rendered = TemplateCache().render(event, language, sample_context(event, language=language))
        assert rendered.subject and rendered.body and "</footer>" not in rendered.body, (event, language)
        assert rendered.html_body.startswith("<!DOCTYPE html>"), (event, language)


def test_built_in_words_exist_in_english_french_and_polish_for_the_core_events():
    core = [
        "invitation.sent",
        "invitation.reminder",
        "notify.invitation",
        "notify.training_reminder",
        "notify.missing_training",
        "notify.renewal",
        "program.assigned",
        "program.completed",
        "program.due",
        "certification.expiry",
        "inbox.new_message",
        "session.convocation",
    ]
    for event in core:
        texts = {lang: wording.builtin_words(event, lang) for lang in ("en", "fr", "pl")}
        assert {words.found for words in texts.values()} == {(event, lang) for lang in ("en", "fr", "pl")}, event
        assert len({words.source("body") for words in texts.values()}) == 3, event


class TestLanguageFallback:
    """Seed 002: the learner's language picks the template, falling back to English."""

    def render(self, event, language):
        return TemplateCache().render(event, language, sample_context(event, language=language))

    def test_an_english_row_does_not_replace_the_french_built_in_words(self):
        """Issue 17: languages stay independent; editing English changes English only."""
        MessageTemplate.objects.create(event="program.due", language="en", subject="EN row", body="english row")
        assert self.render("program.due", "fr").subject == "Échéance : Workplace safety"
        assert self.render("program.due", "en").subject == "EN row"

    def test_french_row_wins_over_the_english_row(self):
        MessageTemplate.objects.create(event="program.due", language="en", subject="EN row", body="x")
        MessageTemplate.objects.create(event="program.due", language="fr", subject="FR row", body="x")
        assert self.render("program.due", "fr").subject == "FR row"

    def test_no_row_uses_the_french_built_in_words(self):
        assert self.render("program.due", "fr").subject == "Échéance : Workplace safety"

    def test_no_words_at_all_falls_back_to_the_generic_text_in_the_learners_language(self):
        # Issue 17: every declared event has its words (notifications.checks); an old row of an event no longer
        # declared still renders, with the generic words in the learner's language.
        rendered = TemplateCache().render(
            "retired.event", "pl", {"recipient_name": "Ada", "learner": {}, "event_label": "retired.event"}
        )
        assert rendered.subject == "retired.event"
        assert rendered.body.startswith("Dzień dobry ")


def test_dates_render_in_the_recipients_time_zone_and_language():
    """Foundation: a learner in Paris reading French sees local time and French month names."""
    learner = Learner.objects.create(
        email="amelie@example.com",
        first_name="Amélie",
        last_name="Poulain",
        language="fr",
        timezone="Europe/Paris",
        consent_given_at=timezone.now(),
    )
    MessageTemplate.objects.create(
        event="program.due",
        language="fr",
        subject="Échéance",
        body="Le {{ due_at|date:'j F Y' }} à {{ due_at|time:'H:i' }}",
    )
    due_at = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    [row] = enqueue(
        [
            OutgoingMessage(
                event="program.due",
                channel="email",
                recipient=Recipient(learner=learner),
                occurrence="tz",
                context={"due_at": due_at},
            )
        ]
    )
    # The edited words, then the French sign-off and footer every email ends with (issue "what people see").
    assert row.body.startswith("Le 15 janvier 2026 à 14:00\n\nCordialement,\n")
    # Not a side effect of the server's settings: the same message in UTC/English differs.
    english = TemplateCache().render("program.due", "en", {"due_at": due_at, "program": "X"}, tz="UTC")
    assert "15 January 2026" in english.body


def test_the_admin_preview_renders_a_template_with_sample_data(admin_client):
    """Foundation: the preview shows subject, text and HTML in the chosen language and time zone."""
    row = MessageTemplate.objects.create(
        event="session.convocation",
        language="fr",
        subject="{{ session.title }}",
        body="Début : {{ session.starts_at|date:'j F Y H:i' }}",
        html_body="<p>{{ learner.first_name }}</p>",
    )
    response = admin_client.get(reverse("admin:notifications_messagetemplate_preview_row", args=[row.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "First aid workshop" in content and "Début" in content and "Marie" in content
    change = admin_client.get(reverse("admin:notifications_messagetemplate_change", args=[row.pk]))
    assert reverse("admin:notifications_messagetemplate_preview_row", args=[row.pk]) in change.content.decode()


def test_the_preview_of_built_in_words_follows_the_fallback(admin_client):
    url = reverse("admin:notifications_messagetemplate_preview")
    response = admin_client.get(url, {"event": "program.assigned", "language": "pl", "tz": "Europe/Warsaw"})
    assert response.status_code == 200
    assert "Przypisano nowe szkolenie" in response.content.decode()


def test_the_template_list_is_searchable_and_filterable(admin_client):
    MessageTemplate.objects.create(event="program.due", language="en", subject="Due soon", body="x")
    url = reverse("admin:notifications_messagetemplate_changelist")
    assert "Due soon" in admin_client.get(url, {"q": "due", "language__exact": "en"}).content.decode()


class TestRuleAdmin:
    """Seed 001 timing, seed 004 channels; enabling a rule must not fire for past dates."""

    def rule_data(self, **overrides):
        data = {
            "name": "",
            "event": "program.due",
            "program": "",
            "is_enabled": "on",
            "channels": ["email", "inbox"],
            "notify_learner": "on",
            "notify_guardians": "on",
            "timing": "before",
            "offset_days": "7",
            "requires_confirmation": "on",
        }
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    def test_channels_are_stored_as_a_list(self, admin_client):
        response = admin_client.post(reverse("admin:notifications_notificationrule_add"), self.rule_data())
        assert response.status_code == 302
        assert NotificationRule.objects.get().channels == ["email", "inbox"]

    def test_offset_days_only_with_before_or_after(self):
        form = NotificationRuleForm(data=self.rule_data(timing="on_event", offset_days="3"))
        assert not form.is_valid() and "offset_days" in form.errors
        form = NotificationRuleForm(data=self.rule_data(timing="after", offset_days="0"))
        assert not form.is_valid() and "offset_days" in form.errors

    def test_unknown_channel_is_refused(self):
        form = NotificationRuleForm(data=self.rule_data(channels=["email", "pigeon"]))
        assert not form.is_valid() and "channels" in form.errors

    def test_enabling_a_rule_from_the_list_restarts_active_since(self, admin_client):
        with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
            rule = NotificationRule.objects.create(event="program.due", is_enabled=False, channels=["email"])
        assert rule.active_since == datetime(2026, 1, 1, tzinfo=UTC)
        url = reverse("admin:notifications_notificationrule_changelist")
        data = {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(rule.pk),
            "form-0-is_enabled": "on",
            "_save": "Save",
        }
        with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
            response = admin_client.post(url, data)
        assert response.status_code == 302
        rule.refresh_from_db()
        assert rule.is_enabled and rule.active_since == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def test_changing_the_timing_restarts_active_since_but_renaming_does_not(self, admin_client):
        with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
            rule = NotificationRule.objects.create(
                event="program.due", channels=["email"], timing="before", offset_days=7
            )
        url = reverse("admin:notifications_notificationrule_change", args=[rule.pk])
        with time_machine.travel(datetime(2026, 2, 1, tzinfo=UTC), tick=False):
            admin_client.post(url, self.rule_data(name="Renamed"))
        rule.refresh_from_db()
        assert rule.name == "Renamed" and rule.active_since == datetime(2026, 1, 1, tzinfo=UTC)
        with time_machine.travel(datetime(2026, 2, 2, tzinfo=UTC), tick=False):
            admin_client.post(url, self.rule_data(offset_days="30"))
        rule.refresh_from_db()
        assert rule.offset_days == 30 and rule.active_since == datetime(2026, 2, 2, tzinfo=UTC)

    def test_enable_action_restarts_active_since(self, admin_client):
        with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
            rule = NotificationRule.objects.create(event="program.due", is_enabled=False, channels=["email"])
        url = reverse("admin:notifications_notificationrule_changelist")
        with time_machine.travel(datetime(2026, 4, 1, tzinfo=UTC), tick=False):
            admin_client.post(url, {"action": "enable_rules", "_selected_action": [rule.pk]})
        rule.refresh_from_db()
        assert rule.is_enabled and rule.active_since == datetime(2026, 4, 1, tzinfo=UTC)


def test_adding_a_template_for_an_event_starts_from_its_built_in_words(admin_client):
    url = reverse("admin:notifications_messagetemplate_add")
    response = admin_client.get(url, {"event": "program.due", "language": "fr"})
    assert response.status_code == 200
    assert "Échéance : {{ program }}" in response.content.decode()


# --- Issue 7: editable templates see plain values, not models -----------------------------------


def add_template(admin_client, **overrides):
    return admin_client.post(reverse("admin:notifications_messagetemplate_add"), template_data(**overrides))


@pytest.mark.parametrize(
    "event, body",
    [
        ("program.assigned", "{{ learner.user.password }}"),
        ("invitation.sent", "{{ invitation.created_by.password }}"),
        ("program.assigned", "{% if learner.user.password %}{{ learner.first_name }}{% endif %}"),
        ("program.assigned", "{% for group in learner.user.groups.all %}{{ group }}{% endfor %}"),
        ("program.assigned", "{% with u=learner.user %}{{ u.password }}{% endwith %}"),
        ("program.assigned", "{{ learner.first_name|default:learner.user.password }}"),
        ("program.assigned", "{{ settings.SECRET_KEY }}"),
        ("program.assigned", "{{ assignment.learner.user.password }}"),
    ],
)
def test_a_template_reading_a_password_or_anything_not_offered_is_refused_on_save(admin_client, event, body):
    response = add_template(admin_client, event=event, body=body)
    assert response.status_code == 200
    assert "is not a value this event offers" in response.content.decode()
    assert MessageTemplate.objects.count() == 0


@pytest.mark.parametrize(
    "body, words",
    [
        ('{% include "../x" %}', "{% include %} is not allowed"),
        ('{% include "admin/base.html" %}', "{% include %} is not allowed"),
        ('{% extends "base.html" %}', "{% extends %} is not allowed"),
        ("{% debug %}", "{% debug %} is not allowed"),
        ("{% load i18n %}{% translate 'x' %}", "{% load i18n %} is not allowed"),
        ("{% load notify_tags %}", "{% load notify_tags %} is not allowed"),
        ("{% load static from notify_tags %}", "{% load notify_tags %} is not allowed"),
        ("Hello {{ learner.first_name", "“{{” is never closed"),
        ("Hello {% if due_at %}soon", "Unclosed tag"),
        ("Hello {# a note", "“{#” is never closed"),
        ("{{ learner }}", "“learner” is a group of values"),
    ],
)
def test_a_dangerous_or_broken_template_is_refused_with_a_form_error_not_a_500(admin_client, body, words):
    response = add_template(admin_client, body=body)
    assert response.status_code == 200
    assert words in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert MessageTemplate.objects.count() == 0


def test_what_an_event_offers_is_accepted_loops_and_the_projects_own_tags_included():
    body = (
        "{% load message_tags %}{{ learner.full_name }}: {{ expires_at|days_until }} days. "
        "{% for title in programs %}{{ title|upper }} {{ forloop.counter }}{% endfor %}"
        "{% with name=learner.first_name %}{{ name }}{% endwith %}{% now 'Y' as year %}{{ year }}"
    )
    form = MessageTemplateForm(data=template_data(event="notify.renewal", body=body))
    assert form.is_valid(), form.errors
    form = MessageTemplateForm(
        data=template_data(
            event="notify.training_reminder",
            subject="Rappel",
            body="{% for item in complete %}{{ item.title }}{{ item.completed_at|date:'j F' }}{% endfor %}",
            sms_body="{% for item in incomplete %}{{ item.secret }}{% endfor %}",
        )
    )
    assert not form.is_valid() and list(form.errors) == ["sms_body"]
    assert "item.secret" in form.errors["sms_body"][0]


def test_the_renderer_refuses_a_model_instance_in_the_context():
    learner = Learner(first_name="Ada", last_name="L", email="ada@example.com")
    with pytest.raises(TemplateRenderError, match="context.learner is a Learner"):
        TemplateCache().render("program.due", "en", {"learner": learner, "program": "X"})
    with pytest.raises(TemplateRenderError, match=r"context.items\[0\].owner"):
        TemplateCache().render("program.due", "en", {"items": [{"owner": learner}]})


def test_a_template_saved_before_validation_cannot_reach_a_password_hash(django_user_model):
    """The attack end to end: rows written straight into the database (an old row, a fixture) render
    against plain values, so the password hash of the inviting administrator or the learner's user
    never reaches a message."""
    from learners.services import invite
    from programs.models import Program
    from programs.services import assign

    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "s3cret-pw")
    user = django_user_model.objects.create_user("ada", "ada@example.com", "ada-pw")
    learner = Learner.objects.create(
        email="ada@example.com", first_name="Ada", last_name="L", consent_given_at=timezone.now(), user=user
    )
    leak = "[{{ invitation.created_by.password }}{{ learner.user.password }}{{ assignment.learner.user.password }}]"
    for event in ("invitation.sent", "program.assigned"):
        MessageTemplate.objects.create(
            event=event, language="en", subject="S", body=f"Hi {{{{ learner.first_name }}}} {leak}"
        )
    NotificationRule.objects.create(event="program.assigned", channels=["email"], requires_confirmation=False)

    invite(learner, actor=boss)
    assign(learner, Program.objects.create(title="Safety"), actor=boss)

    bodies = list(Notification.objects.values_list("body", flat=True))
    assert len(bodies) == 2 and all(body.startswith("Hi Ada []\n\nKind regards,\n") for body in bodies), bodies
    assert not any(boss.password in body or user.password in body for body in bodies)


def test_every_event_declares_and_describes_what_its_templates_may_read():
    from notifications.models import Event
    from notifications.variables import description, offered_paths, variables_of

    # Issue 17: each event's declaration (<app>/notifications.py) is where its variables are declared.
    assert Event.values
    for event in Event.values:
        for path, described in variables_of(event):
            assert described, (event, path)
        assert all(description(p) for p, group in offered_paths(event).items() if not group), event


def test_the_template_form_shows_the_variables_of_its_event(admin_client):
    response = admin_client.get(
        reverse("admin:notifications_messagetemplate_add"), {"event": "notify.training_reminder"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    start = page.index('id="template-variables"')
    chosen = page.index('data-event="notify.training_reminder"', start)
    assert page.rfind("<details open", start, chosen + 40) != -1
    # Issue 20 "templates in words": each variable is an insertable chip, no longer a <code> list.
    for name in ("learner.first_name", "complete[].title", "incomplete[].due_at", "recipient_name"):
        assert re.search(rf'<button type="button" class="variable-chip" [^>]*>{re.escape(name)}</button>', page), name
    assert "First name of the learner the message is about." in page


def test_a_row_saved_before_the_checks_that_no_longer_compiles_falls_back_to_the_built_in_words(caplog):
    """An old row holding {% include %} must not make the action that sends the message fail."""
    MessageTemplate.objects.create(event="program.due", language="en", subject="Old", body='{% include "x.html" %}')
    rendered = TemplateCache().render("program.due", "en", sample_context("program.due"))
    assert rendered.subject == "Due date: Workplace safety"  # the built-in subject, the learner's copy
    assert "no longer compiles" in caplog.text


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_every_event_is_named_in_french_and_polish(language):
    """What people see: an event's name (the generic message, the admin's lists) is in the reader's language."""
    from django.utils import translation

    from notifications.models import Event

    with translation.override("en"):
        english = {code: str(label) for code, label in Event.choices}
    with translation.override(language):
        untranslated = [code for code, label in Event.choices if str(label) == english[code]]
    assert untranslated == []


def test_a_refused_template_names_the_line_of_its_error():
    """Issue 20: the editor refuses errors with the line named."""
    from notifications.templating import template_errors

    unknown = template_errors("program.due", "en", {"body": "Hello\n\n{{ learner.first_name }}\n{{ password }}"})
    unclosed = template_errors("program.due", "en", {"body": "Hello\nthere {{ learner.first_name"})
    bad_filter = template_errors("program.due", "en", {"body": "a\nb\n{{ program|shout }}"})

    assert unknown["body"].startswith("Line 4: “password” is not a value this event offers")
    assert unclosed["body"].startswith("Line 2: “{{” is never closed")
    assert bad_filter["body"].startswith("Line 3: This template does not compile")
