"""Issue 16: names with CR/LF, over-long names and NUL bytes from an import are refused with the line named,
never a raw database error; a CSV saved by French or Polish Excel (Windows-1252, Windows-1250) is read
correctly, and a file in no known encoding is refused in words. Each file is uploaded as an administrator
would, through the admin's import page."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from learners.imports import COLUMNS
from learners.models import ImportUpload, Learner

pytestmark = pytest.mark.django_db

IMPORT = "/admin/learners/learner/import/"
CSV, XLSX = 0, 1
HEADER = "email,first_name,last_name,phone,language,timezone,manager_email,groups\n"


def upload(client, content, name="learners.csv", fmt=CSV, **extra):
    return client.post(
        IMPORT, {"resource": 0, "format": fmt, "import_file": SimpleUploadedFile(name, content), **extra}
    )


def bad_lines(page):
    result = page.context["result"]
    return [e for row in result.invalid_rows for errors in row.field_specific_errors.values() for e in errors]


def test_a_name_with_a_line_break_is_refused_with_its_line(admin_client):
    """Issue 16: a quoted CSV cell may hold CR/LF; such a name is refused, naming the line."""
    content = (HEADER + 'ada@example.com,"Ada\r\nInjected",Lovelace,,,,,\n').encode()
    page = upload(admin_client, content)
    assert bad_lines(page) == ["Line 2: the first_name cell holds a line break or another control character."]
    assert not Learner.objects.exists() and not ImportUpload.objects.exists()


def test_a_nul_byte_in_a_name_or_an_email_is_refused_with_its_line_not_a_database_error(admin_client):
    """Issue 16: PostgreSQL refuses NUL outright; the import answered with its raw error (and in a lookup)."""
    content = (
        HEADER
        + "ada@example.com,Ada,Love\x00lace,,,,,\n"
        + "bob\x00@example.com,Bob,Bobbins,,,,,\n"
        + "cy@example.com,Cy,Cyan,,,,boss\x00@example.com,\n"
    ).encode()
    page = upload(admin_client, content)
    assert page.status_code == 200
    assert bad_lines(page) == [
        "Line 2: the last_name cell holds a line break or another control character.",
        "Line 3: the email cell holds a line break or another control character.",
        "Line 4: the manager_email cell holds a line break or another control character.",
    ]
    assert "Traceback" not in page.content.decode() and not Learner.objects.exists()


def test_an_over_long_name_is_refused_with_its_line_and_the_limit(admin_client):
    """Issue 16: a name longer than its column gave PostgreSQL's "value too long" error."""
    long_email = "x" * 250 + "@example.com"
    content = (HEADER + f"ada@example.com,{'A' * 151},Lovelace,,,,,\n{long_email},Bob,B,,,,,\n").encode()
    page = upload(admin_client, content)
    assert bad_lines(page) == [
        "Line 2: the first_name cell is longer than 150 characters.",
        "Line 3: the email cell is longer than 254 characters.",
    ]
    assert not Learner.objects.exists()


def test_an_xlsx_cell_with_a_line_break_is_refused_with_its_line(admin_client):
    """Issue 16: Alt+Enter in an Excel cell is a line feed inside the name."""
    dataset = tablib.Dataset(headers=COLUMNS)
    dataset.append(["ada@example.com", "Ada", "Love\nlace", "", "", "", "", "", ""])
    page = upload(admin_client, dataset.export("xlsx"), "learners.xlsx", XLSX)
    assert bad_lines(page) == ["Line 2: the last_name cell holds a line break or another control character."]


def test_a_csv_saved_by_french_excel_in_windows_1252_is_read_correctly(admin_client):
    """Issue 16: Excel's default CSV in France is Windows-1252 (é, è, ç, œ), separated by semicolons."""
    content = "email;first_name;last_name\nelo@example.com;Éloïse;Châtelet-Bœuf\n".encode("cp1252")
    page = upload(admin_client, content)
    admin_client.post("/admin/learners/learner/process_import/", page.context["confirm_form"].initial)
    learner = Learner.objects.get()
    assert (learner.first_name, learner.last_name) == ("Éloïse", "Châtelet-Bœuf")


