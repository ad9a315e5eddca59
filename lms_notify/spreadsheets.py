"""Spreadsheets the project writes: every exported cell of text stays text (formula injection).

A spreadsheet program runs a cell starting with "=", "+", "-" or "@" as a formula (and tab or CR
hide what follows), so a learner named =HYPERLINK("http://evil.test/x","Click") would become a live
link in the administrator's Excel. Every workbook the project exports appends its rows through
`append_row`, which stores such cells as strings marked "text" (Excel's quote prefix): the value is
kept exactly, shown as typed, and not run even when the cell is edited.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def append_row(sheet, values) -> None:
    """Append one row to an openpyxl worksheet, every formula-like text written as text."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if is_formula_like(cell.value):
            # openpyxl typed "=…" as a formula ("f"): the string type and the quote prefix make it text.
            cell.data_type = "s"
            cell.quotePrefix = True
