"""Reading an uploaded learner file within limits (an import has limits; Excel's encodings).

A file is refused in words, before any row is imported, when it is larger than
IMPORT_MAX_UPLOAD_BYTES, has more than IMPORT_MAX_ROWS data rows, or is an xlsx whose parts unpack
to more than IMPORT_MAX_UNCOMPRESSED_BYTES (a zip bomb): the declared sizes of the zip are checked
before openpyxl opens it, the sheet is streamed (read-only mode) and reading stops one row past
the limit, so a refusal costs a fraction of a second whatever the file claims.

A CSV is read as UTF-8 (with or without Excel's byte order mark), else as Windows-1250 when it
holds letters only Polish has there (ł, ą, ż, ź…), else as Windows-1252 (French Excel); the
uploader may also name the encoding. A file that none of them decodes is refused in words.
"""

import csv
import io
import re
import zipfile
from contextlib import closing

import tablib
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

AUTOMATIC = "auto"
ENCODINGS = [
    (AUTOMATIC, gettext_lazy("Automatic (UTF-8, Windows-1250 or Windows-1252)")),
    ("utf-8-sig", gettext_lazy("UTF-8 (“CSV UTF-8” in Excel)")),
    ("cp1252", gettext_lazy("Windows-1252 (Western Europe: French, English…)")),
    ("cp1250", gettext_lazy("Windows-1250 (Central Europe: Polish…)")),
]
# Bytes that are Polish letters in Windows-1250 and mere symbols in Windows-1252 (³ £ ¹ ¥ ¿ ¯ Ÿ).
_POLISH_MARKS = frozenset("łŁąĄżŻźŹ")
# Columns read from a sheet: the import knows eight; a sheet claiming 16,384 columns is not padded to them.
MAX_COLUMNS = 32


