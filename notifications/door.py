"""The one door every message of an event goes through (seed 004).

`send(event, about=..., occurrence=...)` (one occurrence) and `send_all(drafts)` (many, set-based) take what
a feature says happened and make its messages:

1. the event's rules, or its declared default rule when it has none (notifications.registry);
2. recipients expanded set-based: the learner, her manager, her enabled guardians, the session's trainers,
   site administrators, as the rule says and the declaration allows; a message the feature addresses to
   someone else (the approver, the manager who made a request) goes to that person only;
3. confirmation: a rule's own `requires_confirmation` decides; without a rule, what the system sends on its
   own (`Origin.SYSTEM`: reminders, scans, status changes) waits when its channel requires confirmation
   (ChannelSetting, required by default), and what an administrator sent by hand (`Origin.ADMIN`) or a
   direct answer to a person's own action (`Origin.ANSWER`) is not held;
4. the outbox door (`enqueue`): each reader's language and time zone, rendering, omission, dedupe.

A draft is an `OutgoingMessage` on the email channel addressed to the learner it is about (or to the person
the feature names), with `refs["session"]` when the session's trainers may read it.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from django.contrib.auth import get_user_model

from learners.models import Guardian, Learner
from live_sessions.models import LiveSession

from . import registry
from .models import Channel, ChannelSetting, Notification, NotificationRule
from .outbox.enqueue import OutgoingMessage, enqueue
from .recipients import Recipient
from .variables import person_values


class Origin(StrEnum):
    SYSTEM = "system"  # the system's own: reminders, scans, status changes
    ADMIN = "admin"  # written or previewed by an administrator and sent by hand
    ANSWER = "answer"  # a direct answer to a person's own action (their request recorded, their answer received)


# --- Confirmation per channel (seed 004) ----------------------------------------------------------


def channels_requiring_confirmation() -> dict[str, bool]:
    """Whether each channel holds the system's own messages: required unless switched to automatic."""
    found = dict(ChannelSetting.objects.values_list("channel", "requires_confirmation"))
    return {channel: found.get(channel, True) for channel in Channel.values}


def set_channel_confirmation(channel, *, required: bool, actor=None) -> ChannelSetting:
    """Seed 004: whether the messages the system sends on its own on `channel` wait for an administrator's
    confirmation. Switching to automatic releases nothing already waiting: those messages were held under
    the setting of their time, and an administrator confirms them from the list of messages."""
    if channel not in ChannelSetting.SWITCHABLE:
        raise ValueError(f"Confirmation is set for email or SMS, not {channel!r}.")
    setting, _ = ChannelSetting.objects.update_or_create(
        channel=channel, defaults={"requires_confirmation": bool(required), "updated_by": actor}
    )
    return setting


# --- The rules of an event, read once per batch ---------------------------------------------------


@dataclass
class Plan:
    """The rules of one event (None: it has none, its default rule applies), read once for a batch."""

    declaration: registry.Declaration
    rules: list | None

    def rules_for(self, program):
        """The enabled rules that fire on the event itself for `program` (pk or instance, None: any)."""
        program_pk = getattr(program, "pk", program)
        found = []
        for rule in self.rules or ():
            if not rule.is_enabled:
                continue
            if program_pk is not None and rule.program_id not in (None, program_pk):
                continue
            if program_pk is None and rule.program_id is not None:
                continue
            if self.declaration.date_based and rule.timing != NotificationRule.Timing.ON_EVENT:
                continue  # "N days after" is a date occurrence, created by the trigger scan when its day comes
            found.append(rule)
        return found


class Plans:
    """Rules and channel settings read once for every message of a batch (a fixed number of queries)."""

    def __init__(self):
        self._plans: dict[str, Plan] = {}
        self._confirmation = None

    def load(self, events):
        wanted = {str(e) for e in events} - set(self._plans)
        if not wanted:
            return
        rules: dict[str, list] = {}
        for rule in NotificationRule.objects.filter(event__in=wanted).order_by("pk"):
            rules.setdefault(rule.event, []).append(rule)
        for event in wanted:
            self._plans[event] = Plan(declaration=registry.get(event), rules=rules.get(event))

    def __getitem__(self, event) -> Plan:
        plan = self._plans.get(event)
        if plan is None:
            self.load([event])
            plan = self._plans[str(event)]
        return plan

    def requires_confirmation(self, channel) -> bool:
        if self._confirmation is None:
            self._confirmation = channels_requiring_confirmation()
        return self._confirmation.get(channel, True)


