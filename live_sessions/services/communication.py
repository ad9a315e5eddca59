"""Emails an administrator sends (seed 003 "Communicate with Learners"): who gets them, who is skipped and
why, and the words the administrator wrote, checked and rendered for each learner."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop

from notifications.models import Event
from notifications.services import (
    Origin,
    Recipient,
    compile_written,
    draft,
    render_written_part,
    send_all,
    source_parts,
)

from .. import flow, ical, messages
from ..emails import RULES, EmailPreview, EmailResult, EmailType, RenderedEmail
from ..flow import LiveSessionError
from ..models import LiveSession, SessionLearner
from ..selectors import feedback_form_sent_ids

Status = SessionLearner.Status
SessionStatus = LiveSession.Status


_OMIT_WORDS = {
    "no_consent": gettext_noop("No consent to receive messages."),
    "no_contact": gettext_noop("No email address."),
    "inactive": gettext_noop("The learner is inactive."),
}


def _skip_reasons(session, session_learners, email_type, rule=None) -> tuple[list, list]:
    """(eligible, [(session learner, reason in words)]) for one email type, with at most one query."""
    rule = rule or RULES[email_type]
    eligible, skipped = [], []
    if rule.session_field and not getattr(session, rule.session_field):
        reason = (
            gettext("The session has no registration form.")
            if rule.session_field == "registration_form_url"
            else gettext("The session has no feedback form.")
        )
        return [], [(sl, reason) for sl in session_learners]
    sent_feedback = set()
    if email_type == EmailType.FEEDBACK_FORM_REMINDER:
        sent_feedback = feedback_form_sent_ids([sl.pk for sl in session_learners])
    for sl in session_learners:
        if sl.session_id != session.pk:
            skipped.append((sl, gettext("Not a learner of this session.")))
        elif rule.statuses is not None and sl.status not in rule.statuses:
            skipped.append(
                (
                    sl,
                    gettext("Status is %(status)s; this email is only for %(wanted)s learners.")
                    % {
                        "status": flow.status_label(sl.status),
                        "wanted": gettext(" or ").join(flow.status_label(s) for s in rule.statuses),
                    },
                )
            )
        elif email_type == EmailType.FEEDBACK_FORM_REMINDER and sl.feedback_answered_at is not None:
            skipped.append((sl, gettext("Already answered the feedback form.")))
        elif email_type == EmailType.FEEDBACK_FORM_REMINDER and sl.pk not in sent_feedback:
            skipped.append((sl, gettext("The feedback form was not sent to this learner yet.")))
        else:
            reason = Recipient(learner=sl.learner).omit_reason("email")
            if reason:
                skipped.append((sl, gettext(_OMIT_WORDS.get(reason, reason))))
            else:
                eligible.append(sl)
    return eligible, skipped


def _template_source(event, language):
    """The words an administrator edits: the edited template of the language over the built-in words."""
    return source_parts(event, language)


def _compile_written(event, *, subject, body, language="en"):
    """(subject, body) the administrator wrote for this sending, compiled (None: the built-in words), once they
    pass the checks every message template passes (the same restricted engine, never Django's
    default one); a LiveSessionError names each refused part otherwise."""
    parts = {name: text for name, text in (("subject", subject), ("body", body)) if text is not None}
    try:
        compiled = compile_written(event=event, language=language, parts=parts)
    except ValidationError as exc:
        what = {"subject": gettext("subject"), "body": gettext("body")}
        raise LiveSessionError(
            [
                gettext("The %(what)s is refused: %(error)s") % {"what": what[part], "error": " ".join(errors)}
                for part, errors in exc.message_dict.items()
            ]
        ) from exc
    return compiled.get("subject"), compiled.get("body")


def _render_override(template, context, learner):
    return render_written_part(template, context, language=learner.language, tz=learner.timezone)


def _load_session_learners(session_learners):
    ids = [sl.pk if isinstance(sl, SessionLearner) else int(sl) for sl in session_learners]
    return list(SessionLearner.objects.filter(pk__in=ids).select_related("learner").order_by("pk"))


def _check_email_type(email_type):
    if email_type not in RULES:
        raise LiveSessionError(gettext("“%(type)s” is not an email type.") % {"type": email_type})


def preview_email(session, session_learners, email_type, *, subject=None, body=None, language="en", samples=3):
    """What `send_email` would send and skip, with the editable words and a few rendered samples."""
    _check_email_type(email_type)
    return _preview(
        session,
        session_learners,
        email_type,
        RULES[email_type],
        subject=subject,
        body=body,
        language=language,
        samples=samples,
    )


def _preview(session, session_learners, email_type, rule, *, subject, body, language, samples):
    rows = _load_session_learners(session_learners)
    eligible, skipped = _skip_reasons(session, rows, email_type, rule)
    source = _template_source(rule.event, language)
    subject_template = subject if subject is not None else source.subject
    body_template = body if body is not None else source.body
    compiled_subject, compiled_body = _compile_written(
        rule.event, subject=subject_template, body=body_template, language=language
    )
    lifetime = messages.link_lifetime(session)
    rendered = []
    for sl in eligible[:samples]:
        context = _email_context(session, sl, email_type, lifetime, rule)
        try:
            rendered.append(
                RenderedEmail(
                    sl,
                    _render_override(compiled_subject, context, sl.learner),
                    _render_override(compiled_body, context, sl.learner),
                )
            )
        except Exception as exc:  # an edited template that fails must be refused, not sent
            raise LiveSessionError(gettext("The email does not render: %(error)s") % {"error": exc}) from exc
    return EmailPreview(
        email_type=email_type,
        language=language,
        subject_template=subject_template,
        body_template=body_template,
        recipients=eligible,
        skipped=skipped,
        samples=rendered,
        variables=sorted(_email_context(session, eligible[0], email_type, lifetime, rule)) if eligible else [],
    )


def _email_context(session, session_learner, email_type, lifetime, rule=None):
    rule = rule or RULES[email_type]
    context = messages.manual_email_context(session, session_learner, email_type, lifetime=lifetime)
    context.setdefault("recipient_name", session_learner.learner.full_name)
    context.setdefault("event_label", str(dict(Event.choices).get(rule.event, "")))
    return context


def send_email(session, session_learners, email_type, *, actor, subject=None, body=None, send_id=None) -> EmailResult:
    """Send one of the seven email types (seed 003 "Email Types") to the selected learners.

    Learners who do not meet the type's condition, or who cannot receive email (no consent, no address), are
    skipped with the reason in words. `subject` / `body` replace the built-in words (they may use the same
    {{ variables }}, rendered for each learner). `send_id` names this sending: the form passes one id per
    submission so a double click sends nothing twice, while sending again on purpose (a new id) does.
    """
    _check_email_type(email_type)
    rule = RULES[email_type]
    if rule.needs_text and not ((subject or "").strip() and (body or "").strip()):
        raise LiveSessionError(gettext("A custom notification needs a subject and a body."))
    return _send(session, session_learners, email_type, rule, actor=actor, subject=subject, body=body, send_id=send_id)


def _left_as_built(event, part, text) -> bool:
    """The administrator kept the words the form showed her (the event's words, in any language): then each
    reader gets the words of her own language, not the preview's English."""
    if text is None:
        return True
    written = _normalised(text)
    return any(written == _normalised(getattr(source_parts(event, code), part)) for code, _ in settings.LANGUAGES)


def _normalised(text) -> str:
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").strip().split("\n"))


def _send(session, session_learners, email_type, rule, *, actor, subject, body, send_id, calendar=False):
    """Queue one administrator's email about each eligible learner through the door (Origin.ADMIN: written or
    previewed and sent by hand, not held twice); the EmailResult lists sent and skipped.

    Words left as the form showed them go as each reader's built-in words; words the administrator wrote are
    rendered for each reader (her language and time zone) by the door. They are tried for every learner first:
    a text that fails for one is refused before anything is queued."""
    subject = None if _left_as_built(rule.event, "subject", subject) else subject
    body = None if _left_as_built(rule.event, "body", body) else body
    compiled_subject, compiled_body = _compile_written(rule.event, subject=subject, body=body)
    written = {part: t for part, t in (("subject", compiled_subject), ("body", compiled_body)) if t is not None}
    send_id = send_id or uuid.uuid4().hex
    rows = _load_session_learners(session_learners)
    eligible, skipped = _skip_reasons(session, rows, email_type, rule)
    lifetime = messages.link_lifetime(session)
    session_calendar = ical.SessionCalendar(session) if calendar else None
    drafts = []
    for sl in eligible:
        context = messages.manual_email_context(session, sl, email_type, lifetime=lifetime)
        try:
            for template in written.values():
                _render_override(template, _email_context(session, sl, email_type, lifetime, rule), sl.learner)
        except Exception as exc:  # an edited template that fails must be refused, not half sent
            raise LiveSessionError(gettext("The email does not render: %(error)s") % {"error": exc}) from exc
        drafts.append(
            draft(
                rule.event,
                about=sl.learner,
                occurrence=f"sl{sl.pk}:send{send_id}",
                context=context,
                refs={
                    "session": session.pk,
                    "session_learner": sl.pk,
                    "expect": list(rule.statuses or []),
                    "email_type": email_type,
                },
                actor=actor,
                written=written,
                attachments=[session_calendar.attachment_for(sl.learner)] if session_calendar else [],
            )
        )
    created = send_all(drafts, origin=Origin.ADMIN, return_rows=False) if drafts else {}
    # A dedupe key is "event:recipient:channel:occurrence": sent when any copy of her occurrence was queued.
    queued = {key.split(":", 3)[3] for key in created}
    result = EmailResult(email_type=email_type, send_id=send_id, skipped=skipped)
    for sl, message in zip(eligible, drafts, strict=True):
        if message.occurrence in queued:
            result.sent.append(sl)
        else:
            result.skipped.append((sl, gettext("Already sent by this same request.")))
    return result