class ImportFileRefused(Exception):
    """The uploaded file cannot be imported; the message says why in the administrator's language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _number(value) -> str:
    return number_format(value, force_grouping=True)


def check_upload_size(size: int) -> None:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if size > limit:
        raise ImportFileRefused(
            _("This file is %(size)s: the largest file accepted is %(limit)s. Split it into smaller files.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def _too_many_rows():
    return ImportFileRefused(
        _("This file has more than %(limit)s rows of learners: split it into files of at most %(limit)s rows.")
        % {"limit": _number(settings.IMPORT_MAX_ROWS)}
    )


def read_import_file(*, content: bytes, file_format: str, encoding: str = AUTOMATIC) -> tablib.Dataset:
    """The file as a Dataset (header row, then data rows), or ImportFileRefused saying why not."""
    check_upload_size(len(content))
    rows = _xlsx_rows(content) if file_format == "xlsx" else _csv_rows(decode_csv(content, encoding))
    with closing(rows):  # stopping at the row limit closes the workbook at once
        return _dataset(rows)


def _dataset(rows) -> tablib.Dataset:
    header = next(rows, None)
    if not header or not any(_filled(cell) for cell in header):
        raise ImportFileRefused(_("The file is empty: its first line must name the columns (email, first_name…)."))
    width = max(i for i, cell in enumerate(header) if _filled(cell)) + 1
    header = list(header[:width])
    data = []
    for row in rows:
        if len(data) == settings.IMPORT_MAX_ROWS:
            raise _too_many_rows()
        row = list(row[:width])
        data.append(row + [None] * (width - len(row)))
    if not data:
        raise ImportFileRefused(_("The file has no learner under its first line."))
    return tablib.Dataset(*data, headers=header)


def _filled(cell) -> bool:
    return cell is not None and str(cell).strip() != ""


def decode_csv(content: bytes, encoding: str = AUTOMATIC) -> str:
    if encoding != AUTOMATIC:
        try:
            return content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            names = dict(ENCODINGS)
            raise ImportFileRefused(
                _("This file is not in %(encoding)s: choose the encoding it was saved in, or “Automatic”.")
                % {"encoding": names.get(encoding, encoding)}
            ) from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    decoded = {}
    for codec in ("cp1250", "cp1252"):
        try:
            decoded[codec] = content.decode(codec)
        except UnicodeDecodeError:
            continue
    if "cp1250" in decoded and _POLISH_MARKS.intersection(decoded["cp1250"]):
        return decoded["cp1250"]
    if decoded:
        return decoded.get("cp1252") or decoded["cp1250"]
    raise ImportFileRefused(
        _(
            "This file is not text in UTF-8, Windows-1250 or Windows-1252: "
            "in Excel, save it as “CSV UTF-8 (comma delimited)”."
        )
    )


def _csv_rows(text: str):
    first_line = text.split("\n", 1)[0]
    # French and Polish Excel separate CSV columns with ";" (their decimal separator is the comma).
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # An empty line is no row (as tablib read CSV before).
        yield from (row for row in reader if row)
    except csv.Error:
        raise ImportFileRefused(
            _("Line %(line)s cannot be read as CSV: check its quotes.") % {"line": reader.line_num}
        ) from None


def _xlsx_rows(content: bytes):
    not_a_workbook = ImportFileRefused(_("This file cannot be read as an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise not_a_workbook from None
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    if unpacked > limit:
        raise ImportFileRefused(
            _("This workbook unpacks to %(size)s: the largest accepted is %(limit)s. Split it into smaller files.")
            % {"size": filesizeformat(unpacked), "limit": filesizeformat(limit)}
        )
    _count_rows_of_every_part(content)
    try:
        # Read-only streams the sheet (a part never unpacks past its declared size); formulas give their value.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a damaged file; all mean the same here
        raise not_a_workbook from None
    try:
        sheet = book.active
        header = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        width = max((i + 1 for i, cell in enumerate(header) if _filled(cell)), default=1)
        yield header[:width]
        # Rows are padded to the columns asked for: only as many as the header names.
        yield from sheet.iter_rows(min_row=2, max_col=width, values_only=True)
    except Exception:
        raise not_a_workbook from None
    finally:
        book.close()


# A row or a cell element of a sheet, with or without a namespace prefix (<row …>, <x:c …>).
_ROW_OR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)[\s/>]")
# openpyxl parses every cell of a row, whatever columns are asked for: a file of learners needs few.
MAX_CELLS_PER_ROW = 1000


def _too_many_cells():
    return ImportFileRefused(
        _(
            "This workbook holds far more cells than a file of learners: keep only the columns of the import "
            "(at most %(columns)s) and at most %(limit)s rows."
        )
        % {"columns": MAX_COLUMNS, "limit": _number(settings.IMPORT_MAX_ROWS)}
    )


def _count_rows_of_every_part(content: bytes) -> None:
    """Refuse a workbook past the row limit, or of absurdly many cells, before openpyxl opens it.

    openpyxl reads every sheet through once on opening when the sheet does not state its size
    (300,000 rows: several seconds) and parses every cell of each row it returns, so rows and cells
    are counted first, in a plain scan of each part: text in cells is escaped (&lt;row), so only
    real elements count, wherever the sheet is stored.
    """
    most_rows = settings.IMPORT_MAX_ROWS + 1  # the header row, then at most IMPORT_MAX_ROWS rows
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for info in archive.infolist():
            rows = cells = in_row = 0
            carry = b""
            with archive.open(info) as part:
                while chunk := part.read(1 << 20):
                    buffer = carry + chunk
                    # A tag cut by the end of the chunk is counted with the next one.
                    cut = buffer.rfind(b"<")
                    cut = cut if cut > len(buffer) - 64 else len(buffer)
                    carry = buffer[cut:]
                    for match in _ROW_OR_CELL.finditer(buffer, 0, cut):
                        if match.group(1) == b"row":
                            rows, in_row = rows + 1, 0
                        else:
                            cells, in_row = cells + 1, in_row + 1
                    if rows > most_rows:
                        raise _too_many_rows()
                    if in_row > MAX_CELLS_PER_ROW or cells > MAX_COLUMNS * most_rows:
                        raise _too_many_cells()
            if cells > MAX_COLUMNS * max(rows, 1):
                raise _too_many_cells()
