"""Turning an event and its context into the words a recipient reads.

A MessageTemplate row for (event, language) wins, part by part (a part left
empty or as built keeps the built-in one); the English row only stands in for a
language that has no built-in words of its own; then the built-in words:
template files `messages/<event>/<language>/...` found by Django's template
loaders (notifications.wording), English, then the generic words. The words
speak to the learner, or about the learner to
the manager, guardian or staff member who reads a copy (`reader`, from the
recipient). Every HTML email is laid out by `messages/base_email.html`
(header, sign-off, footer saying why the recipient gets it), and every text
part ends with the same sign-off and footer (notifications.closing). Dates are
rendered in the recipient's time zone and language.

An administrator's template that fails for one message (a value it divides by zero, a limit of
notifications.render_limits exceeded) never fails the action that sends it: that message goes with the
built-in words, says so (`RenderedMessage.fallback`, kept on the outbox row) and is logged with the template
and the error. One set of checks refuses a template before it is saved or sent, whoever wrote
it: `check_template`, for message templates and the texts written for one sending alike.
"""

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from . import closing, render_limits, template_engine, variables, wording
from .models import MessageTemplate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    html_body: str
    sms_body: str
    # The last paragraph of `body`: why the reader gets this email (an inbox message goes without it).
    footer: str = ""
    # Why the built-in words went instead of the administrator's template, when they did.
    fallback: str = ""


# The values that differ from one message of a shape to the next (notifications.notify.shapes), in the
# order the database fills them in.
FILL_NAMES = ("first_name", "last_name", "full_name", "recipient_name", "action_url")


class Shaped(NamedTuple):
    """One message as its *shape* and its own values, for the outbox to fill in: the words of a shape
    travel to the database once, not once per learner (seed 000). `shape.layouts()` gives the text, HTML
    and SMS versions as (texts, positions): texts[0], the value at positions[0], texts[1]... (the HTML
    version takes its values from html_values), and `shape.fill(dict(zip(FILL_NAMES, values)))` the
    RenderedMessage."""

    shape: object
    # Already filled: short, and its spaces are normalised after filling.
    subject: str
    # FILL_NAMES order; then the same values as the HTML version shows them.
    values: tuple
    html_values: tuple


class TemplateRenderError(ValueError):
    pass


@dataclass(frozen=True)
class _Compiled:
    subject: Template
    body: Template
    html_body: Template | None
    sms_body: Template | None
    # True when html_body is a whole page (a file extending the base layout), False when it is content
    # the base layout wraps (an administrator's HTML).
    html_is_page: bool = False
    # The MessageTemplate row an administrator edited, when these are its words (they may fail on real data).
    edited: object = None


@dataclass(frozen=True)
class _Parts:
    """Sources of the four parts of a message, as a MessageTemplate row holds them."""

    subject: str
    body: str
    html_body: str = ""
    sms_body: str = ""


# How long an edited template that exceeded a render limit stays set aside for the batches that follow (the
# Notify preview, then its confirmation): a second or two for a Notify whatever the template.
# Saving the template again (a new version) tries it afresh; the cache is per process, so at worst another
# process pays the limit once more.
SET_ASIDE_SECONDS = 3600


def _set_aside_key(row) -> str:
    version = "\x00".join(
        str(part) for part in (row.pk, row.updated_at, row.subject, row.body, row.html_body, row.sms_body)
    )
    return "notifications:set-aside:" + hashlib.sha256(version.encode()).hexdigest()


