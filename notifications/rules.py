"""State changes of notification rules (seeds 001, 004).

A rule only fires for occurrences after its `active_since`: enabling a rule,
or moving when it fires, must not flood learners with messages for dates
that are already past.
"""

from django.db import transaction
from django.utils import timezone

from .models import NotificationRule

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
