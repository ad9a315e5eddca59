"""Read-only queries of the notifications admin pages (group figures, a learner's Notify history).

What the Notify checklist reads is in notifications.notify.selectors.
"""

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from learners.models import GroupMembership, LearnerGroup
from programs.models import Assignment

from .models import Notification, NotifyOutcome


class _SubqueryCount(Subquery):
    template = "(SELECT count(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def group_completion_figures():
    """Groups with their members and the completion of the training they require, in one query.

    Counts only assignments of the group's own programs held by its active
    members; unassigned ones do not count.
    """
    members = (
        GroupMembership.objects.filter(group=OuterRef("pk"), learner__is_active=True)
        .order_by()
        .values("group")
        .annotate(c=Count("pk"))
        .values("c")
    )
    group_assignments = Assignment.objects.filter(
        learner__memberships__group=OuterRef("pk"),
        learner__is_active=True,
        program__groups=OuterRef("pk"),
        unassigned_at__isnull=True,
    ).order_by()

    def count(qs):
        return _SubqueryCount(qs.values("pk"))

    groups = LearnerGroup.objects.annotate(
        member_count=Coalesce(Subquery(members, output_field=IntegerField()), 0),
        program_count=Count("programs", distinct=True),
        complete_count=count(group_assignments.filter(completed_at__isnull=False)),
        incomplete_count=count(group_assignments.filter(completed_at__isnull=True)),
    ).order_by("name")
    result = list(groups)
    for group in result:
        done, todo = group.complete_count, group.incomplete_count
        group.percent_complete = round(100 * done / (done + todo)) if done + todo else None
    return result


def learner_notify_history(learner, *, limit=20):
    """The learner's latest Notify outcomes, most recent first."""
    return list(
        NotifyOutcome.objects.filter(learner=learner)
        .select_related("run", "run__actor", "notification")
        .order_by("-created_at", "-pk")[:limit]
    )


def messages_needing_attention() -> dict:
    """Messages waiting for an administrator's confirmation, and failed messages (one query; home page).

    Bounced addresses join this panel once the outbox records them: a count here and a row in
    lms_notify.attention."""
    Status = Notification.Status
    return Notification.objects.filter(status__in=[Status.AWAITING_CONFIRMATION, Status.FAILED]).aggregate(
        awaiting_confirmation=Count("pk", filter=Q(status=Status.AWAITING_CONFIRMATION)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
    )
