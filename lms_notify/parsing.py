"""Reading numbers that arrive as text (query strings, form field names, posted ids).

`str.isdigit()` is no guard: "²".isdigit() is True and int("²") raises, so a check with it still
answers 500. Every id from a request is read here: int() under try, bounded to what a database id
(a signed 64-bit integer) can be.
"""

MAX_ID = 2**63 - 1
# int() of thousands of digits is itself refused by Python (and slow): no id is that long.
_MAX_ID_LENGTH = 20


def parse_id(value) -> int | None:
    """The database id `value` names, or None when it cannot name a row."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not text or len(text) > _MAX_ID_LENGTH or not text.isascii():
            return None
        try:
            number = int(text)
        except ValueError:
            return None
    return number if 0 < number <= MAX_ID else None
