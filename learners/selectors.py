"""Read-side queries for learners, each a fixed number of queries whatever the number of learners."""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from .models import GroupMembership, Learner, LearnerGroup


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
    from programs.models import Assignment, ELearningEnrollment

    items = [
        {"title": a.program.title, "due": a.due_at}
        for a in Assignment.objects.filter(
            learner=learner, completed_at__isnull=True, unassigned_at__isnull=True
        ).select_related("program")
    ]
    items += [
        {"title": e.course.title, "due": e.ends_on}
        for e in ELearningEnrollment.objects.filter(learner=learner, completed_at__isnull=True).select_related("course")
    ]
    return sorted(items, key=lambda item: (item["due"] is None, str(item["due"] or "")))
