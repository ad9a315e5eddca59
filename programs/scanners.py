"""The date side of seed 001: triggers that fire on a day, not on an action (when each fires, one query
per rule: programs.occurrences; here, the scan that turns occurrences into messages).

Every trigger counts from one date of an assignment (its *anchor*): the program
or course-set due date, the completion, the certification's expiry, the
opening of its recertification window. A rule says "N days before", "on" or
"N days after" that date; the moment is the anchor's calendar day *where the
learner is* (their time zone), moved by N days, at settings.DATE_TRIGGER_HOUR
local time, so the local hour holds across daylight-saving changes.

A scan creates the occurrences whose moment falls in its window (since, now]:
one query per rule lists them (the moments are computed by PostgreSQL, using
the date indexes to read only a few days of anchors), then each batch of
occurrences costs a fixed number of queries (learners, managers, guardians,
then the outbox's COPY path).

Catch-up after downtime: the window starts where the last successful scan
stopped, so occurrences that fell due while the worker was down are created
by the next scan, once each, and only if still relevant (the conditions below
are those of the scan time: a program completed meanwhile gets no due-date
reminder). A "before" reminder whose moment passed during the downtime is
still sent late as long as the date it announces is ahead; once that date has
passed it is dropped (the "on" / "after" rules speak for that date).

The dedupe key of an occurrence names the rule, the assignment (and course
set), the anchor itself and the offset: a moved due date is a new occurrence,
and the send-time checks (programs.sendchecks) cancel the old one if it is
still waiting.
"""

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from learners.models import Guardian, Learner
from notifications.models import Event, NotificationRule
from notifications.services import (
    OutgoingMessage,
    Recipient,
    ScanFailures,
    ShapeCachedTemplates,
    enqueue,
    learner_home_url,
    person_values,
)

from .models import CourseSet, Program
from .occurrences import TRIGGERS, Occurrence, anchor_ref, occurrence_name, occurrences

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000

# --- Messages ------------------------------------------------------------------------------

_LEARNER_ONLY = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "timezone",
    "manager_id",
    "consent_given_at",
    "is_active",
)


class _Lookups:
    """What a scan reads once: programs, course sets, site administrators, templates."""

    def __init__(self):
        self.programs = {pk: title for pk, title in Program.objects.values_list("pk", "title")}
        self._course_sets = None
        self._admins = None
        # Most messages of a scan differ only by the names: each shape is rendered once.
        self.templates = ShapeCachedTemplates()

    def course_set(self, pk):
        if self._course_sets is None:
            self._course_sets = {
                pk: {"title": title, "due_at": due_at}
                for pk, title, due_at in CourseSet.objects.values_list("pk", "title", "due_at")
            }
        return self._course_sets.get(pk)

    @property
    def site_admins(self):
        if self._admins is None:
            self._admins = list(
                get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="").order_by("pk")
            )
        return self._admins


def _recipients_by_learner(rule, learner_ids, lookups) -> tuple[dict, dict]:
    """({learner id: Learner}, {learner id: [Recipient]}) in at most three queries."""
    learners = {row.pk: row for row in Learner.objects.filter(pk__in=learner_ids).only(*_LEARNER_ONLY)}
    managers = {}
    if rule.notify_manager:
        manager_ids = {row.manager_id for row in learners.values() if row.manager_id}
        if manager_ids:
            managers = {row.pk: row for row in Learner.objects.filter(pk__in=manager_ids).only(*_LEARNER_ONLY)}
    guardians = {}
    if rule.notify_learner and rule.notify_guardians:
        for guardian in Guardian.objects.filter(learner_id__in=learner_ids, is_enabled=True).order_by("pk"):
            guardian.learner = learners[guardian.learner_id]
            guardians.setdefault(guardian.learner_id, []).append(guardian)
    recipients = {}
    for pk, learner in learners.items():
        found = []
        if rule.notify_learner:
            found.append(Recipient(learner=learner))
            found.extend(Recipient(guardian=g) for g in guardians.get(pk, ()))
        if rule.notify_manager and learner.manager_id in managers:
            found.append(Recipient(learner=managers[learner.manager_id], as_manager=True))
        if rule.notify_site_admins:
            found.extend(Recipient(user=user) for user in lookups.site_admins)
        recipients[pk] = found
    return learners, recipients


