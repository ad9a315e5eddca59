"""Issue 20, "Consent you can record" (seed 004: "consent to the processing of personal data ... marked on the
platform"): consent is given or withdrawn with its date, how we know and who recorded it, for one learner or
many, from the admin or a file; withdrawing it cancels whatever still waits for the learner."""

from datetime import UTC, date, datetime, timedelta

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from learners import services
from learners.imports import import_learners
from learners.models import ConsentRecord, Guardian, Learner
from notifications.models import Notification

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:learners_learner_changelist")


def make_learner(email="ada@example.com", **kwargs):
    return Learner.objects.create(email=email, first_name="Ada", last_name="Lovelace", **kwargs)


def message(learner=None, *, guardian=None, status, key):
    return Notification.objects.create(
        event="program.assigned",
        channel="email",
        recipient_learner=learner,
        recipient_guardian=guardian,
        to="x@example.com",
        status=status,
        dedupe_key=key,
    )


def staff(*perms):
    user = get_user_model().objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def test_recording_consent_keeps_the_history_and_the_learner_consent_date_in_step(admin_user):
    ada = make_learner()
    given_at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    services.record_consent([ada], given=True, at=given_at, source=ConsentRecord.Source.PAPER_FORM, actor=admin_user)
    ada.refresh_from_db()
    assert ada.consent_given_at == given_at
    services.record_consent([ada], given=False, source=ConsentRecord.Source.ADMIN, actor=admin_user, note="phone")
    ada.refresh_from_db()
    assert ada.consent_given_at is None
    history = list(ada.consent_records.values_list("given", "source", "recorded_by", "note"))
    assert history == [(False, "admin", admin_user.pk, "phone"), (True, "paper_form", admin_user.pk, "")]


def test_recording_consent_for_a_thousand_learners_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    Learner.objects.bulk_create(
        Learner(email=f"l{i}@example.com", first_name="L", last_name=str(i)) for i in range(1000)
    )
    with django_assert_max_num_queries(8):
        assert services.record_consent(Learner.objects.all(), given=True, source="import") == 1000
    assert Learner.objects.filter(consent_given_at__isnull=True).count() == 0
    with django_assert_max_num_queries(8):
        services.record_consent(Learner.objects.all(), given=False, source="admin")
    assert ConsentRecord.objects.count() == 2000
    assert Learner.objects.filter(consent_given_at__isnull=False).count() == 0


def test_withdrawing_consent_cancels_what_waits_for_the_learner_and_her_guardians_only():
    ada = make_learner(consent_given_at=timezone.now())
    bob = make_learner("bob@example.com", consent_given_at=timezone.now())
    mum = Guardian.objects.create(learner=ada, name="Mum", email="mum@example.com")
    queued = message(ada, status="queued", key="1")
    waiting = message(ada, status="awaiting_confirmation", key="2")
    to_mum = message(guardian=mum, status="queued", key="3")
    sent = message(ada, status="sent", key="4")
    bobs = message(bob, status="queued", key="5")
    services.record_consent([ada], given=False, source="paper_form")
    for row in (queued, waiting, to_mum, sent, bobs):
        row.refresh_from_db()
    assert [(r.status, r.reason) for r in (queued, waiting, to_mum)] == [("cancelled", "consent_withdrawn")] * 3
    assert (sent.status, bobs.status) == ("sent", "queued")


def test_the_record_consent_action_asks_date_and_source_then_records_it_for_every_selected_learner(client):
    client.force_login(staff("view_learner", "change_learner"))
    ada, bob = make_learner(), make_learner("bob@example.com")
    selected = {"action": "record_consent", "_selected_action": [ada.pk, bob.pk]}
    page = client.post(CHANGELIST, selected)
    assert page.status_code == 200 and b"Record consent" in page.content and b"Paper form" in page.content
    response = client.post(
        CHANGELIST, {**selected, "confirm": "1", "given": "yes", "on": "2026-01-15", "source": "paper_form"}
    )
    assert response.status_code == 302
    assert set(Learner.objects.filter(consent_given_at__date=date(2026, 1, 15)).values_list("pk", flat=True)) == {
        ada.pk,
        bob.pk,
    }
    assert ConsentRecord.objects.filter(source="paper_form", given=True).count() == 2


def test_a_consent_date_in_the_future_is_refused_in_words_and_nothing_is_recorded(client):
    client.force_login(staff("view_learner", "change_learner"))
    ada = make_learner()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(
        CHANGELIST,
        {
            "action": "record_consent",
            "_selected_action": [ada.pk],
            "confirm": "1",
            "given": "yes",
            "on": tomorrow,
            "source": "admin",
        },
    )
    assert response.status_code == 200 and b"cannot be in the future" in response.content
    assert not ConsentRecord.objects.exists()


def test_a_clerk_who_may_only_view_learners_cannot_record_consent_by_posting_the_action(client):
    """The attack: the action is not offered to her, so she posts it by hand."""
    client.force_login(staff("view_learner"))
    ada = make_learner()
    client.post(
        CHANGELIST,
        {
            "action": "record_consent",
            "_selected_action": [ada.pk],
            "confirm": "1",
            "given": "yes",
            "on": "2026-01-15",
            "source": "admin",
        },
    )
    ada.refresh_from_db()
    assert ada.consent_given_at is None and not ConsentRecord.objects.exists()


