"""Event codes (notifications.event_codes): issue 17 "Performance holds" — a Notify run formats the event code
of each of its 100,000 messages into its dedupe key, so formatting one runs no Python code of ours."""

from notifications.event_codes import EventCode
from notifications.models import Event


def test_an_event_code_formats_as_its_plain_code_without_python_code_of_its_own():
    code = Event.PROGRAM_DUE
    assert EventCode.__str__ is str.__str__
    assert type(str(code)) is str and str(code) == code.value == "program.due"
    assert f"{code}:l1:email:1" == "program.due:l1:email:1"
    assert code.label
