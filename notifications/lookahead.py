"""A look before a mass send: what a sending would do, nothing written.

`look_ahead(drafts, origin=...)` takes the drafts a feature would give the door and answers who will get what:
the messages that would go, counted per channel and language; how many of them would wait for confirmation;
the messages that would be omitted, with the reason in words (the one vocabulary, `reasons.reason_in_words`);
and one sample message as a reader gets it, its links masked (a link is its reader's bearer token).

It composes exactly as `door.send_all` does (`door.compose`) and decides omission exactly as the outbox door
does (`outbox.enqueue.omission`), reading the undeliverable and opted-out addresses of the batch once: a fixed
number of queries whatever the number of learners. Only the sample is rendered.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language_info

from .door import Origin, compose
from .links import mask_links
from .models import Channel
from .outbox.barred import barred_among
from .outbox.enqueue import build_notification, omission
from .reasons import reason_in_words
from .templating import TemplateCache

# Omitted messages listed by name on the page; beyond, only their count per reason.
OMITTED_LISTED = 50


@dataclass
class Omitted:
    name: str
    channel: str
    reason: str


@dataclass
class Lookahead:
    total: int = 0
    # [(channel label, language name, count)] of the messages that would go.
    going: list = field(default_factory=list)
    held: int = 0
    omitted_total: int = 0
    omitted_by_reason: list = field(default_factory=list)  # [(reason in words, count)]
    omitted: list = field(default_factory=list)  # [Omitted], at most OMITTED_LISTED
    sample_subject: str = ""
    sample_body: str = ""
    sample_language: str = ""

    @property
    def going_total(self) -> int:
        return sum(n for _, _, n in self.going)


def look_ahead(drafts, *, origin=Origin.SYSTEM) -> Lookahead:
    """Who would get what if `drafts` went through the door with `origin`; nothing is written."""
    drafts = list(drafts)
    messages = compose(drafts, origin=origin)
    result = Lookahead(total=len(messages))
    if not messages:
        return result
    blocked, opted_out = barred_among(messages)
    channels = dict(Channel.choices)
    going, reasons = Counter(), Counter()
    sample = None
    for message in messages:
        reason = omission(message, blocked=blocked, opted_out=opted_out)
        if reason:
            words = reason_in_words(reason)
            reasons[words] += 1
            if len(result.omitted) < OMITTED_LISTED:
                result.omitted.append(Omitted(message.recipient.name, str(channels[message.channel]), words))
            continue
        going[(message.channel, message.recipient.language)] += 1
        result.held += bool(message.requires_confirmation)
        if sample is None and message.channel == Channel.EMAIL and _learners_own(message):
            sample = message
    result.going = [
        (str(channels[channel]), _language_name(language), n) for (channel, language), n in sorted(going.items())
    ]
    result.omitted_total = sum(reasons.values())
    result.omitted_by_reason = reasons.most_common()
    if sample is not None:
        row = build_notification(sample, templates=TemplateCache(), now=timezone.now())
        result.sample_subject, result.sample_body = mask_links(row.subject), mask_links(row.body)
        result.sample_language = _language_name(row.language)
    return result


def _language_name(code) -> str:
    """The language's name in the administrator's language ("French", "francuski")."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _learners_own(message) -> bool:
    """The learner's own copy (not her guardian's, her manager's or a trainer's): the sample shown."""
    recipient = message.recipient
    return recipient.learner is not None and recipient.guardian is None and not recipient.as_manager