# --- Recipients, set-based -------------------------------------------------------------------------


class _People:
    """Guardians, managers, trainers and site administrators of a batch, each read in one query when needed."""

    def __init__(self, drafts):
        self.learner_pks = {d.recipient.learner.pk for d in drafts if _addressed_to_learner(d)}
        self.session_pks = {int(d.refs["session"]) for d in drafts if d.refs.get("session")}
        self._guardians = self._managers = self._trainers = self._admins = None

    def guardians(self, learner):
        if self._guardians is None:
            self._guardians = {}
            rows = Guardian.objects.filter(learner__in=self.learner_pks, is_enabled=True).order_by("pk")
            for guardian in rows.select_related("learner"):
                self._guardians.setdefault(guardian.learner_id, []).append(guardian)
        return self._guardians.get(learner.pk, [])

    def manager(self, learner):
        if not learner.manager_id:
            return None
        if self._managers is None:
            manager_pks = set(
                Learner.objects.filter(pk__in=self.learner_pks, manager__isnull=False).values_list("manager", flat=True)
            )
            self._managers = Learner.objects.in_bulk(manager_pks)
        return self._managers.get(learner.manager_id)

    def trainers(self, session_pk):
        if self._trainers is None:
            self._trainers = {}
            through = LiveSession.trainers.through
            rows = through.objects.filter(livesession__in=self.session_pks).select_related("user")
            for row in rows.order_by("user_id"):
                if row.user.is_active:
                    self._trainers.setdefault(row.livesession_id, []).append(row.user)
        return self._trainers.get(session_pk, [])

    def site_admins(self):
        if self._admins is None:
            users = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
            self._admins = list(users.order_by("pk"))
        return self._admins


def _addressed_to_learner(draft) -> bool:
    recipient = draft.recipient
    return recipient.learner is not None and not recipient.as_manager and recipient.guardian is None


def _recipients(draft, kinds, declaration, people) -> list[Recipient]:
    """Who reads `draft` when its rule (or default) names the recipient kinds `kinds`."""
    if not _addressed_to_learner(draft) or declaration.addressee != registry.ADDRESSEE_LEARNER:
        return [draft.recipient]  # addressed by the feature to someone else: that person only
    learner = draft.recipient.learner
    allowed = declaration.readers
    found = []
    if registry.LEARNER in kinds:
        found.append(draft.recipient)
        if registry.GUARDIANS in kinds and registry.GUARDIANS in allowed:
            found.extend(Recipient(guardian=g) for g in people.guardians(learner))
    if registry.MANAGER in kinds and registry.MANAGER in allowed:
        manager = people.manager(learner)
        if manager is not None:
            found.append(Recipient(learner=manager, as_manager=True))
    if registry.TRAINERS in kinds and registry.TRAINERS in allowed and draft.refs.get("session"):
        found.extend(Recipient(user=user) for user in people.trainers(int(draft.refs["session"])))
    if registry.SITE_ADMINS in kinds and registry.SITE_ADMINS in allowed:
        found.extend(Recipient(user=user) for user in people.site_admins())
    return found


def rule_recipient_kinds(rule) -> frozenset:
    return frozenset(kind for kind in registry.RECIPIENT_KINDS if getattr(rule, f"notify_{kind}", False))


# --- The door ---------------------------------------------------------------------------------------