class TemplateCache:
    """Compiles each template once per batch: a batch of 100,000 messages
    must not read or parse the same template 100,000 times.

    `quiet`: a batch that sends nothing (a preview) does not log the fallbacks it meets: the log names
    messages that went with the built-in words."""

    def __init__(self, *, quiet=False):
        self._quiet = quiet
        self._compiled = {}
        self._rows = None
        self._layout = None
        self._footers = {}
        # (event, language) of edited templates set aside for this batch: they exceeded a render limit.
        self._set_aside = {}
        self._builtins = {}

    def _load_rows(self):
        self._rows = {(t.event, t.language): t for t in MessageTemplate.objects.all()}

    def get(self, event, language):
        key = (event, language)
        if key not in self._compiled:
            self._compiled[key] = self._compile(event, language)
        return self._compiled[key]

    def _compile(self, event, language):
        if self._rows is None:
            self._load_rows()
        words = wording.builtin_words(event, language)
        # Languages stay independent: the row of this language, else (only when the language has no
        # built-in words of its own) the English row; never an English edit over French or Polish words.
        row = self._rows.get((event, language))
        if row is None and words.found != (event, language):
            row = self._rows.get((event, "en"))
        if row is not None:
            note = cache.get(_set_aside_key(row))
            if note:
                # Too slow or too long for a batch a moment ago (this same version): not tried again.
                self._set_aside[(event, language)] = note
                self._builtins[(event, language)] = self._compile_builtin(words)
                return self._builtins[(event, language)]
            try:
                return dataclasses.replace(self._compile_row(row, words, event, language), edited=row)
            except TemplateRenderError:
                # Saved before templates were checked (e.g. an {% include %}): the built-in words go out instead of
                # the action that sends the message failing; the row is refused as soon as it is edited.
                logger.exception("Message template %s [%s] no longer compiles; built-in words used", event, language)
        return self._compile_builtin(words)

    def _builtin(self, event, language):
        return self._compile_builtin(wording.builtin_words(event, language))

    @staticmethod
    def _compile_builtin(words):
        return _Compiled(
            subject=words.templates["subject"],
            body=words.templates["body"] or template_engine.compile_template(""),
            html_body=words.templates["html_body"],
            sms_body=words.templates["sms_body"],
            html_is_page=words.html_is_page,
        )

    def _compile_row(self, row, words, event, language):
        """An administrator's row over the built-in words: a part left empty or as built keeps the built-in
        part, so editing only a subject keeps the built-in body and its HTML (button included)."""
        builtin = self._compile_builtin(words)
        edited = self._compile_source(row, event, language)

        def changed(part):
            value = getattr(row, part) or ""
            return bool(value) and value.strip() != words.source(part).strip()

        body_changed = changed("body")
        if row.html_body:
            html_body, html_is_page = edited.html_body, False
        elif body_changed:
            html_body, html_is_page = None, False  # the base layout makes it from the edited text
        else:
            html_body, html_is_page = builtin.html_body, builtin.html_is_page
        return _Compiled(
            subject=edited.subject if changed("subject") else builtin.subject,
            body=edited.body if body_changed else builtin.body,
            html_body=html_body,
            sms_body=edited.sms_body if changed("sms_body") else builtin.sms_body,
            html_is_page=html_is_page,
        )

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

    def render(self, event, language, context, *, tz="UTC", html=True, audience=closing.LEARNER):
        """The words of one message; `context` holds plain values only (TemplateRenderError otherwise).

        `audience` is who reads this copy; templates read it as `reader` ("learner", "manager", "guardian",
        "staff"), so that a manager's or guardian's copy greets them and speaks about the learner.

        The text part ends, like the HTML one, with the organisation's sign-off and why `audience` (the
        learner, their manager or guardian, staff) gets it (notifications.closing). With html=False the
        HTML version is left empty (it is most of the cost of a render)."""
        try:
            template_engine.require_plain(context)
        except TypeError as exc:
            raise TemplateRenderError(f"Message {event} refused: {exc}") from exc
        compiled = self.get(event, language)
        try:
            with render_limits.message_budget():
                return self._render(compiled, event, language, context, tz=tz, html=html, audience=audience)
        except Exception as exc:
            if compiled.edited is None:
                raise  # the built-in words are ours: their failure is a bug to see, not to hide
            return self._fall_back(compiled, event, language, context, exc, tz=tz, html=html, audience=audience)

    def _fall_back(self, compiled, event, language, context, exc, *, tz, html, audience):
        """This message with the built-in words, saying why: the administrator's template failed for it."""
        row = compiled.edited
        limit = isinstance(exc, render_limits.RenderLimitExceeded)
        note = (
            f"The edited template “{row.event} [{row.language}]” "
            + (f"exceeded a limit of one message ({exc})" if limit else f"failed ({type(exc).__name__}: {exc})")
            + "; the built-in words were used instead."
        )
        if not self._quiet:
            logger.warning(
                "Message template %s [%s] (pk %s) failed for a message of %s [%s]; built-in words used: %s: %s",
                row.event,
                row.language,
                row.pk,
                event,
                language,
                type(exc).__name__,
                exc,
            )
        if (event, language) not in self._builtins:
            self._builtins[(event, language)] = self._builtin(event, language)
        builtin = self._builtins[(event, language)]
        if limit:
            # Too slow or too long once: the rest of the batch does not try it again (a Notify run stays fast),
            # and its messages say the same.
            self._compiled[(event, language)] = builtin
            self._set_aside[(event, language)] = note
            cache.set(_set_aside_key(row), note, SET_ASIDE_SECONDS)
        rendered = self._render(builtin, event, language, context, tz=tz, html=html, audience=audience)
        return dataclasses.replace(rendered, fallback=note)

    def _render(self, compiled, event, language, context, *, tz, html, audience):
        # Every email signs off with the organisation's name (a setting, so the same for every message); the
        # words speak to the learner or about them, as `reader` says (set here, from who receives this copy).
        context = {
            "organisation_name": settings.ORGANISATION_NAME,
            **context,
            "reader": closing.reader(event, audience),
        }
        with translation.override(language), timezone.override(tz):
            ctx = Context(context, autoescape=False)
            subject = " ".join(compiled.subject.render(ctx).split())
            body = compiled.body.render(ctx).strip()
            sms_body = compiled.sms_body.render(ctx).strip() if compiled.sms_body else subject
            rendered = self._close(
                event, language, context, subject, body, sms_body, compiled=compiled, html=html, audience=audience
            )
        note = self._set_aside.get((event, language))
        return dataclasses.replace(rendered, fallback=note) if note else rendered

    def render_written(self, event, language, context, *, subject, body, tz="UTC", audience=closing.LEARNER):
        """An email an administrator wrote for this send (a convocation, a custom email), laid out as every
        other: the text with the sign-off and footer, the HTML in the base layout."""
        context = {"organisation_name": settings.ORGANISATION_NAME, **context}
        with translation.override(language), timezone.override(tz):
            return self._close(
                event, language, context, subject, body.strip(), subject, compiled=None, audience=audience
            )

    def render_for_reader(self, event, language, context, *, written, tz="UTC", audience=closing.LEARNER):
        """The words an administrator wrote for one sending (`written`: {"subject"/"body": compiled by
        `compile_written`}), rendered for this reader: her language, her time zone, her copy's values. A part
        she did not write keeps the event's words in the reader's language (the HTML and its button too, when
        the body is kept); a part that fails for this reader sends the built-in words, saying so."""
        built = self.render(event, language, context, tz=tz, audience=audience)
        values = {
            "organisation_name": settings.ORGANISATION_NAME,
            **context,
            "reader": closing.reader(event, audience),
        }
        try:
            subject, body = (
                render_written_part(written[part], values, language=language, tz=tz) if written.get(part) else None
                for part in ("subject", "body")
            )
        except Exception as exc:  # one reader's failure never fails the sending: her copy goes with our words
            note = f"The words written for this sending failed ({type(exc).__name__}: {exc}); the built-in words went."
            logger.warning("Written words of %s [%s] failed for one reader: %s", event, language, exc)
            return dataclasses.replace(built, fallback=note)
        subject = " ".join(subject.split()) if subject is not None else built.subject
        if body is None:
            return dataclasses.replace(built, subject=subject[:300])
        return self.render_written(event, language, context, subject=subject, body=body, tz=tz, audience=audience)

    def _close(self, event, language, context, subject, body, sms_body, *, compiled, html=True, audience):
        organisation = context["organisation_name"]
        why = self._footer(event, language, organisation, audience, context)
        # A body that signs off itself (an older edited template) is signed off once, by the layout.
        content = closing.without_closing(body, organisation=organisation, why=why)
        text = closing.close_text(content, organisation=organisation, why=why)
        html_body = self._html(compiled, {**context, "email_footer": why}, content) if html else ""
        return RenderedMessage(subject=subject[:300], body=text, html_body=html_body, sms_body=sms_body, footer=why)

    def _footer(self, event, language, organisation, audience, context):
        audience = closing.reader(event, audience)
        learner = context.get("learner")
        name = str(learner.get("full_name") or "") if audience != closing.LEARNER and isinstance(learner, dict) else ""
        if name:  # one sentence per learner (a manager's copy): not worth keeping
            return closing.footer(event, organisation, audience=audience, learner_name=name)
        key = (event, language, organisation, audience)
        if key not in self._footers:
            self._footers[key] = closing.footer(event, organisation, audience=audience)
        return self._footers[key]

    def _html(self, compiled, context, body):
        """The HTML version, always inside the base layout: a file's own page, an administrator's HTML
        wrapped by the layout, or the text body with its links made clickable."""
        page = {**context, "text_body": body}
        if compiled is not None and compiled.html_body is not None and compiled.html_is_page:
            return compiled.html_body.render(Context(page, autoescape=True))
        if compiled is not None and compiled.html_body is not None:
            # Rendered with autoescape (values escaped): safe to place as it is.
            page["html_content"] = mark_safe(compiled.html_body.render(Context(context, autoescape=True)))
        if self._layout is None:
            self._layout = wording.layout()
        return self._layout.render(Context(page, autoescape=True))


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
    """{part: error message} for the parts that are too long, do not compile (a refused tag or filter, loops
    nested too deep), read what the event does not offer, or do not render with sample data within the limits
    of one message (notifications.render_limits)."""
    context = sample_context(event, language=language)
    offered = variables.offered_paths(event)
    errors = {}
    for name in TEMPLATE_PARTS:
        source = parts.get(name) or ""
        if not source:
            continue
        if len(source) > settings.MESSAGE_TEMPLATE_MAX_CHARS:
            errors[name] = (
                f"This template is {len(source)} characters long: at most {settings.MESSAGE_TEMPLATE_MAX_CHARS}."
            )
            continue
        try:
            template = template_engine.compile_template(source)
        except Exception as exc:  # whatever a tag raises while parsing is a refusal, never a 500
            line = getattr(getattr(exc, "token", None), "lineno", None)
            errors[name] = template_engine.on_line(line, f"This template does not compile: {exc}")
            continue
        try:
            problems = template_engine.template_problems(template, offered=offered)
        except Exception as exc:  # a template the checks cannot read is not saved either
            problems = [f"This template cannot be checked: {type(exc).__name__}: {exc}"]
        if problems:
            errors[name] = " ".join(problems)
            continue
        try:
            with render_limits.message_budget(), translation.override(language), timezone.override(tz):
                template_engine.render(template, context, autoescape=name == "html_body")
        except Exception as exc:  # any render failure must block the save, not surface later as a failed send
            errors[name] = f"This template fails to render with sample data: {type(exc).__name__}: {exc}"
    return errors