def _context(rule, occ: Occurrence, learner, lookups) -> dict:
    course_set = lookups.course_set(occ.course_set) if occ.course_set else None
    context = {
        "learner": person_values(learner),
        "program": lookups.programs.get(occ.program, ""),
        "due_at": occ.due_at,
        "expires_at": occ.expires_at,
        "completed_at": occ.completed_at,
        "days": rule.offset_days,
        "timing": str(rule.timing),
        # The same for everyone; "action_url" becomes the learner's own link in her copy (links.learner_home_maker),
        # which the built-in words use first.
        "dashboard_url": learner_home_url(),
        "action_url": learner_home_url(),
    }
    if course_set is not None:
        context["course_set"] = course_set
    if rule.event == Event.CERTIFICATION_WINDOW_OPEN:
        context["window_opens_at"] = occ.anchor
    return context


def messages_for(rule, batch: list[Occurrence], lookups) -> list[OutgoingMessage]:
    learners, recipients = _recipients_by_learner(rule, {occ.learner for occ in batch}, lookups)
    messages = []
    for occ in batch:
        learner = learners.get(occ.learner)
        if learner is None:
            continue
        context = _context(rule, occ, learner, lookups)
        refs = {"assignment": occ.assignment, "anchor": anchor_ref(occ.anchor), "rule": rule.pk}
        if occ.course_set:
            refs["course_set"] = occ.course_set
        name = occurrence_name(rule, occ)
        for recipient in recipients.get(occ.learner, ()):
            for channel in rule.channels:
                messages.append(
                    OutgoingMessage(
                        event=rule.event,
                        channel=channel,
                        recipient=recipient,
                        occurrence=name,
                        context=context,
                        refs=refs,
                        requires_confirmation=rule.requires_confirmation,
                        rule=rule,
                    )
                )
    return messages


def active_rules():
    return list(
        NotificationRule.objects.filter(is_enabled=True, event__in=list(TRIGGERS)).exclude(channels=[]).order_by("pk")
    )


def _scan_rule(rule, *, since, now, lookups) -> int:
    # Every statement in a transaction or savepoint of its own: a failed one leaves the scan's connection usable.
    with transaction.atomic():
        found = occurrences(rule, since=since, until=now, late_cutoff=now)
    created = 0
    for start in range(0, len(found), BATCH_SIZE):
        with transaction.atomic():
            messages = messages_for(rule, found[start : start + BATCH_SIZE], lookups.get())
            if messages:
                created += len(enqueue(messages, templates=lookups.get().templates, return_rows=False))
    return created


class _LazyLookups:
    def __init__(self):
        self._lookups = None

    def get(self):
        self._lookups = self._lookups or _Lookups()
        return self._lookups


def scan_program_triggers(*, since, now) -> int:
    """Create every program / certification date occurrence due in (since, now]; returns rows created.

    A rule that fails fails alone: the other rules still create their messages, then ScanFailures
    names each failed rule and why (the scan records it)."""
    created, failures = 0, []
    lookups = _LazyLookups()
    for rule in active_rules():
        try:
            created += _scan_rule(rule, since=since, now=now, lookups=lookups)
        except Exception as exc:
            logger.exception("Date trigger rule %s failed; the other rules still run", rule.pk)
            failures.append(f"rule {rule.pk} “{rule}”: {exc.__class__.__name__}: {exc}")
    if failures:
        raise ScanFailures(failures, created=created)
    return created


def preview(rule, *, since=None, until=None, limit=200) -> dict:
    """What `rule` would create between now and 30 days from now: when, about whom, to whom."""
    now = timezone.now()
    since = since or now
    until = until or now + timedelta(days=30)
    found = sorted(occurrences(rule, since=since, until=until), key=lambda occ: (occ.moment, occ.assignment))
    total = len(found)
    lookups = _Lookups()
    learners, recipients = _recipients_by_learner(rule, {occ.learner for occ in found[:limit]}, lookups)
    rows = []
    for occ in found[:limit]:
        learner = learners.get(occ.learner)
        if learner is None:
            continue
        rows.append(
            {
                "moment": occ.moment,
                "learner": learner.full_name,
                "program": lookups.programs.get(occ.program, ""),
                "course_set": (lookups.course_set(occ.course_set) or {}).get("title", "") if occ.course_set else "",
                "anchor": occ.anchor,
                "recipients": [recipient.name for recipient in recipients.get(occ.learner, ())],
            }
        )
    return {"rows": rows, "total": total, "since": since, "until": until}
