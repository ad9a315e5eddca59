"""Turning an event and its context into the words a recipient reads.

A MessageTemplate row for (event, language) wins; then the English row;
then the built-in default of notifications.catalogue. Dates are rendered in
the recipient's time zone and language.
"""

from dataclasses import dataclass

from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks

from . import catalogue


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    html_body: str
    sms_body: str


class TemplateRenderError(ValueError):
    pass


@dataclass(frozen=True)
class _Compiled:
    subject: Template
    body: Template
    html_body: Template | None
    sms_body: Template | None


class TemplateCache:
    """Compiles each template once per batch: a batch of 100,000 messages
    must not read or parse the same template 100,000 times."""

    def __init__(self):
        self._compiled = {}
        self._rows = None

    def _load_rows(self):
        from .models import MessageTemplate

        self._rows = {(t.event, t.language): t for t in MessageTemplate.objects.all()}

    def get(self, event, language):
        key = (event, language)
        if key not in self._compiled:
            self._compiled[key] = self._compile(event, language)
        return self._compiled[key]

    def _compile(self, event, language):
        if self._rows is None:
            self._load_rows()
        source = (
            self._rows.get((event, language))
            or self._rows.get((event, "en"))
            or catalogue.default_template(event, language)
        )
        try:
            return _Compiled(
                subject=Template(source.subject),
                body=Template(source.body),
                html_body=Template(source.html_body) if source.html_body else None,
                sms_body=Template(source.sms_body) if source.sms_body else None,
            )
        except TemplateSyntaxError as exc:
            raise TemplateRenderError(f"Template for {event} [{language}] does not compile: {exc}") from exc

    def render(self, event, language, context, *, tz="UTC"):
        compiled = self.get(event, language)
        with translation.override(language), timezone.override(tz):
            ctx = Context(context, autoescape=False)
            subject = " ".join(compiled.subject.render(ctx).split())
            body = compiled.body.render(ctx).strip()
            if compiled.html_body is not None:
                html_body = compiled.html_body.render(Context(context, autoescape=True))
            else:
                html_body = linebreaks(escape(body))
            sms_body = compiled.sms_body.render(ctx).strip() if compiled.sms_body else subject
        return RenderedMessage(subject=subject[:300], body=body, html_body=html_body, sms_body=sms_body)


def render_message(event, language, context, *, tz="UTC"):
    return TemplateCache().render(event, language, context, tz=tz)
