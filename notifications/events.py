"""From an event to messages: the enabled rules of the event say who hears about it and how.

`notify_event` is what an app's service calls after a state change; the rules
themselves are edited in the admin (notifications.rules saves them).

Seed 001: the learner and their manager; seed 004: guardians and site
administrators; each rule lists its channels and whether an administrator
confirms its messages before they leave.
"""

from django.contrib.auth import get_user_model

from learners.models import Learner

from .models import Notification, NotificationRule
from .outbox.enqueue import OutgoingMessage, enqueue
from .recipients import Recipient
from .triggers import date_trigger
from .variables import person_values


def recipients_for_rule(rule: NotificationRule, learner: Learner) -> list[Recipient]:
    """Who hears about an event concerning `learner` under `rule` (seed 001 learner/manager,
    seed 004 guardians, site administrators for exceptions)."""
    recipients = []
    if rule.notify_learner:
        recipients.append(Recipient(learner=learner))
        if rule.notify_guardians:
            recipients.extend(Recipient(guardian=g) for g in learner.guardians.all() if g.is_enabled)
    if rule.notify_manager and learner.manager_id:
        recipients.append(Recipient(learner=learner.manager, as_manager=True))
    if rule.notify_site_admins:
        admins = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
        recipients.extend(Recipient(user=user) for user in admins)
    return recipients


def enabled_rules(event, *, program=None):
    rules = NotificationRule.objects.filter(event=event, is_enabled=True)
    if date_trigger(event) is not None:
        # "N days after the event" is a date occurrence, created by the trigger scan when its day comes.
        rules = rules.filter(timing=NotificationRule.Timing.ON_EVENT)
    if program is not None:
        rules = rules.filter(program__isnull=True) | rules.filter(program=program)
    return list(rules)


def messages_for_rules(
    *,
    event,
    learner,
    occurrence,
    context=None,
    refs=None,
    program=None,
    actor=None,
    attachments=None,
    not_before=None,
    rules=None,
) -> list[OutgoingMessage]:
    """Expand every enabled rule of `event` into one message per recipient and channel.

    `rules` (the enabled rules of the event, from `enabled_rules`) spares the query when the
    caller expands the same event for many learners."""
    if rules is None:
        rules = enabled_rules(event, program=program)
    messages = []
    for rule in rules:
        if program is not None and rule.program_id not in (None, getattr(program, "pk", program)):
            continue
        for recipient in recipients_for_rule(rule, learner):
            for channel in rule.channels:
                messages.append(
                    OutgoingMessage(
                        event=event,
                        channel=channel,
                        recipient=recipient,
                        occurrence=f"{occurrence}:r{rule.pk}",
                        context={"learner": person_values(learner), **(context or {})},
                        refs=refs or {},
                        requires_confirmation=rule.requires_confirmation,
                        rule=rule,
                        actor=actor,
                        attachments=attachments or [],
                        not_before=not_before,
                    )
                )
    return messages


def notify_event(*, event, learner, occurrence, **kwargs) -> list[Notification]:
    """Queue what the rules of `event` say for this occurrence; nothing if no rule is enabled."""
    return enqueue(messages_for_rules(event=event, learner=learner, occurrence=occurrence, **kwargs))
