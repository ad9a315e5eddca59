"""State changes of notification rules (seeds 001, 004).

A rule only fires for occurrences after its `active_since`: enabling a rule,
or moving when it fires, must not flood learners with messages for dates
that are already past.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import registry
from .models import Channel, NotificationRule
from .triggers import date_trigger

# Changing any of these moves the moments the rule fires at.
_TIMING_FIELDS = ("timing", "offset_days", "event")


def save_rule(rule: NotificationRule, *, actor=None) -> NotificationRule:
    """Save a rule; restart `active_since` when it is (re-)enabled or its timing changes."""
    with transaction.atomic():
        previous = None
        if rule.pk:
            previous = NotificationRule.objects.select_for_update().filter(pk=rule.pk).first()
        if previous is None:
            rule.active_since = timezone.now()
        elif (rule.is_enabled and not previous.is_enabled) or any(
            getattr(rule, f) != getattr(previous, f) for f in _TIMING_FIELDS
        ):
            rule.active_since = timezone.now()
        rule.save()
    return rule


def set_rules_enabled(rules, *, enabled: bool, actor=None) -> int:
    """Enable or disable rules in one query; returns how many changed."""
    if not hasattr(rules, "filter"):
        rules = NotificationRule.objects.filter(pk__in=[getattr(r, "pk", r) for r in rules])
    qs = rules.filter(is_enabled=not enabled)
    if enabled:
        return qs.update(is_enabled=True, active_since=timezone.now())
    return qs.update(is_enabled=False)


# --- The rule screen: every event with its rules, each rule in words ------------------------------

_RECIPIENT_WORDS = {
    "learner": _("the learner"),
    "guardians": _("their guardians"),
    "manager": _("their manager"),
    "site_admins": _("site administrators"),
    "trainers": _("the session's trainers"),
}


def _join(words):
    words = [str(w) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return _("%(items)s and %(last)s") % {"items": ", ".join(words[:-1]), "last": words[-1]}


def _when(rule: NotificationRule) -> str:
    trigger = date_trigger(rule.event)
    days = rule.offset_days
    if trigger is None or (rule.timing == NotificationRule.Timing.ON_EVENT and trigger.has_event):
        return str(_("as soon as it happens"))
    anchor = trigger.anchor
    if rule.timing == NotificationRule.Timing.BEFORE:
        return ngettext("%(n)d day before %(anchor)s", "%(n)d days before %(anchor)s", days) % {
            "n": days,
            "anchor": anchor,
        }
    if rule.timing == NotificationRule.Timing.AFTER:
        return ngettext("%(n)d day after %(anchor)s", "%(n)d days after %(anchor)s", days) % {
            "n": days,
            "anchor": anchor,
        }
    return _("on %(anchor)s") % {"anchor": anchor}


def describe_rule(rule: NotificationRule) -> str:
    """When the rule fires, to whom, how, in words: "3 days before the program due date, to the learner
    and their manager, by email, after confirmation"."""
    recipients = []
    if rule.notify_learner:
        recipients.append(_RECIPIENT_WORDS["learner"])
        if rule.notify_guardians:
            recipients.append(_RECIPIENT_WORDS["guardians"])
    if rule.notify_manager:
        recipients.append(_RECIPIENT_WORDS["manager"])
    if rule.notify_trainers:
        recipients.append(_RECIPIENT_WORDS["trainers"])
    if rule.notify_site_admins:
        recipients.append(_RECIPIENT_WORDS["site_admins"])
    labels = dict(Channel.choices)
    channels = [str(labels.get(c, c)).lower() if c != Channel.SMS else "SMS" for c in rule.channels]
    parts = [_when(rule)]
    parts.append(_("to %(whom)s") % {"whom": _join(recipients)} if recipients else _("to nobody"))
    parts.append(_("by %(channels)s") % {"channels": _join(channels)} if channels else _("on no channel (silent)"))
    parts.append(_("after confirmation") if rule.requires_confirmation else _("without confirmation"))
    text = ", ".join(str(p) for p in parts)
    if rule.program_id:
        text += str(_(" (%(program)s only)") % {"program": rule.program})
    return text


@dataclass
class EventState:
    code: str
    label: str
    rules: list
    needs_rule: bool

    @property
    def silent(self):
        return self.needs_rule and not any(rule.is_enabled and rule.channels for rule in self.rules)


def event_states() -> list[EventState]:
    """Every event of the catalogue with its rules (one query)."""
    by_event = {}
    for rule in NotificationRule.objects.select_related("program").order_by("event", "pk"):
        by_event.setdefault(rule.event, []).append(rule)
    return [
        EventState(
            code=code,
            label=str(declaration.label),
            rules=by_event.get(code, []),
            # Its declaration's default rule is silent: only a rule makes it speak (seed 001).
            needs_rule=declaration.default.silent,
        )
        for code, declaration in registry.declarations().items()
    ]


def preview_rule(rule: NotificationRule, *, days=30) -> dict | None:
    """The occurrences a date rule would create in the next `days` days and for whom; None if the rule
    fires on the event itself (nothing is scheduled ahead)."""
    trigger = date_trigger(rule.event)
    if trigger is None or trigger.preview is None:
        return None
    if rule.timing == NotificationRule.Timing.ON_EVENT and trigger.has_event:
        return None
    now = timezone.now()
    return trigger.preview(rule, since=now, until=now + timedelta(days=days))
