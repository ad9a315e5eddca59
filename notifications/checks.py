"""The catalogue's start-up check: every declared event has its words in en, fr and pl, and every
event code used somewhere (word files, send-time checks, date triggers) has a declaration.

Run by `manage.py check`, by every management command and by the test suite (lms_notify/tests).
"""

from django.conf import settings
from django.core import checks
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from . import registry, wording
from .outbox.sendchecks import _CHECKS
from .triggers import date_triggers

LANGUAGES = tuple(code for code, _ in settings.LANGUAGES)


def _has_words(event, language) -> bool:
    try:
        get_template(wording.template_name(event, language, "subject"))
        get_template(wording.template_name(event, language, "body"))
    except TemplateDoesNotExist:
        return False
    return True


def catalogue_problems() -> list[checks.CheckMessage]:
    declared = registry.declarations()
    problems = []
    for code, declaration in declared.items():
        for language in LANGUAGES:
            if not _has_words(code, language):
                problems.append(
                    checks.Error(
                        f"Event {code} has no words in {language}: "
                        f"add templates/messages/{code}/{language}/subject.txt and body.txt to its app.",
                        id="notifications.E001",
                    )
                )
        if declaration.date_based and code not in date_triggers():
            problems.append(
                checks.Error(
                    f"Event {code} is declared date-based but no DateTrigger is registered.", id="notifications.E003"
                )
            )
    used = {
        "word files": {event for event, _ in wording.available() if event != wording.GENERIC},
        "send-time checks": {code for code, found in _CHECKS.items() if found},
        "date triggers": set(date_triggers()),
    }
    for where, codes in used.items():
        for code in sorted(codes - set(declared)):
            problems.append(
                checks.Error(
                    f"Event {code} is used by {where} but not declared in any <app>/notifications.py.",
                    id="notifications.E002",
                )
            )
    return problems


@checks.register("notifications")
def check_event_catalogue(app_configs=None, **kwargs):
    return catalogue_problems()
