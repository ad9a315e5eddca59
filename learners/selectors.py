"""Read-side queries for learners, each a fixed number of queries whatever the number of learners."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from lms_notify.timeline import Entry, Link, latest_moment, two_step_entries, who
from programs.models import Assignment, ELearningEnrollment

from .models import GroupMembership, Invitation, Learner, LearnerGroup


def learners_for_admin(queryset=None):
    """Learners with their manager joined and `groups_count` annotated (one query for a page)."""
    queryset = Learner.objects.all() if queryset is None else queryset
    # A subquery rather than Count(join) so filtering on groups cannot multiply the count.
    counts = (
        GroupMembership.objects.filter(learner=OuterRef("pk"))
        .order_by()
        .values("learner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.select_related("manager").annotate(groups_count=Coalesce(Subquery(counts), 0))


def groups_with_counts(queryset=None):
    """Groups annotated with `members_count` and `programs_count`."""
    queryset = LearnerGroup.objects.all() if queryset is None else queryset
    return queryset.annotate(
        members_count=Count("memberships", distinct=True),
        programs_count=Count("programs", distinct=True),
    )


def training_to_start(learner) -> list[dict]:
    """The learner's open programs and unfinished e-learning courses, soonest due first (two queries)."""
    items = [
        {"title": a.program.title, "due": a.due_at}
        for a in Assignment.objects.open().filter(learner=learner).select_related("program")
    ]
    items += [
        {"title": e.course.title, "due": e.ends_on}
        for e in ELearningEnrollment.objects.filter(learner=learner, completed_at__isnull=True).select_related("course")
    ]
    return sorted(items, key=lambda item: (item["due"] is None, str(item["due"] or "")))


def timeline_invitations(*, learner, filters, limit):
    """The learner's invitations to the platform and her answers (timeline): two queries."""
    if filters.kind not in ("", "invitation") or filters.names_a_message_state:
        return 0, []
    created, responded = filters.range_lookups("created_at"), filters.range_lookups("responded_at")
    rows = Invitation.objects.filter(learner_id=learner.pk).filter(filters.either_in_range(created, responded))
    counts = rows.aggregate(
        made=Count("pk", filter=Q(**created)),
        answered=Count("pk", filter=Q(responded_at__isnull=False, **responded)),
    )
    rows = rows.select_related("created_by").order_by(latest_moment("created_at", "responded_at").desc(), "-pk")[:limit]

    def entry(row, at, status, why, problem=False):
        url = reverse("admin:learners_invitation_change", args=[row.pk])
        return Entry(
            at=at,
            kind="invitation",
            what=_("Invitation to the platform (%(source)s)") % {"source": row.get_source_display().lower()},
            status=str(status),
            why=str(why),
            problem=problem,
            links=(Link(_("invitation"), url),),
            order=(row.pk, at == row.created_at),
        )

    def made(row):
        status = _("Emailed") if row.sent_at else _("Recorded, not emailed")
        return entry(
            row, row.created_at, status, _("by %(name)s") % {"name": who(row.created_by)} if row.created_by_id else ""
        )

    def answered(row):
        if row.responded_at is None:
            return None
        declined = row.status == Invitation.Status.DECLINED
        return entry(row, row.responded_at, row.get_status_display(), _("answered by the learner"), problem=declined)

    entries = two_step_entries(rows, filters=filters, limit=limit, first=made, second=answered)
    return counts["made"] + counts["answered"], entries


def without_consent_count() -> int:
    """Active learners who have not consented: nothing reaches them (one query)."""
    return Learner.objects.filter(is_active=True, consent_given_at__isnull=True).count()
