"""The template editor speaks in words: variables as chips, a live preview of the email for a sample learner in
each language, refusals naming their line (issue 20, "Templates in words")."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db

LIVE = "/admin/notifications/messagetemplate/live-preview/"


def _parts(**overrides):
    return {
        "event": "program.due",
        "language": "fr",
        "subject": "{{ learner.first_name }}: {{ program }}",
        "body": "Bonjour {{ learner.first_name }},\n\nÀ finir : {{ program }}.",
        "html_body": "",
        "sms_body": "",
        **overrides,
    }


def test_the_live_preview_renders_the_unsaved_words_for_the_sample_learner_in_the_chosen_language(admin_client):
    answer = admin_client.post(LIVE, _parts()).json()

    assert answer["subject"] == "Marie: Workplace safety"
    assert answer["body"].startswith("Bonjour Marie,")
    assert answer["html_body"].lstrip().lower().startswith("<!doctype html")
    assert "Workplace safety" in answer["html_body"]


def test_the_live_preview_names_the_line_of_an_error_and_writes_nothing(admin_client):
    from notifications.models import MessageTemplate

    answer = admin_client.post(LIVE, _parts(body="Bonjour\n{{ learner.password }}")).json()

    assert answer["errors"]["body"].startswith("Line 2: “learner.password” is not a value this event offers")
    assert not MessageTemplate.objects.exists()


def test_the_live_preview_refuses_an_unknown_event_or_language_in_words(admin_client):
    response = admin_client.post(LIVE, _parts(event="no.such.event"))

    assert response.status_code == 400 and "Choose an event" in response.json()["error"]


def test_a_staff_member_who_may_only_view_templates_cannot_render_through_the_live_preview(client, django_user_model):
    """The attack: a viewer posts a template to the preview endpoint to have the server render it."""
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_messagetemplate"))
    client.force_login(viewer)

    assert client.post(LIVE, _parts()).status_code == 403


def test_the_editor_shows_the_event_variables_as_chips_with_their_descriptions(admin_client):
    content = admin_client.get(
        reverse("admin:notifications_messagetemplate_add") + "?event=program.due&language=en"
    ).content.decode()

    assert 'class="variable-chip" data-insert="{{ learner.first_name }}"' in content
    assert 'data-insert="{% for item in incomplete %}{{ item.title }}{% endfor %}"' in content
    assert 'id="live-preview"' in content and '<iframe id="preview-html" sandbox' in content


def test_the_preview_page_shows_the_whole_html_email_inside_its_frame(admin_client):
    """Issue 20: the HTML pane was blank, its srcdoc cut off at `<html lang=` (the page was not escaped)."""
    content = admin_client.get(
        reverse("admin:notifications_messagetemplate_preview") + "?event=program.due&language=pl"
    ).content.decode()

    frame = content.split('<iframe sandbox srcdoc="', 1)[1].split('"', 1)[0]
    assert frame.startswith("&lt;!DOCTYPE html&gt;") or frame.lower().startswith("&lt;!doctype html&gt;")
    assert "&lt;/html&gt;" in frame
