"""Issue 16 "xlsx export runs formulas": a learner's name that a spreadsheet would run as a formula is
exported as text, exactly as typed, by every workbook the project writes."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from live_sessions.models import SessionLearner
from lms_notify.spreadsheets import append_row

from .conftest import make_learner, make_session

pytestmark = pytest.mark.django_db

DANGEROUS_NAMES = [
    '=HYPERLINK("http://evil.test/x","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("name", DANGEROUS_NAMES, ids=["equals", "plus", "minus", "at", "tab", "carriage-return"])
def test_a_learner_named_like_a_formula_is_exported_by_the_admin_as_text_not_as_a_formula(admin_client, name):
    """Issue 16: the attacker's name reaches the administrator's Excel through "Export to Excel (.xlsx)"."""
    session = make_session()
    learner = make_learner(first_name=name, last_name=name)
    row = SessionLearner.objects.create(session=session, learner=learner, status=SessionLearner.Status.REGISTERED)
    response = admin_client.post(
        reverse("admin:live_sessions_sessionlearner_changelist") + f"?session__id__exact={session.pk}",
        {"action": "export_xlsx", "_selected_action": [row.pk]},
    )
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    for column in ("Last name", "First name"):
        cell = sheet.cell(row=2, column=header.index(column) + 1)
        assert cell.data_type == "s", f"{column} {name!r} was written as {cell.data_type!r}"
        assert cell.value == name.replace("\r", "\n")  # XML reads a bare CR back as a line feed
        assert cell.quotePrefix, f"{column} {name!r} is not marked as text"


def test_the_export_helper_leaves_ordinary_values_alone():
    """Issue 16: only formula-like text is marked; names, numbers and dates stay what they are."""
    sheet = Workbook().active
    append_row(sheet, ["Ada", 3, "a=b", None, "Lovelace-Byron"])
    cells = list(sheet[1])
    assert [c.value for c in cells] == ["Ada", 3, "a=b", None, "Lovelace-Byron"]
    assert not any(c.quotePrefix for c in cells) and cells[1].data_type == "n"
