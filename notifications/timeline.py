"""A learner's timeline, the notifications part: her messages and her Notify outcomes.

Sources merged by learners.timeline; each answers (count, newest `limit` entries) in a fixed number of queries.
Delivery states belong in `_message_status` when the outbox records them.
"""

from django.db.models import Q, Subquery
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from learners.models import Guardian
from lms_notify.dates import moment
from lms_notify.timeline import Entry, Link

from .links import mask_links
from .models import Event, Notification, NotifyOutcome
from .reasons import reason_in_words

Status = Notification.Status


def _who(user):
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _message_status(row) -> tuple[str, bool]:
    """(status in words, whether it went wrong): the reason of an omission or cancellation, a failure's error."""
    label = str(row.get_status_display())
    if row.status in (Status.OMITTED, Status.CANCELLED):
        reason = reason_in_words(row.reason)
        return (f"{label}: {reason}" if reason else label), True
    if row.status == Status.FAILED:
        error = Truncator(mask_links(row.last_error)).chars(80)
        return (f"{label}: {error}" if error else label), True
    if row.status == Status.QUEUED and row.last_error:
        return str(_("Retrying after an error")), True
    return label, False


def timeline_messages(*, learner, filters, limit):
    """Messages to the learner and to her guardians: (count, newest `limit` entries) in three queries."""
    if filters.kind not in ("", "message"):
        return 0, []
    guardians = Guardian.objects.filter(learner_id=learner.pk).values("pk")
    rows = Notification.objects.filter(
        Q(recipient_learner_id=learner.pk) | Q(recipient_guardian_id__in=Subquery(guardians)),
        **filters.range_lookups("created_at"),
    )
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.status:
        rows = rows.filter(status=filters.status)
    total = rows.count()
    # The bodies stay in the database: a page of 50 must not read 2,000 HTML emails.
    rows = list(
        rows.select_related("rule", "created_by", "recipient_guardian")
        .only(*TIMELINE_MESSAGE_FIELDS)
        .order_by("-created_at", "-pk")[:limit]
    )
    runs = dict(
        (n, (run, actor))
        for n, run, actor in NotifyOutcome.objects.filter(notification_id__in=[row.pk for row in rows]).values_list(
            "notification_id", "run_id", "run__actor__username"
        )
    )
    return total, [_message_entry(row, runs.get(row.pk)) for row in rows]


TIMELINE_MESSAGE_FIELDS = (
    "event",
    "channel",
    "status",
    "reason",
    "last_error",
    "created_at",
    "sent_at",
    "recipient_learner",
    "recipient_guardian",
    "recipient_guardian__name",
    "rule",
    "created_by",
    "rule__name",
    "rule__event",
    "rule__timing",
    "created_by__username",
    "created_by__first_name",
    "created_by__last_name",
)


def _message_entry(row, run):
    links = [Link(str(_("message")), reverse("admin:notifications_notification_change", args=[row.pk]))]
    if run is not None:
        run_id, actor = run
        why = _("a Notify button, clicked by %(name)s") % {"name": actor or "—"}
        links.append(Link(str(_("Notify run")), reverse("admin:notifications_notifyrun_change", args=[run_id])))
    elif row.rule_id:
        why = _("the rule “%(rule)s”") % {"rule": row.rule}
        links.append(Link(str(_("rule")), reverse("admin:notifications_notificationrule_change", args=[row.rule_id])))
    elif row.created_by_id:
        why = _("sent by %(name)s") % {"name": _who(row.created_by)}
    else:
        why = _("sent by the application itself")
    status, problem = _message_status(row)
    detail = ""
    if row.recipient_guardian_id:
        detail = _("copy to the guardian %(name)s") % {"name": row.recipient_guardian.name}
    if row.sent_at:
        sent = moment(row.sent_at)
        detail = " · ".join(filter(None, [str(detail), str(_("sent %(when)s") % {"when": sent})]))
    return Entry(
        at=row.created_at,
        kind="message",
        what=str(Event(row.event).label) if row.event in Event.values else row.event,
        status=status,
        why=str(why),
        channel=str(row.get_channel_display()),
        detail=str(detail),
        problem=problem,
        links=tuple(links),
        order=(row.pk,),
    )


def timeline_notify_outcomes(*, learner, filters, limit):
    """What each Notify click did for the learner, with the reason of an omission: two queries."""
    if filters.kind not in ("", "notify") or filters.narrows_to_messages:
        return 0, []
    rows = NotifyOutcome.objects.filter(learner_id=learner.pk, **filters.range_lookups("created_at"))
    if filters.status == Status.OMITTED:
        rows = rows.filter(action=NotifyOutcome.Action.OMITTED)
    total = rows.count()
    rows = rows.select_related("run", "run__actor").order_by("-created_at", "-pk")[:limit]
    entries = []
    for row in rows:
        omitted = row.action == NotifyOutcome.Action.OMITTED
        links = [Link(str(_("Notify run")), reverse("admin:notifications_notifyrun_change", args=[row.run_id]))]
        if row.notification_id:
            url = reverse("admin:notifications_notification_change", args=[row.notification_id])
            links.append(Link(str(_("message")), url))
        entries.append(
            Entry(
                at=row.created_at,
                kind="notify",
                what=str(_("Notify %(scope)s") % {"scope": str(row.run.get_scope_display()).lower()}),
                status=str(row.get_action_display()) + (f": {reason_in_words(row.reason)}" if omitted else ""),
                why=str(_("clicked by %(name)s") % {"name": _who(row.run.actor) or "—"}),
                problem=omitted,
                links=tuple(links),
                order=(row.pk,),
            )
        )
    return total, entries
