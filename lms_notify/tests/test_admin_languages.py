"""Issue 20 ("Done when": no untranslated words, fr and pl): an administrator whose browser asks for French or
Polish reads the admin's app names, model names and the template editor's labels in her language, not in
English. The words come from the apps' own catalogues (<app>/locale/{fr,pl}/LC_MESSAGES/django.po)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from notifications.admin.templates import MessageTemplateForm

# Names a French or Polish reader writes exactly as English does.
SAME_WORD = {
    "fr": {"messages", "invitations", "sessions"},
    "pl": set(),
}
PROJECT_APPS = ("learners", "programs", "live_sessions", "notifications", "django_q")


def _english(value):
    with translation.override("en"):
        return str(value)


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_every_model_of_the_admin_is_named_in_the_administrators_language(language):
    untranslated = []
    for model in admin.site._registry:
        plural = model._meta.verbose_name_plural
        with translation.override(language):
            translated = str(plural)
        if translated == _english(plural) and translated not in SAME_WORD[language]:
            untranslated.append(model._meta.label)
    assert untranslated == []


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_every_app_on_the_admin_home_page_is_named_in_the_administrators_language(language):
    untranslated = []
    for label in PROJECT_APPS:
        name = apps.get_app_config(label).verbose_name
        with translation.override(language):
            if str(name) == _english(name):
                untranslated.append(label)
    assert untranslated == []


@pytest.mark.parametrize("language", ["fr", "pl"])
def test_the_template_editor_labels_and_explains_its_fields_in_the_administrators_language(language):
    form = MessageTemplateForm()
    with translation.override(language):
        words = {name: (str(field.label), str(field.help_text)) for name, field in form.fields.items()}
    english = {name: (_english(field.label), _english(field.help_text)) for name, field in form.fields.items()}
    assert [name for name in words if words[name][0] == english[name][0]] == []
    assert [name for name in words if words[name][1] and words[name][1] == english[name][1]] == []


@pytest.mark.django_db
def test_a_polish_administrator_adds_a_message_template_in_polish(client):
    """The issue's own example: the add page read "Dodaj message template"."""
    client.force_login(get_user_model().objects.create_superuser("admin", "admin@example.com", "pw"))
    page = client.get(reverse("admin:notifications_messagetemplate_add"), HTTP_ACCEPT_LANGUAGE="pl")
    content = page.content.decode()
    assert "Dodaj szablon wiadomości" in content
    assert "message template" not in content