def test_a_csv_saved_by_polish_excel_in_windows_1250_is_read_correctly(admin_client):
    """Issue 16: Windows Polish Excel saves CSV in Windows-1250 (ł, ż, ś), which Windows-1252 would misread."""
    content = (HEADER + "lucja@example.com,Łucja,Żółkiewska-Kościuszko,,pl,,,\n").encode("cp1250")
    page = upload(admin_client, content)
    admin_client.post("/admin/learners/learner/process_import/", page.context["confirm_form"].initial)
    learner = Learner.objects.get()
    assert (learner.first_name, learner.last_name) == ("Łucja", "Żółkiewska-Kościuszko")


def test_the_administrator_may_name_the_encoding_of_the_file(admin_client):
    """Issue 16: an encoding select (automatic, UTF-8, Windows-1252, Windows-1250) for the files guessing misreads."""
    content = (HEADER + "sw@example.com,Świętosław,Nowak,,pl,,,\n").encode("cp1250")
    page = upload(admin_client, content, encoding="cp1250")
    admin_client.post("/admin/learners/learner/process_import/", page.context["confirm_form"].initial)
    assert Learner.objects.get().first_name == "Świętosław"


def test_a_utf8_csv_with_excels_byte_order_mark_is_read_correctly(admin_client):
    """Issue 16: "CSV UTF-8" from Excel starts with a byte order mark."""
    content = (HEADER + "zo@example.com,Zoë,Żak,,,,,\n").encode("utf-8-sig")
    page = upload(admin_client, content)
    admin_client.post("/admin/learners/learner/process_import/", page.context["confirm_form"].initial)
    assert (Learner.objects.get().first_name, Learner.objects.get().last_name) == ("Zoë", "Żak")


def test_a_file_in_no_known_encoding_is_refused_in_words(admin_client):
    """Issue 16: bytes that neither UTF-8, Windows-1250 nor Windows-1252 decode are refused, nothing imported."""
    content = HEADER.encode() + b"x@example.com,\x81\x90,Name,,,,,\n"
    page = upload(admin_client, content)
    assert page.context["form"].errors["import_file"] == [
        "This file is not text in UTF-8, Windows-1250 or Windows-1252: "
        "in Excel, save it as “CSV UTF-8 (comma delimited)”."
    ]
    assert not Learner.objects.exists() and not ImportUpload.objects.exists()


def test_a_file_not_in_the_encoding_named_is_refused_in_words(admin_client):
    """Issue 16: an explicit UTF-8 choice for a Windows-1252 file says so instead of guessing."""
    page = upload(admin_client, (HEADER + "e@example.com,Émile,Zola,,,,,\n").encode("cp1252"), encoding="utf-8-sig")
    assert page.context["form"].errors["import_file"] == [
        "This file is not in UTF-8 (“CSV UTF-8” in Excel): choose the encoding it was saved in, or “Automatic”."
    ]


def test_an_unexpected_failure_shows_no_raw_error_nor_traceback(admin_client, monkeypatch, caplog):
    """Issue 16 ("never a raw database error"): whatever fails inside the import goes to the log, not the page."""

    def fails(*args, **kwargs):
        raise RuntimeError('relation "secret_table" does not exist')

    monkeypatch.setattr("learners.services.link_imported_learners", fails)
    page = upload(admin_client, (HEADER + "ada@example.com,Ada,Lovelace,,,,,\n").encode())
    html = page.content.decode()
    assert page.status_code == 200 and "Nothing was imported: the import failed" in html
    assert "secret_table" not in html and "Traceback" not in html
    assert "secret_table" in caplog.text
    assert not Learner.objects.exists()
