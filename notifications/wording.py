"""The built-in words of each event, as template files found by Django's template loaders.

Each app ships the words of its own events in
`<app>/templates/messages/<event code>/<language>/`:

- `subject.txt`, `body.txt` (plain text), `sms.txt` (optional: the subject otherwise),
- `body.html` (optional): `{% extends "messages/base_email.html" %}` with a `content` block,
  or plain HTML content that the base layout wraps.

Without a `body.html` the email's HTML is the text body inside the same base
layout (header, sign-off, footer saying why the recipient gets the message).
Neither part writes the sign-off or the footer: the renderer adds them to both
(notifications.closing).
A missing language falls back to English, a missing event to the generic
words of `messages/_generic/`. An administrator's MessageTemplate row wins
over all of these (notifications.templating).
"""

from dataclasses import dataclass

from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.template.loader_tags import ExtendsNode
from django.template.utils import get_app_template_dirs

PARTS = {"subject": "subject.txt", "body": "body.txt", "html_body": "body.html", "sms_body": "sms.txt"}
GENERIC = "_generic"
LAYOUT = "messages/base_email.html"


def template_name(event, language, part) -> str:
    return f"messages/{event}/{language}/{PARTS[part]}"


def _load(name):
    try:
        return get_template(name).template  # the engine's Template: rendered with a Context
    except TemplateDoesNotExist:
        return None


@dataclass(frozen=True)
class BuiltinWords:
    event: str
    # The folder the words come from: (event or GENERIC, language).
    found: tuple
    # part -> compiled template, or None when the file is optional and absent.
    templates: dict

    @property
    def html_is_page(self) -> bool:
        """Whether body.html is a whole page (it extends the base layout) rather than content to wrap."""
        html = self.templates.get("html_body")
        return html is not None and any(isinstance(node, ExtendsNode) for node in html.nodelist)

    @property
    def is_generic(self):
        return self.found[0] == GENERIC

    def source(self, part) -> str:
        template = self.templates.get(part)
        # Without the file's final newline, as an administrator would type it in the admin.
        return template.source.rstrip("\n") if template is not None else ""


def builtin_words(event, language) -> BuiltinWords:
    """The words of `event` in `language`, else English, else the generic words."""
    for folder in dict.fromkeys([(event, language), (event, "en"), (GENERIC, language), (GENERIC, "en")]):
        subject = _load(template_name(*folder, "subject"))
        if subject is None:
            continue
        templates = {"subject": subject}
        for part in ("body", "html_body", "sms_body"):
            templates[part] = _load(template_name(*folder, part))
        return BuiltinWords(event=event, found=folder, templates=templates)
    raise TemplateDoesNotExist(template_name(GENERIC, "en", "subject"))


def layout():
    return get_template(LAYOUT).template


def available() -> list[tuple[str, str]]:
    """Every (event, language) that has built-in words in some app's templates, generic ones included."""
    found = set()
    for directory in get_app_template_dirs("templates"):
        root = directory / "messages"
        if not root.is_dir():
            continue
        for subject in root.glob(f"*/*/{PARTS['subject']}"):
            found.add((subject.parent.parent.name, subject.parent.name))
    return sorted(found)