def compose(drafts, *, origin=Origin.SYSTEM, program=None, plans: Plans | None = None) -> list[OutgoingMessage]:
    """The messages `drafts` make under the rules of their events (or their default rules): one per
    recipient and channel, each with its confirmation decided. A fixed number of queries per batch."""
    drafts = list(drafts)
    if not drafts:
        return []
    plans = plans or Plans()
    plans.load({d.event for d in drafts})
    people = None
    out = []
    # The common case, kept cheap for a Notify run over 100,000 learners (seed 000): an event without rules
    # whose default is an email, seen once per event as (its default names one reader, its confirmation) or
    # None when it is not that case; held or not is decided at its first such draft (it may read a setting).
    by_default_email, held = {}, {}
    for draft in drafts:
        event = draft.event
        if event not in by_default_email:
            plan = plans[event]
            default = plan.declaration.default
            by_default_email[event] = (
                (len(default.recipients) == 1, default.requires_confirmation)
                if plan.rules is None and not default.silent and default.channels == ("email",)
                else None
            )
        simple = by_default_email[event]
        if simple is not None and draft.channel == Channel.EMAIL and (simple[0] or not _addressed_to_learner(draft)):
            if event not in held:
                held[event] = _held(simple[1], Channel.EMAIL, origin, plans)
            draft.requires_confirmation = held[event]
            out.append(draft)
            continue
        plan = plans[event]
        draft_program = program if program is not None else draft.refs.get("program")
        declaration = plan.declaration
        default = declaration.default
        if plan.rules is None:
            if default.silent:
                continue
            choices = [(None, default.channels, default.recipients, default.requires_confirmation)]
        else:
            choices = [
                (rule, rule.channels, rule_recipient_kinds(rule), rule.requires_confirmation)
                for rule in plan.rules_for(draft_program)
            ]
        if people is None:
            people = _People(drafts)
        seen = set()
        for rule, channels, kinds, confirmation in choices:
            # An event that speaks only through rules (seed 001) names the rule in its occurrence: a rule for
            # every program and one for this program are two occurrences, as they always were.
            occurrence = f"{draft.occurrence}:r{rule.pk}" if rule is not None and default.silent else draft.occurrence
            for recipient in _recipients(draft, kinds, declaration, people):
                for channel in channels:
                    key = (recipient.key, channel, occurrence)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(
                        replace(
                            draft,
                            channel=channel,
                            recipient=recipient,
                            occurrence=occurrence,
                            rule=rule,
                            requires_confirmation=_held(confirmation, channel, origin, plans),
                            # What the feature attached is the addressee's own (her calendar file names her
                            # as the attendee): a guardian's or trainer's copy goes without it.
                            attachments=draft.attachments
                            if channel == Channel.EMAIL and recipient is draft.recipient
                            else [],
                        )
                    )
    return out


def _held(confirmation, channel, origin, plans) -> bool:
    if confirmation is not None:
        return bool(confirmation)
    return origin == Origin.SYSTEM and channel != Channel.INBOX and plans.requires_confirmation(channel)


def send_all(drafts, *, origin=Origin.SYSTEM, program=None, plans=None, templates=None, return_rows=True):
    """Queue what `drafts` make under their events' rules (see `compose`); returns enqueue's result."""
    messages = compose(drafts, origin=origin, program=program, plans=plans)
    if not messages:
        return [] if return_rows else {}
    return enqueue(messages, templates=templates, return_rows=return_rows)


def draft(
    event,
    *,
    about=None,
    occurrence,
    to=None,
    context=None,
    refs=None,
    session=None,
    program=None,
    actor=None,
    attachments=None,
    not_before=None,
    subject=None,
    body=None,
    written=None,
) -> OutgoingMessage:
    """One occurrence of `event` about the learner `about` (or addressed to `to`, a Recipient, Learner,
    Guardian or user the feature names), before the rules expand it. `program` limits the rules to those
    of every program and of this one; `session` lets the rules reach its trainers. `written` holds the words
    an administrator wrote for this sending (compiled), rendered for each reader."""
    recipient = to if isinstance(to, Recipient) else (Recipient.of_holder(to) if to is not None else None)
    recipient = recipient or Recipient(learner=about)
    values = {"learner": person_values(about)} if about is not None else {}
    refs = dict(refs or {})
    if program is not None:
        refs.setdefault("program", getattr(program, "pk", program))
    if session is not None:
        refs.setdefault("session", getattr(session, "pk", session))
    return OutgoingMessage(
        event=event,
        channel=Channel.EMAIL,
        recipient=recipient,
        occurrence=occurrence,
        context={**values, **(context or {})},
        refs=refs,
        actor=actor,
        attachments=list(attachments or []),
        not_before=not_before,
        subject=subject,
        body=body,
        written=written or None,
    )


def send(event, *, about=None, occurrence, origin=Origin.SYSTEM, **fields) -> list[Notification]:
    """Queue what the rules of `event` (or its default rule) say about this occurrence: the one door.

    `fields` are those of `draft` (to, context, refs, session, program, actor, attachments, not_before,
    subject, body, written)."""
    return send_all([draft(event, about=about, occurrence=occurrence, **fields)], origin=origin)


# --- Messages awaiting confirmation (the admin home) -------------------------------------------------


def awaiting_confirmation_count() -> int:
    return Notification.objects.filter(status=Notification.Status.AWAITING_CONFIRMATION).count()


__all__ = [
    "Origin",
    "Plans",
    "awaiting_confirmation_count",
    "channels_requiring_confirmation",
    "compose",
    "draft",
    "send",
    "send_all",
    "set_channel_confirmation",
]
