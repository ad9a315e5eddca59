"""Words registered in code, for features written before the words moved to template files.

The built-in words of every event are template files (notifications.wording:
`<app>/templates/messages/<event>/<language>/...`); this module only keeps
`register` working for code that still calls it. Such words win over the
files of the same (event, language); `scripts/convert_catalogue.py` writes
them out as files, after which the call can go.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultTemplate:
    subject: str
    body: str
    html_body: str = ""
    sms_body: str = ""


# (event, language) -> DefaultTemplate, filled only by register().
DEFAULTS: dict[tuple[str, str], DefaultTemplate] = {}


def register(event, language, **fields):
    DEFAULTS[(event, language)] = DefaultTemplate(**fields)


def default_template(event, language) -> DefaultTemplate:
    """The built-in sources of (event, language) after the fallbacks: words registered in code, else the
    template files (notifications.wording), English then generic."""
    from .wording import builtin_words

    words = builtin_words(event, language)
    if words.found != (event, language):
        registered = registered_words(event, language)
        if registered is not None:
            return registered
    return DefaultTemplate(**{part: words.source(part) for part in ("subject", "body", "html_body", "sms_body")})


def registered_words(event, language) -> DefaultTemplate | None:
    """Words registered in code for `event` in `language`, else in English, else None."""
    return DEFAULTS.get((event, language)) or DEFAULTS.get((event, "en"))