def check_template(*, event, language, parts: dict) -> None:
    """Raise ValidationError({part: message}) unless every non-empty part of `parts` ("subject", "body",
    "html_body", "sms_body") passes the checks of a message template of `event`: the one check of every text
    an administrator writes for messages, saved as a MessageTemplate or written for one sending."""
    errors = template_errors(event, language, parts)
    if errors:
        raise ValidationError({part: ValidationError(error, code="template") for part, error in errors.items()})


def compile_written(*, event, language, parts: dict) -> dict:
    """{part: compiled template} of texts an administrator wrote for one sending, once `check_template` passed
    (ValidationError otherwise); render each for a recipient with `render_written_part`."""
    check_template(event=event, language=language, parts=parts)
    return {name: template_engine.compile_template(source or "") for name, source in parts.items()}


def render_written_part(template, context: dict, *, language, tz) -> str:
    """One part compiled by `compile_written`, rendered as text for one recipient within the limits of one
    message (render_limits.RenderLimitExceeded past them)."""
    with render_limits.message_budget(), translation.override(language), timezone.override(tz):
        return template_engine.render(template, context, autoescape=False).strip()


def source_parts(event, language):
    """The sources of (event, language) as TemplateCache picks them, each part with `.subject`, `.body`,
    `.html_body`, `.sms_body`: the edited row of that language over the built-in words (part by part),
    the English row only for a language without words of its own."""
    words = wording.builtin_words(event, language)
    builtin = {part: words.source(part) for part in ("subject", "body", "html_body", "sms_body")}
    languages = [language] if words.found == (event, language) else [language, "en"]
    rows = {row.language: row for row in MessageTemplate.objects.filter(event=event, language__in=languages)}
    row = next((rows[lang] for lang in languages if lang in rows), None)
    if row is None:
        return _Parts(**builtin)

    def pick(part):
        value = getattr(row, part) or ""
        return value if value.strip() and value.strip() != builtin[part].strip() else builtin[part]

    body = pick("body")
    html_body = row.html_body or (builtin["html_body"] if body == builtin["body"] else "")
    return _Parts(subject=pick("subject"), body=body, html_body=html_body, sms_body=pick("sms_body"))


def builtin_parts(event, language) -> dict:
    """The sources an administrator starts from when editing the words of (event, language): the
    built-in subject, text and SMS. The HTML starts empty: the base layout makes it from the text."""
    words = wording.builtin_words(event, language)
    return {
        "subject": words.source("subject"),
        "body": words.source("body"),
        "html_body": "",
        "sms_body": words.source("sms_body"),
    }


def render_parts(event, language, parts: dict, *, tz=SAMPLE_TIMEZONE, context=None) -> RenderedMessage:
    """Render given (possibly unsaved) parts exactly as TemplateCache would; for previews."""
    cache = TemplateCache()
    source = _Parts(
        subject=parts.get("subject") or "",
        body=parts.get("body") or "",
        html_body=parts.get("html_body") or "",
        sms_body=parts.get("sms_body") or "",
    )
    words = wording.builtin_words(event, language)
    cache._compiled[(event, language)] = cache._compile_row(source, words, event, language)
    return cache.render(event, language, context or sample_context(event, language=language), tz=tz)
