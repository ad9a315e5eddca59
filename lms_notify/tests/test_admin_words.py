"""Issue 20, "Words that mislead": the admin greets its user by name, help texts speak the user's words (no
"(seed 004)"), a time zone is chosen from a list (the organisation's by default), and django-q2's schedules,
which the project creates itself (CONTRACT.md), cannot be added, changed or deleted from the admin."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_q.models import Schedule

from learners.models import Learner

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def marie(client):
    user = get_user_model().objects.create_superuser(
        "admin", "admin@example.com", "pw", first_name="Marie", last_name="Dupont"
    )
    client.force_login(user)
    return user


def test_the_admin_header_greets_the_user_by_her_full_name(client, marie):
    content = client.get(reverse("admin:index")).content.decode()
    assert "Hello, <strong>Marie Dupont</strong>." in content and "Welcome," not in content


def test_no_help_text_or_page_cites_a_seed_document():
    """Citations such as "(seed 004)" belong to code comments and tests, never to what users read."""
    cited = re.compile(r"""_\(\s*["'][^"']*\bseed 00\d""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/*.py")
        if ".venv" not in path.parts and "tests" not in path.parts and "migrations" not in path.parts
        if cited.search(path.read_text())
    ]
    offenders += [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/templates/**/*.html")
        if ".venv" not in path.parts and re.search(r"seed 00\d", re.sub(r"{#.*?#}", "", path.read_text()))
    ]
    assert offenders == []


def test_a_new_learner_time_zone_is_chosen_from_a_list_starting_on_the_organisation_zone(client, marie, settings):
    settings.ORGANISATION_TIMEZONE = "Europe/Paris"
    form = client.get(reverse("admin:learners_learner_add")).context["adminform"].form
    field = form.fields["timezone"]
    assert ("Europe/Warsaw", "Europe/Warsaw") in field.choices and form["timezone"].value() == "Europe/Paris"
    assert '<select name="timezone"' in str(form["timezone"])
    assert Learner.objects.create(email="a@example.com", first_name="A", last_name="B").timezone == "Europe/Paris"


def test_a_typed_time_zone_that_is_not_in_the_list_is_refused_in_words(client, marie):
    learner = Learner.objects.create(email="a@example.com", first_name="A", last_name="B", timezone="UTC")
    data = {"first_name": "A", "last_name": "B", "email": "a@example.com", "language": "en", "timezone": "Mars/Olympus"}
    for prefix in ("guardians", "memberships", "assignments", "invitations", "consent_records"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(reverse("admin:learners_learner_change", args=[learner.pk]), data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    learner.refresh_from_db()
    assert learner.timezone == "UTC"


def test_even_a_superuser_cannot_delete_change_or_add_a_schedule_from_the_admin(client, marie):
    """The attack: the schedules page offers nothing, so she posts the delete confirmation by hand."""
    schedule = Schedule.objects.create(name="scan", func="notifications.tasks.scan", schedule_type=Schedule.MINUTES)
    assert client.get(reverse("admin:django_q_schedule_changelist")).status_code == 200
    delete = reverse("admin:django_q_schedule_delete", args=[schedule.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:django_q_schedule_change", args=[schedule.pk])
    client.post(change, {"name": "hacked", "func": "os.system", "schedule_type": "O"})
    assert client.post(reverse("admin:django_q_schedule_add"), {"name": "x", "func": "os.system"}).status_code == 403
    client.post(
        reverse("admin:django_q_schedule_changelist"),
        {"action": "delete_selected", "_selected_action": [schedule.pk], "post": "yes"},
    )
    schedule.refresh_from_db()
    assert schedule.name == "scan" and schedule.func == "notifications.tasks.scan"
