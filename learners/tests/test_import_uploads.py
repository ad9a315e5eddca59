"""Issue 16 "The import confirmation trusts import_file_name": it read and deleted an arbitrary /tmp file, a
double click answered 500, unconfirmed uploads stayed in /tmp with personal data. The confirmation now names
a key the server chose for the uploader; each attack below is the POST an attacker would send."""

import os
import tempfile
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from learners.models import ImportUpload, Learner

pytestmark = pytest.mark.django_db

IMPORT = "/admin/learners/learner/import/"
CONFIRM = "/admin/learners/learner/process_import/"
GOOD = b"email,first_name,last_name\nada@example.com,Ada,Lovelace\n"


def preview(client, content=GOOD):
    page = client.post(IMPORT, {"resource": 0, "format": 0, "import_file": SimpleUploadedFile("l.csv", content)})
    return page.context["confirm_form"].initial


def confirm(client, **data):
    return client.post(CONFIRM, {"format": 0, "original_file_name": "l.csv", "resource": 0, **data}, follow=True)


def said(response):
    return [str(m) for m in response.context["messages"]]


def importer(django_user_model, name):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_learner", "change_learner"]))
    return user


def test_a_confirmation_naming_a_path_is_refused_and_reads_nothing(admin_client):
    """Issue 16: import_file_name=../../etc/passwd."""
    response = confirm(admin_client, import_file_name="../../etc/passwd")
    assert response.status_code == 200
    assert "This upload is unknown or has expired: upload the file again." in said(response)
    assert not Learner.objects.exists()


def test_a_confirmation_naming_a_file_in_tmp_neither_imports_nor_deletes_it(admin_client):
    """Issue 16: the confirmation read, imported and deleted a /tmp file of the attacker's choosing."""
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as planted:
        planted.write(GOOD)
    try:
        response = confirm(admin_client, import_file_name=os.path.basename(planted.name))
        assert "This upload is unknown or has expired: upload the file again." in said(response)
        assert not Learner.objects.exists()
        with open(planted.name, "rb") as still_there:
            assert still_there.read() == GOOD
    finally:
        os.remove(planted.name)


def test_the_upload_is_kept_by_the_server_not_in_a_folder_named_by_the_browser(admin_client):
    """Issue 16: the key the confirmation sends back is random and names a row of the uploader's."""
    initial = preview(admin_client)
    upload = ImportUpload.objects.get()
    assert initial["import_file_name"] == upload.key and len(upload.key) == 43 and "/" not in upload.key
    assert bytes(upload.content) == GOOD
    assert not os.path.exists(os.path.join(tempfile.gettempdir(), upload.key))


def test_another_users_upload_cannot_be_confirmed(client, admin_client, django_user_model):
    """Issue 16: the key is bound to the uploader; another importer's POST of it is refused."""
    initial = preview(admin_client)
    client.force_login(importer(django_user_model, "other"))
    response = confirm(client, import_file_name=initial["import_file_name"])
    assert "This upload is unknown or has expired: upload the file again." in said(response)
    assert not Learner.objects.exists()
    confirm(admin_client, import_file_name=initial["import_file_name"])
    assert Learner.objects.filter(email="ada@example.com").exists()


def test_a_double_click_on_confirm_imports_once_and_answers_in_words(admin_client):
    """Issue 16: the second confirmation answered 500 (the file was gone)."""
    initial = preview(admin_client)
    first = confirm(admin_client, import_file_name=initial["import_file_name"])
    assert first.status_code == 200 and any(m.startswith("Import finished: 1 new") for m in said(first))
    second = confirm(admin_client, import_file_name=initial["import_file_name"])
    assert second.status_code == 200
    assert "This file has already been imported: see the list of learners." in said(second)
    assert Learner.objects.count() == 1
    assert bytes(ImportUpload.objects.get().content) == b""  # the personal data went with the import


def test_an_upload_left_unconfirmed_is_deleted_after_the_set_time(admin_client, settings):
    """Issue 16: unconfirmed uploads stayed with personal data; now IMPORT_UPLOAD_MAX_AGE_MINUTES (60)."""
    initial = preview(admin_client)
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        admin_client.get(IMPORT)
        assert ImportUpload.objects.exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        admin_client.get(IMPORT)  # each visit of the import page deletes the old uploads
        assert not ImportUpload.objects.exists()
        response = confirm(admin_client, import_file_name=initial["import_file_name"])
    assert "This upload is unknown or has expired: upload the file again." in said(response)
    assert not Learner.objects.exists()


def test_an_expired_upload_is_not_imported_even_before_it_is_deleted(admin_client):
    """Issue 16: the age is checked at confirmation too, not only by the clean-up."""
    initial = preview(admin_client)
    ImportUpload.objects.update(uploaded_at=timezone.now() - timedelta(minutes=61))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("learners.uploads.purge_expired_uploads", lambda **kwargs: 0)
        response = confirm(admin_client, import_file_name=initial["import_file_name"])
    assert "This upload is unknown or has expired: upload the file again." in said(response)
    assert not Learner.objects.exists()


def test_the_clean_up_command_deletes_old_uploads(admin_client, capsys):
    """Issue 16: `manage.py purge_import_uploads` (for cron) deletes the uploads nobody confirmed."""
    preview(admin_client)
    ImportUpload.objects.update(uploaded_at=timezone.now() - timedelta(hours=2))
    call_command("purge_import_uploads")
    assert not ImportUpload.objects.exists()
    assert "1 upload" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_the_same_moment_import_the_file_once(admin_user):
    """Issue 16: a double click sends two requests at once; the upload's row lock lets one import it."""
    import threading

    from django.db import connection
    from django.test import Client

    def signed_in():
        client = Client()
        client.force_login(admin_user)
        return client

    key = preview(signed_in())["import_file_name"]
    clients = [signed_in(), signed_in()]
    start = threading.Barrier(2)
    answers = []

    def click(client):
        try:
            start.wait()
            # The page's words, not response.context: the test client's template capture is shared by threads.
            answers.append(confirm(client, import_file_name=key).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Learner.objects.count() == 1
    assert sum("Import finished: 1 new" in page for page in answers) == 1
    assert sum("This file has already been imported: see the list of learners." in page for page in answers) == 1
