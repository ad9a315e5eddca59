"""Turning an event and its context into the words a recipient reads.

A MessageTemplate row for (event, language) wins; then the English row;
then the built-in default of notifications.catalogue. Dates are rendered in
the recipient's time zone and language.
"""

import logging
from dataclasses import dataclass

from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.html import linebreaks, urlize

from . import catalogue, template_engine, variables

logger = logging.getLogger(__name__)


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
        row = self._rows.get((event, language)) or self._rows.get((event, "en"))
        if row is not None:
            try:
                return self._compile_source(row, event, language)
            except TemplateRenderError:
                # Saved before templates were checked (e.g. an {% include %}): the built-in words go out instead of
                # the action that sends the message failing; the row is refused as soon as it is edited.
                logger.exception("Message template %s [%s] no longer compiles; built-in words used", event, language)
        return self._compile_source(catalogue.default_template(event, language), event, language)

    def _compile_source(self, source, event, language):
        compile_template = template_engine.compile_template
        try:
            return _Compiled(
                subject=compile_template(source.subject),
                body=compile_template(source.body),
                html_body=compile_template(source.html_body) if source.html_body else None,
                sms_body=compile_template(source.sms_body) if source.sms_body else None,
            )
        except Exception as exc:  # a saved row that no longer compiles fails its messages, clearly
            raise TemplateRenderError(f"Template for {event} [{language}] does not compile: {exc}") from exc

    def render(self, event, language, context, *, tz="UTC"):
        """The words of one message; `context` holds plain values only (TemplateRenderError otherwise)."""
        try:
            template_engine.require_plain(context)
        except TypeError as exc:
            raise TemplateRenderError(f"Message {event} refused: {exc}") from exc
        compiled = self.get(event, language)
        with translation.override(language), timezone.override(tz):
            ctx = Context(context, autoescape=False)
            subject = " ".join(compiled.subject.render(ctx).split())
            body = compiled.body.render(ctx).strip()
            if compiled.html_body is not None:
                html_body = compiled.html_body.render(Context(context, autoescape=True))
            else:
                # Links become clickable in the generated HTML version.
                html_body = linebreaks(urlize(body, nofollow=True, autoescape=True), autoescape=False)
            sms_body = compiled.sms_body.render(ctx).strip() if compiled.sms_body else subject
        return RenderedMessage(subject=subject[:300], body=body, html_body=html_body, sms_body=sms_body)


def render_message(event, language, context, *, tz="UTC"):
    return TemplateCache().render(event, language, context, tz=tz)


# --- Validation and preview against sample data -------------------------------

SAMPLE_TIMEZONE = "Europe/Paris"
TEMPLATE_PARTS = ("subject", "body", "html_body", "sms_body")


def sample_context(event, *, language="en", now=None) -> dict:
    """Realistic plain values for every name a template of `event` may use (notifications.variables).

    Used to refuse a template that does not render before it is saved, and
    for the admin preview.
    """
    return variables.sample_context(event, now=now)


def template_errors(event, language, parts: dict, *, tz=SAMPLE_TIMEZONE) -> dict:
    """{part: error message} for the parts that do not compile, read what the event does not offer,
    or do not render with sample data."""
    context = sample_context(event, language=language)
    offered = variables.offered_paths(event)
    errors = {}
    for name in TEMPLATE_PARTS:
        source = parts.get(name) or ""
        if not source:
            continue
        try:
            template = template_engine.compile_template(source)
        except Exception as exc:  # whatever a tag raises while parsing is a refusal, never a 500
            errors[name] = f"This template does not compile: {exc}"
            continue
        try:
            problems = template_engine.template_problems(template, offered=offered)
        except Exception as exc:  # a template the checks cannot read is not saved either
            problems = [f"This template cannot be checked: {type(exc).__name__}: {exc}"]
        if problems:
            errors[name] = " ".join(problems)
            continue
        try:
            with translation.override(language), timezone.override(tz):
                template_engine.render(template, context, autoescape=name == "html_body")
        except Exception as exc:  # any render failure must block the save, not surface later as a failed send
            errors[name] = f"This template fails to render with sample data: {type(exc).__name__}: {exc}"
    return errors


def render_parts(event, language, parts: dict, *, tz=SAMPLE_TIMEZONE, context=None) -> RenderedMessage:
    """Render given (possibly unsaved) parts exactly as TemplateCache would; for previews."""
    cache = TemplateCache()
    source = catalogue.DefaultTemplate(
        subject=parts.get("subject") or "",
        body=parts.get("body") or "",
        html_body=parts.get("html_body") or "",
        sms_body=parts.get("sms_body") or "",
    )
    cache._compiled[(event, language)] = cache._compile_source(source, event, language)
    return cache.render(event, language, context or sample_context(event, language=language), tz=tz)
