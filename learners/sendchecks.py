"""Send-time checks about learners' invitations (discovered by notifications at start-up)."""

from notifications.services import register_send_check

from .models import Invitation


@register_send_check("invitation.reminder")
@register_send_check("notify.invitation")
def invitation_still_pending(notifications) -> dict[int, str]:
    """An invitation reminder is pointless once the learner accepted or declined (seed 002, seed 000)."""
    wanted = {}
    for row in notifications:
        invitation_id = (row.context or {}).get("invitation")
        if invitation_id is not None:
            wanted[row.pk] = int(invitation_id)
    if not wanted:
        return {}
    statuses = dict(Invitation.objects.filter(pk__in=set(wanted.values())).values_list("pk", "status"))
    reasons = {}
    for pk, invitation_id in wanted.items():
        status = statuses.get(invitation_id)
        if status is None:
            reasons[pk] = "invitation_deleted"
        elif status != Invitation.Status.PENDING:
            reasons[pk] = f"invitation_{status}"
    return reasons
