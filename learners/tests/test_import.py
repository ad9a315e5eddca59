"""Seed 002 §I: learners imported from a CSV or XLSX file in the admin — new ones created, existing ones
updated by email, groups and managers by email — get no invitation email and no reminder; a file with any
bad row imports nothing and lists every bad row with its line number and reason."""

from datetime import timedelta

import pytest
import tablib
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from learners.imports import COLUMNS, import_learners
from learners.models import GroupMembership, Invitation, Learner, LearnerGroup
from learners.scanners import scan_invitation_reminders
from notifications.models import Notification

pytestmark = pytest.mark.django_db

GOOD = """email,first_name,last_name,phone,language,timezone,manager_email,groups
boss@example.com,Maria,Boss,,fr,Europe/Paris,,Warehouse
ada@example.com,Ada,Lovelace,+33612345678,en,UTC,boss@example.com,Warehouse;Office
KNOWN@example.com,,,+48601234567,pl,,boss@example.com,
"""


@pytest.fixture
def known():
    LearnerGroup.objects.create(name="Warehouse")
    LearnerGroup.objects.create(name="Office")
    return Learner.objects.create(email="known@example.com", first_name="Kim", last_name="Known", language="en")


def csv(text):
    return tablib.Dataset().load(text, format="csv")


def test_seed_002_an_import_creates_updates_links_and_sends_nothing(known):
    result = import_learners(csv(GOOD))
    assert not result.has_validation_errors() and result.totals["new"] == 2 and result.totals["update"] == 1
    ada = Learner.objects.get(email="ada@example.com")
    boss = Learner.objects.get(email="boss@example.com")
    known.refresh_from_db()
    assert ada.manager == boss and known.manager == boss
    assert (known.first_name, known.phone, known.language) == ("Kim", "+48601234567", "pl")  # blank cells kept
    assert set(ada.groups.values_list("name", flat=True)) == {"Warehouse", "Office"}
    assert set(boss.groups.values_list("name", flat=True)) == {"Warehouse"}
    invitations = Invitation.objects.filter(source=Invitation.Source.BULK_IMPORT)
    assert set(invitations.values_list("learner__email", flat=True)) == {"ada@example.com", "boss@example.com"}
    assert not Notification.objects.exists()


def test_seed_002_imported_learners_are_never_reminded(known):
    import_learners(csv(GOOD))
    for day in (7, 45):
        with time_machine.travel(timezone.now() + timedelta(days=day)):
            assert scan_invitation_reminders() == 0
    assert not Notification.objects.exists()


def test_seed_002_a_file_with_bad_rows_imports_nothing_and_names_every_bad_line(known):
    bad = """email,first_name,last_name,phone,language,timezone,manager_email,groups
new1@example.com,New,One,,en,UTC,,Warehouse
not-an-email,Bad,Email,,en,UTC,,
new2@example.com,,Two,0612,xx,Mars/Olympus,nobody@example.com,Nowhere
new1@example.com,New,Again,,en,UTC,,
"""
    result = import_learners(csv(bad))
    assert result.has_validation_errors()
    messages = [e for row in result.invalid_rows for errors in row.field_specific_errors.values() for e in errors]
    assert "Line 3: “not-an-email” is not an email address." in messages
    assert "Line 4: a new learner needs a first name." in messages
    assert any(m.startswith("Line 4: the phone “0612”") for m in messages)
    assert "Line 4: the language “xx” is not one of en, fr, pl." in messages
    assert any(m.startswith("Line 4: “Mars/Olympus” is not a known time zone") for m in messages)
    assert "Line 4: the manager nobody@example.com is neither a learner nor in this file." in messages
    assert "Line 4: there is no group named “Nowhere”." in messages
    assert "Line 5: new1@example.com is already on line 2 of this file." in messages
    assert [row.number + 1 for row in result.invalid_rows] == [3, 4, 5]
    assert list(Learner.objects.values_list("email", flat=True)) == ["known@example.com"]
    assert not Invitation.objects.exists() and not GroupMembership.objects.exists()


def test_seed_002_the_import_costs_a_fixed_number_of_queries(known, django_assert_max_num_queries):
    dataset = tablib.Dataset(headers=COLUMNS)
    for i in range(300):
        dataset.append([f"p{i}@example.com", "P", f"{i}", "", "en", "UTC", "known@example.com", "Office", "yes"])
    with django_assert_max_num_queries(25):
        result = import_learners(dataset)
    assert result.totals["new"] == 300
    assert Learner.objects.filter(manager=known).count() == 300
    assert Learner.objects.filter(manager=known, consent_given_at__isnull=False).count() == 300  # issue 20


def upload(client, content, name, fmt, **extra):
    return client.post(
        "/admin/learners/learner/import/",
        {"resource": 0, "format": fmt, "import_file": SimpleUploadedFile(name, content), **extra},
    )


def test_seed_002_the_admin_previews_a_csv_then_imports_it_on_confirmation(admin_client, known):
    page = upload(admin_client, GOOD.encode(), "learners.csv", 0)
    html = page.content.decode()
    assert page.status_code == 200 and "Preview" in html and "New" in html and "Update" in html
    assert not Learner.objects.filter(email="ada@example.com").exists()  # a preview changes nothing
    confirm = page.context["confirm_form"]
    admin_client.post("/admin/learners/learner/process_import/", {**confirm.initial, "resource": 0})
    assert Learner.objects.filter(email="ada@example.com").exists()
    assert not Notification.objects.exists()


def test_seed_002_the_admin_imports_an_xlsx_file(admin_client, known):
    content = csv(GOOD).export("xlsx")
    page = upload(admin_client, content, "learners.xlsx", 1)
    confirm = page.context["confirm_form"]
    admin_client.post("/admin/learners/learner/process_import/", {**confirm.initial, "resource": 0})
    assert Learner.objects.get(email="ada@example.com").manager.email == "boss@example.com"


def test_seed_002_the_admin_lists_the_bad_lines_and_offers_no_confirmation(admin_client, known):
    page = upload(admin_client, b"email,first_name,last_name\nada@example.com,Ada,\n", "bad.csv", 0)
    html = page.content.decode()
    assert "Nothing was imported" in html and "Line 2: a new learner needs a last name." in html
    assert "confirm_form" not in page.context or page.context.get("confirm_form") is None
    assert not Learner.objects.filter(email="ada@example.com").exists()


def test_seed_002_the_benchmark_command_runs_and_sends_nothing(capsys):
    call_command("bench_import", learners=30)
    out = capsys.readouterr().out
    assert "30 learners" in out and "0 messages queued" in out


def test_seed_002_importing_takes_the_permissions_to_add_and_change_learners(client, django_user_model):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_learner"))
    client.force_login(staff)
    assert client.get("/admin/learners/learner/import/").status_code == 403
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["add_learner", "change_learner"]))
    staff = django_user_model.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get("/admin/learners/learner/import/").status_code == 200


def test_seed_002_the_preview_shows_the_manager_and_groups_each_learner_will_have(admin_client, known):
    page = upload(admin_client, GOOD.encode(), "learners.csv", 0)
    result = page.context["result"]
    shown = [dict(zip(result.diff_headers, row.diff, strict=True)) for row in result.valid_rows()]
    ada = next(row for row in shown if ">Ada<" in row["first_name"])
    kim = next(row for row in shown if ">Kim<" in row["first_name"])
    assert "boss@example.com" in ada["manager_email"] and "Office" in ada["groups"] and "Warehouse" in ada["groups"]
    assert "boss@example.com" in kim["manager_email"]
