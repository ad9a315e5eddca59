"""Turning an event and its context into the words a recipient reads.

A MessageTemplate row for (event, language) wins; then the English row;
then the built-in default of notifications.catalogue. Dates are rendered in
the recipient's time zone and language.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone, translation
from django.utils.html import linebreaks, urlize

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
        return self._compile_source(source, event, language)

    def _compile_source(self, source, event, language):
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
    """Realistic values for every name a template of `event` may use.

    Used to refuse a template that does not render before it is saved, and
    for the admin preview. Objects are unsaved model instances so templates
    see the same attributes as in real messages.
    """
    from datetime import timedelta

    from learners.models import Invitation, Learner
    from live_sessions.models import LiveSession
    from programs.models import Assignment, Course, Program

    from .models import Event

    now = now or timezone.now()
    learner = Learner(
        first_name="Marie",
        last_name="Curie",
        email="marie.curie@example.com",
        phone="+33612345678",
        language=language,
        timezone=SAMPLE_TIMEZONE,
    )
    program = Program(title="Workplace safety", kind=Program.Kind.CERTIFICATION, validity_days=365)
    course = Course(title="Fire safety basics")
    session = LiveSession(
        title="First aid workshop",
        starts_at=now + timedelta(days=14),
        ends_at=now + timedelta(days=14, hours=3),
        timezone=SAMPLE_TIMEZONE,
        location="Training room 2, 12 rue de la Paix, Paris",
    )
    due_at, expires_at = now + timedelta(days=30), now + timedelta(days=45)
    assignment = Assignment(learner=learner, program=program, assigned_at=now, due_at=due_at, expires_at=expires_at)
    site = settings.SITE_URL
    return {
        "recipient_name": learner.full_name,
        "event_label": Event(event).label if event in Event.values else event,
        "learner": learner,
        "manager": Learner(first_name="Pierre", last_name="Martin", email="pierre.martin@example.com"),
        "program": program,
        "course": course,
        "course_set": {"title": "Module 1: evacuation", "due_at": due_at},
        "assignment": assignment,
        "invitation": Invitation(learner=learner, sent_at=now),
        "session": session,
        "sessions": [
            session,
            LiveSession(
                title=session.title,
                starts_at=now + timedelta(days=21),
                ends_at=now + timedelta(days=21, hours=3),
                location=session.location,
            ),
        ],
        "due_at": due_at,
        "expires_at": expires_at,
        "completed_at": now,
        "now": now,
        "action_url": f"{site}/a/sample-token/",
        "inbox_url": f"{site}/inbox/open/sample-token/",
        "message_subject": "Your timetable for next week",
        "complete": [{"title": "Fire safety basics", "completed_at": now - timedelta(days=3)}],
        "incomplete": [
            {"title": "Workplace safety", "due_at": due_at},
            {"title": "Data protection essentials", "due_at": None},
        ],
        "programs": ["Workplace safety", "Data protection essentials"],
    }


def template_errors(event, language, parts: dict, *, tz=SAMPLE_TIMEZONE) -> dict:
    """{part: error message} for the parts that do not compile or do not render with sample data."""
    context = sample_context(event, language=language)
    errors = {}
    for name in TEMPLATE_PARTS:
        source = parts.get(name) or ""
        if not source:
            continue
        try:
            template = Template(source)
        except TemplateSyntaxError as exc:
            errors[name] = f"This template does not compile: {exc}"
            continue
        try:
            with translation.override(language), timezone.override(tz):
                template.render(Context(context, autoescape=name == "html_body"))
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
