"""Issue 16 "Import has no limits": "... page the preview". Each page of the preview is the same kept upload,
addressed by its server-side key, for its uploader only; each request below is the one a browser (or an
attacker) would send."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from learners.models import ImportUpload, Learner

pytestmark = pytest.mark.django_db

IMPORT = "/admin/learners/learner/import/"
CONFIRM = "/admin/learners/learner/process_import/"


def learners_file(count, *, bad_every=0):
    lines = ["email,first_name,last_name"]
    for i in range(1, count + 1):
        email = f"bad{i}" if bad_every and i % bad_every == 0 else f"row{i}@example.com"
        lines.append(f"{email},Pat,Row{i}")
    return "\n".join(lines).encode()


def upload(client, content):
    return client.post(IMPORT, {"resource": 0, "format": 0, "import_file": SimpleUploadedFile("l.csv", content)})


def page_of(client, key, page):
    return client.get(f"/admin/learners/learner/import/preview/{key}/", {"page": page}, follow=True)


def shown_rows(response):
    return [int(n) for n in re.findall(r">Row(\d+)</ins>", response.content.decode())]


def said(response):
    return [str(m) for m in response.context["messages"]]


def importer(django_user_model, name):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_learner", "change_learner"]))
    return user


@pytest.fixture
def previewed(admin_client):
    """A 250-row file previewed by the admin: its key, and page 1."""
    first = upload(admin_client, learners_file(250))
    return first.context["confirm_form"].initial["import_file_name"], first


def test_paging_through_a_250_row_file_shows_each_hundred_with_the_totals_unchanged(admin_client, previewed):
    key, first = previewed
    assert shown_rows(first) == list(range(1, 101))
    assert "Page 1 of 3" in first.content.decode()
    second = page_of(admin_client, key, 2)
    assert shown_rows(second) == list(range(101, 201))
    third = page_of(admin_client, key, 3)
    assert shown_rows(third) == list(range(201, 251))
    for page in (first, second, third):
        html = page.content.decode()
        assert "250 new learners, 0 updated." in html
    assert "Rows 201–250 of 250 are shown below." in third.content.decode()
    assert f'preview/{key}/?page=2">‹ Previous' in third.content.decode()
    assert not Learner.objects.exists()


def test_the_confirm_button_of_page_3_imports_the_whole_file_once(admin_client, previewed):
    key, _first = previewed
    third = page_of(admin_client, key, 3)
    assert third.context["confirm_form"].initial["import_file_name"] == key
    data = {"import_file_name": key, "original_file_name": "l.csv", "format": 0, "resource": 0}
    admin_client.post(CONFIRM, data, follow=True)
    assert Learner.objects.count() == 250
    again = admin_client.post(CONFIRM, data, follow=True)
    assert "This file has already been imported: see the list of learners." in said(again)
    assert Learner.objects.count() == 250
    assert "This file has already been imported: see the list of learners." in said(page_of(admin_client, key, 2))


def test_another_importers_key_is_refused_and_shows_none_of_the_file(client, previewed, django_user_model):
    """The key is bound to its uploader: another user allowed to import learners gets nothing from it."""
    key, _first = previewed
    client.force_login(importer(django_user_model, "mallory"))
    response = page_of(client, key, 2)
    assert response.status_code == 200
    assert "This upload is unknown or has expired: upload the file again." in said(response)
    assert shown_rows(response) == []


def test_a_staff_user_who_may_not_import_learners_is_forbidden(client, previewed, django_user_model):
    key, _first = previewed
    viewer = django_user_model.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_learner"))
    client.force_login(viewer)
    assert client.get(f"/admin/learners/learner/import/preview/{key}/", {"page": 2}).status_code == 403


@pytest.mark.parametrize("key", ["..%5C..%5Cetc%5Cpasswd", "x" * 43, "²", "null"])
def test_an_unknown_or_forged_key_is_answered_in_words(admin_client, key):
    response = page_of(admin_client, key, 1)
    assert response.status_code == 200
    assert "This upload is unknown or has expired: upload the file again." in said(response)


def test_an_expired_upload_is_answered_in_words(admin_client, previewed, settings):
    key, _first = previewed
    settings.IMPORT_UPLOAD_MAX_AGE_MINUTES = -1
    response = page_of(admin_client, key, 2)
    assert "This upload is unknown or has expired: upload the file again." in said(response)


@pytest.mark.parametrize(
    ("page", "rows", "words"),
    [
        ("²", range(1, 101), "“²” is not a page number: the first page is shown."),
        ("abc", range(1, 101), "“abc” is not a page number: the first page is shown."),
        ("9" * 5000, range(1, 101), "is not a page number: the first page is shown."),
        ("99999999999999999999", range(201, 251), "This preview has 3 pages: the last one is shown."),
        ("0", range(1, 101), "Pages start at 1: the first page is shown."),
        ("-2", range(1, 101), "Pages start at 1: the first page is shown."),
    ],
)
def test_a_bad_page_number_is_answered_in_words_with_the_nearest_page(admin_client, previewed, page, rows, words):
    key, _first = previewed
    response = page_of(admin_client, key, page)
    assert response.status_code == 200
    assert shown_rows(response) == list(rows)
    assert any(words in message for message in said(response))


def test_the_bad_lines_of_a_large_file_are_paged_and_nothing_can_be_confirmed(admin_client, settings):
    settings.IMPORT_PREVIEW_ROWS = 10
    first = upload(admin_client, learners_file(250, bad_every=10))  # 25 bad lines: 3 pages of them
    assert first.context.get("confirm_form") is None
    key = ImportUpload.objects.get().key
    assert "Bad lines 1–10 of 25 are listed here." in first.content.decode()
    third = page_of(admin_client, key, 3)
    html = third.content.decode()
    assert re.findall(r"“bad(\d+)” is not an email address", html) == ["210", "220", "230", "240", "250"]
    assert "Bad lines 21–25 of 25 are listed here." in html and "Page 3 of 3" in html
    assert third.context.get("confirm_form") is None
    assert not Learner.objects.exists()


def test_a_page_checks_its_rows_against_the_whole_file(admin_client, settings):
    """A row of page 2 whose manager is on page 1 is good; a duplicate of a page-1 email is named with its line."""
    settings.IMPORT_PREVIEW_ROWS = 2
    rows = ["email,first_name,last_name,manager_email", "boss@example.com,Bo,Row1,", "x@example.com,X,Row2,"]
    good = "\n".join([*rows, "ann@example.com,Ann,Row3,boss@example.com"]).encode()
    key = upload(admin_client, good).context["confirm_form"].initial["import_file_name"]
    second = page_of(admin_client, key, 2)
    assert shown_rows(second) == [3] and "boss@example.com" in second.content.decode()
    bad = "\n".join([*rows, "x@example.com,Dup,Row3,", "y@example.com,,Row4,", "bad,Z,Row5,"]).encode()
    upload(admin_client, bad)
    key = ImportUpload.objects.exclude(key=key).get().key
    html = page_of(admin_client, key, 1).content.decode()
    assert "Line 4: x@example.com is already on line 3 of this file." in html
    assert "Line 6: “bad” is not an email address." in page_of(admin_client, key, 2).content.decode()


def test_the_pages_speak_the_administrators_language(admin_client, previewed):
    key, _first = previewed
    response = admin_client.get(
        f"/admin/learners/learner/import/preview/{key}/", {"page": "²"}, HTTP_ACCEPT_LANGUAGE="pl", follow=True
    )
    html = response.content.decode()
    assert "Strona 1 z 3" in html and "Następna" in html
    assert "„²” nie jest numerem strony: wyświetlono pierwszą stronę." in said(response)


def test_a_later_page_shows_an_existing_learner_as_updated_with_her_values_before(admin_client, settings):
    settings.IMPORT_PREVIEW_ROWS = 2
    Learner.objects.create(email="known@example.com", first_name="Old", last_name="Name")
    content = b"email,first_name,last_name\na@example.com,A,Row1\nb@example.com,B,Row2\nKNOWN@example.com,New,Row3\n"
    key = upload(admin_client, content).context["confirm_form"].initial["import_file_name"]
    second = page_of(admin_client, key, 2)
    html = second.content.decode()
    assert html.count('<tr class="update">') == 1 and "Old" in html
    assert "2 new learners, 1 updated." in html
