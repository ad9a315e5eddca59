"""The Notify checklist (seed 000): one smart, spam-proof decision per learner, as plain Python.

For each learner in scope the checklist runs in this order and stops at the
first match: pending invitation (sent again), incomplete assigned training
(reminder listing complete and incomplete training), missing training required
by the learner's groups (assignments created, learner told), certification due
for renewal (new open assignment, learner told), else nothing.

Omissions are decided BEFORE anything is created: a learner without consent
or without an email address gets nothing at all, not even the assignments a
message would have announced. Notify is a messaging action; silently putting
training on the dashboard of someone we may not tell would start due-date
reminders and exceptions nobody asked for, and would make the preview lie
("0 missing training" while assignments appear). Administrators who want the
training assigned regardless assign it to the group explicitly. The same goes
for rate-limited learners: nothing sent, nothing created.

Rate limits (seed 000: 1 message per 24 hours, 3 per 14 days, rolling
windows, across every button and scope) count NotifyOutcome rows that were
not omitted. They hold under concurrent clicks because every chunk locks its
learners' rows (one SELECT ... FOR UPDATE in pk order) before counting, and
writes its outcomes in the same transaction.

Sending an invitation again does not touch the Invitation row (its own
reminder schedule belongs to seed 002); the outbox row and the outcome record
the resend.

Work is set-based: a chunk of up to CHUNK_SIZE learners costs a fixed number
of queries (see selectors.load_checklist_data), so 10 and 10,000 learners
cost the same per chunk. `preview_notify` runs the very same `decide` without
locks or writes.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings

from programs.models import Program

from ..links import action_url_maker
from ..models import Channel, Event, NotifyOutcome
from ..outbox.enqueue import OutgoingMessage
from ..recipients import Reason as RecipientReason
from ..recipients import Recipient
from ..variables import person_values
from .selectors import RATE_LIMITS, training_url

Action = NotifyOutcome.Action
Reason = NotifyOutcome.Reason

EVENT_FOR_ACTION = {
    Action.INVITATION: Event.NOTIFY_INVITATION,
    Action.TRAINING_REMINDER: Event.NOTIFY_TRAINING_REMINDER,
    Action.MISSING_TRAINING: Event.NOTIFY_MISSING_TRAINING,
    Action.RENEWAL: Event.NOTIFY_RENEWAL,
}


class Done(NamedTuple):
    """Training listed as complete in a reminder (templates read item.title, item.completed_at)."""

    title: str
    completed_at: object


class ToDo(NamedTuple):
    """Training still to do in a reminder: item.title, item.due_at (the assignment's own), item.overdue, item.url."""

    title: str
    due_at: object
    overdue: bool = False
    url: str = ""


def _to_do(title, due_at, now, url) -> ToDo:
    return ToDo(title, due_at, overdue=bool(due_at and due_at < now), url=url)


@dataclass
class Decision:
    learner: object
    action: str
    reason: str = ""
    invitation_id: int | None = None
    complete: list = field(default_factory=list)
    incomplete: list = field(default_factory=list)
    # program pk -> group pk that requires it
    missing: dict = field(default_factory=dict)
    # [(program dict, expires_at)], soonest expiry first
    renewals: list = field(default_factory=list)
    # program pk -> title, for the message of missing training
    programs_titles: dict = field(default_factory=dict)

    @property
    def sends(self):
        return self.action != Action.OMITTED


def _still_valid(row, now):
    return row["completed_at"] is not None and (row["expires_at"] is None or row["expires_at"] > now)


def _checklist(learner, data, now) -> Decision | None:
    pk = learner.pk
    # 1. Pending invitation: sent again.
    if pk in data.pending_invitation:
        return Decision(learner, Action.INVITATION, invitation_id=data.pending_invitation[pk])

    rows = data.assignments.get(pk, [])
    # Unassigned assignments are not in the data at all (notify.selectors).
    open_rows = [r for r in rows if r["completed_at"] is None]
    # 2. Incomplete assigned training: what is complete, what still needs attention.
    if open_rows:
        complete, incomplete = [], []
        for row in sorted(rows, key=lambda r: r["completed_at"] or now):
            if _still_valid(row, now):
                complete.append(Done(data.programs[row["program_id"]]["title"], row["completed_at"]))
        for row in open_rows:
            program = data.programs[row["program_id"]]
            course_sets = data.course_sets.get(row["program_id"], [])
            if not course_sets:
                incomplete.append(_to_do(program["title"], row["due_at"], now, data.training_url))
            done = data.completions.get(row["pk"], {})
            for cs in course_sets:
                title = f"{program['title']}: {cs['title']}"
                if cs["pk"] in done:
                    complete.append(Done(title, done[cs["pk"]]))
                else:
                    # The learner's own due date (the assignment's), not the course set's template date.
                    incomplete.append(_to_do(title, row["due_at"], now, data.training_url))
        return Decision(learner, Action.TRAINING_REMINDER, complete=complete, incomplete=incomplete)

    # 3. Missing training: required by a group, neither open (none here) nor completed and still valid.
    have = {r["program_id"] for r in rows if _still_valid(r, now)}
    missing = {p: g for p, g in data.required.get(pk, {}).items() if p not in have}
    if missing:
        titles = {p: data.programs[p]["title"] for p in missing}
        return Decision(learner, Action.MISSING_TRAINING, missing=missing, programs_titles=titles)

    # 4. Renewal: the latest completion of a certification expires and its window is open.
    latest = {}
    for row in rows:
        if row["completed_at"] is not None:
            best = latest.get(row["program_id"])
            if best is None or row["completed_at"] > best["completed_at"]:
                latest[row["program_id"]] = row
    renewals = []
    for program_id, row in latest.items():
        program = data.programs[program_id]
        if program["kind"] != Program.Kind.CERTIFICATION or row["expires_at"] is None:
            continue
        window = timedelta(days=program["recertification_window_days"] or 0)
        if now >= row["expires_at"] - window:
            renewals.append((program, row["expires_at"]))
    if renewals:
        renewals.sort(key=lambda item: item[1])
        return Decision(learner, Action.RENEWAL, renewals=renewals)
    return None


# The recipient reasons a Notify outcome records (the learners in scope are active).
_OUTCOME_REASON = {RecipientReason.NO_CONSENT: Reason.NO_CONSENT, RecipientReason.NO_CONTACT: Reason.NO_CONTACT}


def decide(learner, data, *, now) -> Decision:
    """The one decision both the preview and the real run use.

    Eligibility comes first and is the outbox's own (Recipient.ineligibility): whoever the
    outbox would omit gets nothing at all, not even the assignments a message would announce."""
    ineligible = Recipient(learner=learner).ineligibility(Channel.EMAIL)
    if ineligible:
        return Decision(learner, Action.OMITTED, _OUTCOME_REASON.get(ineligible, Reason.NO_CONTACT))
    decision = _checklist(learner, data, now)
    if decision is None:
        return Decision(learner, Action.OMITTED, Reason.UP_TO_DATE)
    recent = data.recent.get(learner.pk, (0, 0))
    if any(count >= limit for count, (_, limit) in zip(recent, RATE_LIMITS, strict=True)):
        return Decision(learner, Action.OMITTED, Reason.RATE_LIMITED)
    return decision


def _invitation_links():
    """The links of the invitations Notify sends again: (invitation pk, learner) -> link."""
    make = action_url_maker(purpose="invitation", expires_in=timedelta(days=settings.ACTION_LINK_DAYS))
    return lambda invitation_id, learner: make(invitation_id, Recipient(learner=learner))


def notify_message(decision: Decision, *, run, actor, invitation_link=None, platform_url=None) -> OutgoingMessage:
    """The one email a decision sends (seed 000: one message per learner per click).

    `invitation_link` (from _invitation_links) and `platform_url` (training_url()) are shared by the
    messages of a chunk; they are worked out here when absent."""
    learner = decision.learner
    platform_url = platform_url or training_url()
    context = {"learner": person_values(learner)}
    refs = {"notify_run": run.pk}
    if decision.action == Action.INVITATION:
        context["action_url"] = (invitation_link or _invitation_links())(decision.invitation_id, learner)
        refs["invitation"] = decision.invitation_id
    elif decision.action == Action.TRAINING_REMINDER:
        context.update(
            complete=tuple(decision.complete), incomplete=tuple(decision.incomplete), action_url=platform_url
        )
    elif decision.action == Action.MISSING_TRAINING:
        context["programs"] = tuple(decision.programs_titles[p] for p in decision.missing)
        context["action_url"] = platform_url
    elif decision.action == Action.RENEWAL:
        program, expires_at = decision.renewals[0]
        context.update(
            program=program["title"],
            expires_at=expires_at,
            programs=tuple(p["title"] for p, _ in decision.renewals),
            action_url=platform_url,
        )
    return OutgoingMessage(
        event=EVENT_FOR_ACTION[decision.action],
        channel=Channel.EMAIL,
        recipient=Recipient(learner=learner),
        occurrence=f"run{run.pk}",
        context=context,
        refs=refs,
        requires_confirmation=False,
        actor=actor,
    )


def notify_messages(decisions, *, run, actor) -> list[OutgoingMessage]:
    """The messages of the decisions that send one, in their order (a chunk's, seed 000)."""
    links, url = _invitation_links(), training_url()
    return [
        notify_message(d, run=run, actor=actor, invitation_link=links, platform_url=url) for d in decisions if d.sends
    ]


def new_assignment_rows(decisions, *, now):
    """The assignments the decisions announce, as (learner, program, group, due_at) for
    programs.services.assign_many."""
    rows = []
    for d in decisions:
        if d.action == Action.MISSING_TRAINING:
            rows.extend((d.learner.pk, p, g, None) for p, g in d.missing.items())
        elif d.action == Action.RENEWAL:
            # Due at the expiry of the current certificate while it is still ahead.
            rows.extend(
                (d.learner.pk, program["pk"], None, expires_at if expires_at > now else None)
                for program, expires_at in d.renewals
            )
    return rows
