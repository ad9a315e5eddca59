"""Issue 16 "Import has no limits": a 0.15 MB xlsx of 300k rows took 119 s and 2.27 GB, a 100k-row CSV gave
a 71 MB preview page. Each attack below is the file an attacker (or a careless export) would upload: it is
refused within seconds, in words naming the limit, and nothing is imported nor kept."""

import io
import time
import zipfile

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from learners.imports import COLUMNS
from learners.models import ImportUpload, Learner

pytestmark = pytest.mark.django_db

IMPORT = "/admin/learners/learner/import/"
CSV, XLSX = 0, 1


def upload(client, content, name, fmt, **extra):
    return client.post(
        IMPORT, {"resource": 0, "format": fmt, "import_file": SimpleUploadedFile(name, content), **extra}
    )


def form_errors(page):
    return [str(e) for e in page.context["form"].errors.get("import_file", [])]


def xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook (written by openpyxl) whose first sheet is replaced by the given XML."""
    dataset = tablib.Dataset(["a@example.com", "A", "B", "", "en", "UTC", "", "", ""], headers=COLUMNS)
    source = zipfile.ZipFile(io.BytesIO(dataset.export("xlsx")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            data = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item.filename, data)
    return out.getvalue()


def sheet_of(rows: int) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>'
    # Rows without their number, as some writers do: each is the same bytes, so the file compresses to nothing.
    body = b'<row><c t="inlineStr"><is><t>x@example.com</t></is></c></row>' * rows
    return head + header + body + b"</sheetData></worksheet>"


def assert_refused_quickly(admin_client, content, name, fmt, words):
    before = Learner.objects.count()
    started = time.monotonic()
    page = upload(admin_client, content, name, fmt)
    elapsed = time.monotonic() - started
    assert page.status_code == 200
    assert any(words in error for error in form_errors(page)), form_errors(page)
    assert elapsed < 3, f"refused after {elapsed:.1f} s"
    assert Learner.objects.count() == before and not ImportUpload.objects.exists()
    assert "result" not in page.context or page.context["result"] is None


def test_an_xlsx_of_300_000_rows_is_refused_within_seconds_naming_the_row_limit(admin_client):
    """Issue 16: the 300k-row workbook (small once compressed) that took 119 s and 2.27 GB."""
    content = xlsx_with_sheet(sheet_of(300_000))
    assert len(content) < 200_000
    assert_refused_quickly(admin_client, content, "many.xlsx", XLSX, "more than 20,000 rows")


def test_a_zip_bomb_xlsx_is_refused_from_its_declared_sizes_before_it_is_unpacked(admin_client):
    """Issue 16: a workbook whose sheet unpacks to 60 MB is refused without being read."""
    padding = b" " * (60 * 1024 * 1024)
    content = xlsx_with_sheet(sheet_of(1)[: -len(b"</worksheet>")] + padding + b"</worksheet>")
    assert len(content) < 200_000
    assert_refused_quickly(admin_client, content, "bomb.xlsx", XLSX, "the largest accepted is 50.0\xa0MB")


def test_a_csv_of_more_rows_than_the_limit_is_refused_naming_the_limit(admin_client):
    """Issue 16: the row limit holds for CSV too (20,001 learners)."""
    lines = ["email,first_name,last_name"] + [f"p{i}@example.com,P,{i}" for i in range(20_001)]
    assert_refused_quickly(admin_client, "\n".join(lines).encode(), "many.csv", CSV, "more than 20,000 rows")


def test_a_file_larger_than_the_upload_limit_is_refused_naming_the_limit(admin_client):
    """Issue 16: an upload over IMPORT_MAX_UPLOAD_BYTES (5 MB by default) is refused before it is read."""
    content = b"email,first_name,last_name\n" + b"x" * (5 * 1024 * 1024)
    assert_refused_quickly(admin_client, content, "big.csv", CSV, "the largest file accepted is 5.0\xa0MB")


def test_the_limits_are_settings(admin_client, settings):
    """Issue 16: each limit is a setting (documented in README)."""
    settings.IMPORT_MAX_ROWS = 2
    lines = "email,first_name,last_name\na@example.com,A,A\nb@example.com,B,B\nc@example.com,C,C\n"
    assert_refused_quickly(admin_client, lines.encode(), "three.csv", CSV, "more than 2 rows")
    settings.IMPORT_MAX_ROWS = 3
    page = upload(admin_client, lines.encode(), "three.csv", CSV)
    assert page.context["confirm_form"] is not None


def test_the_preview_lists_a_page_of_rows_with_the_totals_of_the_whole_file(admin_client, settings):
    """Issue 16: a large file's preview shows IMPORT_PREVIEW_ROWS rows and the totals, not every row."""
    settings.IMPORT_PREVIEW_ROWS = 5
    lines = ["email,first_name,last_name"] + [f"p{i}@example.com,Pat,Number{i}" for i in range(40)]
    page = upload(admin_client, "\n".join(lines).encode(), "forty.csv", CSV)
    html = page.content.decode()
    assert "40 new learners, 0 updated." in html and "Rows 1–5 of 40 are shown below." in html and "Page 1 of 8" in html
    assert html.count('<tr class="new">') == 5
    assert "Number4<" in html and "Number5<" not in html


def test_the_bad_lines_listed_stop_at_the_preview_size_and_say_how_many_more(admin_client, settings):
    """Issue 16: a file of many bad lines does not make a page of them all."""
    settings.IMPORT_PREVIEW_ROWS = 3
    lines = ["email,first_name,last_name"] + [f"bad{i},Pat,X" for i in range(10)]
    html = upload(admin_client, "\n".join(lines).encode(), "bad.csv", CSV).content.decode()
    assert html.count("is not an email address") == 3
    assert "Bad lines 1–3 of 10 are listed here." in html and "Page 1 of 4" in html
    assert not Learner.objects.exists()


def test_a_workbook_of_a_few_rows_with_a_million_cells_is_refused_before_openpyxl_parses_them(admin_client):
    """Issue 16: rows are not the only cost: openpyxl parses every cell of a row, so absurd rows are refused."""
    cell = b'<c t="inlineStr"><is><t>y</t></is></c>'
    sheet = sheet_of(1).replace(b"</sheetData>", b"<row>" + cell * 1_000_000 + b"</row></sheetData>")
    content = xlsx_with_sheet(sheet)
    assert len(content) < 200_000
    assert_refused_quickly(admin_client, content, "wide.xlsx", XLSX, "far more cells than a file of learners")


@pytest.mark.parametrize(
    "language, words",
    [("fr", "Ce fichier a plus de 2 lignes d'apprenants"), ("pl", "Ten plik ma ponad 2 wierszy uczestników")],
)
def test_a_refusal_is_in_the_administrators_language(admin_client, settings, language, words):
    """Issue 16: the import's messages are translated (admin users may read French or Polish)."""
    settings.IMPORT_MAX_ROWS = 2
    lines = "email,first_name,last_name\na@example.com,A,A\nb@example.com,B,B\nc@example.com,C,C\n"
    page = admin_client.post(
        IMPORT,
        {"resource": 0, "format": CSV, "import_file": SimpleUploadedFile("l.csv", lines.encode())},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert any(words in error for error in form_errors(page)), form_errors(page)
