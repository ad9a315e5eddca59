"""Built-in words for every event, used until an administrator edits a
MessageTemplate. English is the fallback for any language missing here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultTemplate:
    subject: str
    body: str
    html_body: str = ""
    sms_body: str = ""


_GENERIC = DefaultTemplate(
    subject="{{ event_label }}",
    body="Hello {{ recipient_name }},\n\n{{ event_label }}.\n\n{% if action_url %}{{ action_url }}\n{% endif %}",
)

DEFAULTS: dict[tuple[str, str], DefaultTemplate] = {}


def register(event, language, **fields):
    DEFAULTS[(event, language)] = DefaultTemplate(**fields)


def default_template(event, language):
    return DEFAULTS.get((event, language)) or DEFAULTS.get((event, "en")) or _GENERIC
