"""The message templates list shows every event in every language with the words recipients get today, and
editing starts from those words (issue "what people see": administrators)."""

import pytest
from django.conf import settings
from django.urls import reverse

from notifications import wording
from notifications.models import Event, MessageTemplate

pytestmark = pytest.mark.django_db

LIST = "/admin/notifications/messagetemplate/"


def test_every_event_is_listed_in_every_language_with_its_built_in_subject(admin_client):
    response = admin_client.get(LIST)

    rows = response.context["rows"]
    assert len(rows) == len(Event.choices) * len(settings.LANGUAGES)
    polish = next(r for r in rows if r["event"] == "invitation.sent" and r["language"] == "Polski")
    assert polish["subject"] == wording.builtin_words("invitation.sent", "pl").source("subject")
    assert polish["edited"] is None
    assert polish["subject"] in response.content.decode()


def test_edit_of_a_built_in_pair_opens_a_new_template_filled_with_the_built_in_words(admin_client):
    rows = admin_client.get(LIST).context["rows"]
    french = next(r for r in rows if r["event"] == "invitation.sent" and r["language"] == "Français")

    form = admin_client.get(french["edit_url"]).context["adminform"].form

    built_in = wording.builtin_words("invitation.sent", "fr")
    assert french["edit_url"].startswith(reverse("admin:notifications_messagetemplate_add"))
    assert (form.initial["event"], form.initial["language"]) == ("invitation.sent", "fr")
    assert (form.initial["subject"], form.initial["body"]) == (built_in.source("subject"), built_in.source("body"))


def test_an_edited_pair_shows_its_own_words_and_edit_opens_that_row(admin_client):
    row = MessageTemplate.objects.create(event="program.due", language="en", subject="Due soon!", body="Hi")

    response = admin_client.get(LIST + "?event=program.due")

    rows = response.context["rows"]
    assert [r["language"] for r in rows] == [name for _code, name in settings.LANGUAGES]
    english = rows[0]
    assert (english["subject"], english["edited"]) == ("Due soon!", row)
    assert english["edit_url"] == reverse("admin:notifications_messagetemplate_change", args=[row.pk])


def test_the_form_names_its_fields_in_words(admin_client):
    content = admin_client.get(reverse("admin:notifications_messagetemplate_add")).content.decode()

    assert "HTML body" in content and "SMS text" in content and "Html body" not in content


def test_the_list_needs_the_view_permission(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)

    assert client.get(LIST).status_code == 403


def test_the_subject_column_reads_as_the_learner_sees_it_not_as_template_code(admin_client):
    """Issue 20: the subject column read `{% if reader == "learner" %}New training assigned: {{ program }}…`."""
    response = admin_client.get(LIST + "?event=program.assigned")

    english = response.context["rows"][0]
    assert english["subject"] == "New training assigned: Workplace safety"
    content = response.content.decode()
    assert "New training assigned: Workplace safety" in content
    assert "{% if reader" not in content and "{{ program }}" not in content


def test_an_edited_subject_is_shown_rendered_with_the_sample_learner_and_marked_edited(admin_client):
    MessageTemplate.objects.create(
        event="program.due", language="en", subject="{{ learner.first_name }}, finish {{ program }}", body="Hi"
    )

    response = admin_client.get(LIST + "?event=program.due")

    assert response.context["rows"][0]["subject"] == "Marie, finish Workplace safety"
    assert "Edited" in response.content.decode() and "Built-in" in response.content.decode()