def test_the_learner_page_shows_when_and_how_consent_was_given_and_withdrawn(admin_client, admin_user):
    ada = make_learner()
    services.record_consent(
        [ada], given=True, at=datetime(2026, 1, 15, 12, tzinfo=UTC), source="paper_form", actor=admin_user
    )
    services.record_consent([ada], given=False, source="integration")
    content = admin_client.get(reverse("admin:learners_learner_change", args=[ada.pk])).content.decode()
    assert "Consent given or withdrawn" in content
    assert "15 Jan 2026" in content and "Paper form" in content and "HR integration" in content


def test_typing_a_consent_date_on_the_learner_form_is_recorded_in_the_history(admin_client, admin_user):
    ada = make_learner()
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "",
        "language": "en",
        "timezone": "UTC",
        "is_active": "on",
        "consent_given_at_0": "2026-01-15",
        "consent_given_at_1": "10:00",
    }
    for prefix in ("guardians", "memberships", "assignments", "invitations", "consent_records", "undeliverable_marks"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = admin_client.post(reverse("admin:learners_learner_change", args=[ada.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    record = ConsentRecord.objects.get(learner=ada)
    assert (record.given, record.source, record.recorded_by) == (True, "admin", admin_user)


# --- The import's consent column ------------------------------------------------------------------------------


def csv(text):
    return tablib.Dataset().load(text, format="csv")


def test_an_imported_consent_column_records_yes_a_date_or_no_with_the_source_import():
    known = make_learner("known@example.com", consent_given_at=timezone.now())
    result = import_learners(
        csv(
            "email,first_name,last_name,consent\n"
            "yes@example.com,Yves,Yes,oui\n"
            "dated@example.com,Dana,Dated,14/03/2025\n"
            "none@example.com,Nina,None,\n"
            "known@example.com,,,no\n"
        )
    )
    assert not result.has_validation_errors()
    consent = dict(Learner.objects.values_list("email", "consent_given_at"))
    assert consent["yes@example.com"] is not None and consent["none@example.com"] is None
    assert timezone.localtime(consent["dated@example.com"]).date() == date(2025, 3, 14)
    assert consent["known@example.com"] is None
    assert set(ConsentRecord.objects.values_list("learner__email", "given", "source")) == {
        ("yes@example.com", True, "import"),
        ("dated@example.com", True, "import"),
        ("known@example.com", False, "import"),
    }
    del known


def test_an_unreadable_or_future_consent_cell_is_refused_with_its_line_and_nothing_is_imported():
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    result = import_learners(
        csv(f"email,first_name,last_name,consent\na@example.com,A,A,maybe\nb@example.com,B,B,{future}\n")
    )
    errors = [str(e) for row in result.invalid_rows for errs in row.field_specific_errors.values() for e in errs]
    assert any("Line 2" in e and "maybe" in e for e in errors)
    assert any("Line 3" in e and "future" in e for e in errors)
    assert not Learner.objects.exists() and not ConsentRecord.objects.exists()


def test_the_import_preview_shows_the_consent_before_and_after(admin_client):
    make_learner("known@example.com")
    upload = b"email,first_name,last_name,consent\nknown@example.com,,,2025-03-14\n"
    response = admin_client.post(
        reverse("admin:learners_learner_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("l.csv", upload, "text/csv")},
    )
    content = response.content.decode()
    assert response.status_code == 200 and ">Consent</th>" in content and "14 Mar 2025" in content
    assert not ConsentRecord.objects.exists()


# --- The import page (issue 20: one field list, readable headers, a template file) -------------------------------


def test_the_import_page_lists_each_column_once_with_its_meaning_and_offers_a_template(admin_client):
    page = admin_client.get(reverse("admin:learners_learner_import")).content.decode()
    assert "This importer will import the following fields" not in page
    assert page.count("<code>manager_email</code>") == 1 and "Manager&#x27;s email" in page
    assert "learners/learner/import/template.csv" in page and "import/template.xlsx" in page


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_template_file_imports_as_it_is_with_the_consent_column(admin_client, file_format):
    from learners.models import LearnerGroup

    LearnerGroup.objects.create(name="Warehouse")
    LearnerGroup.objects.create(name="Office")
    Learner.objects.create(email="maria.manager@example.com", first_name="Maria", last_name="M")
    response = admin_client.get(reverse("admin:learners_learner_import_template", args=[file_format]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    dataset = tablib.Dataset().load(
        response.content if file_format == "xlsx" else response.content.decode(), format=file_format
    )
    assert dataset.headers[-1] == "consent"
    assert not import_learners(dataset).has_validation_errors()
    assert Learner.objects.get(email="ada.lovelace@example.com").consent_given_at is not None


def test_a_clerk_without_the_import_permission_cannot_download_the_template(client):
    client.force_login(staff("view_learner"))
    assert client.get(reverse("admin:learners_learner_import_template", args=["csv"])).status_code == 403


def test_the_import_preview_headers_are_readable_names(admin_client):
    upload = b"email,first_name,last_name\nada@example.com,Ada,Lovelace\n"
    response = admin_client.post(
        reverse("admin:learners_learner_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("l.csv", upload, "text/csv")},
    )
    content = response.content.decode()
    assert ">First name</th>" in content and ">first_name</th>" not in content
