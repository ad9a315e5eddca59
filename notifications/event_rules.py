"""The administrator's rules applied to messages whose recipients the feature already chose (seed 002).

Invitations, their reminders, training-request confirmations, date choices and
e-learning reminders go to people the feature names (the learner, the manager
an administrator chose to notify...). They are still events of the rules
catalogue, so an administrator can switch one off or change its channels:

- an event with no rule at all goes out as built (an email, no confirmation step);
- an event with rules follows its enabled rules: their channels, and whether a
  message waits for confirmation; rules all disabled means the event is silent.
"""

from dataclasses import replace

from .models import NotificationRule


def apply_rules(messages) -> list:
    """The messages to queue for `messages` (built for the email channel) under the rules of their events.

    One query whatever the number of messages.
    """
    messages = list(messages)
    events = {m.event for m in messages}
    rules_by_event: dict[str, list[NotificationRule]] = {}
    for rule in NotificationRule.objects.filter(event__in=events, program__isnull=True).order_by("pk"):
        rules_by_event.setdefault(rule.event, []).append(rule)
    out = []
    for message in messages:
        rules = rules_by_event.get(message.event)
        if rules is None:
            out.append(message)
            continue
        seen = set()
        for rule in rules:
            if not rule.is_enabled:
                continue
            for channel in rule.channels:
                if channel in seen:
                    continue
                seen.add(channel)
                out.append(
                    replace(
                        message,
                        channel=channel,
                        rule=rule,
                        requires_confirmation=rule.requires_confirmation,
                        attachments=message.attachments if channel == "email" else [],
                    )
                )
    return out
