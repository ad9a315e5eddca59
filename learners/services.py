"""State changes of learners (seed 002 §I: invitations)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from notifications.services import (
    Origin,
    OutgoingMessage,
    Recipient,
    cancel_waiting_for_learners,
    make_action_url,
    person_values,
    send_all,
)

from .models import ConsentRecord, GroupMembership, Invitation, Language, Learner, LearnerGroup


def invite(learner, *, actor=None, source=Invitation.Source.MANUAL, send_email=True) -> Invitation:
    """Create a pending invitation; a manual invitation is emailed with an accept/decline link.

    Learners created in bulk (file import, HR integration) are never emailed
    (seed 002 §I), whatever `send_email` says.
    """
    with transaction.atomic():
        invitation = Invitation.objects.create(learner=learner, source=source, created_by=actor)
        if not send_email or source != Invitation.Source.MANUAL:
            return invitation
        # An administrator's invitation, sent by hand: not held for confirmation unless a rule says so.
        rows = send_all([invitation_message(invitation, event="invitation.sent", actor=actor)], origin=Origin.ADMIN)
        if any(row.status != row.Status.OMITTED for row in rows):
            invitation.sent_at = timezone.now()
            invitation.save(update_fields=["sent_at"])
    return invitation


def invitation_message(invitation, *, event, occurrence=None, actor=None):
    """The email carrying an invitation's accept/decline link (also used by reminders and Notify)."""
    recipient = Recipient(learner=invitation.learner)
    action_url = make_action_url(purpose="invitation", obj=invitation, recipient=recipient)
    return OutgoingMessage(
        event=event,
        channel="email",
        recipient=recipient,
        occurrence=occurrence or f"inv{invitation.pk}",
        context={"learner": person_values(invitation.learner), "action_url": action_url},
        refs={"invitation": invitation.pk},
        actor=actor,
    )


def respond_to_invitation(invitation, *, accept: bool) -> bool:
    """Record the learner's answer; False (and nothing changes) when it was already answered."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != Invitation.Status.PENDING:
            invitation.status, invitation.responded_at = locked.status, locked.responded_at
            return False
        locked.status = Invitation.Status.ACCEPTED if accept else Invitation.Status.DECLINED
        locked.responded_at = timezone.now()
        locked.save(update_fields=["status", "responded_at"])
    invitation.status, invitation.responded_at = locked.status, locked.responded_at
    return True


def link_imported_learners(
    links, *, new_emails, source=Invitation.Source.BULK_IMPORT, actor=None, consents=None
) -> None:
    """After a file import (seed 002 §I): managers by email, group memberships, an invitation recorded for
    each new learner — never emailed — and the consents of the file (seed 004; `consents` is
    {email: (given, at)}, recorded with the source "import"). `links` is [(email, manager email or "",
    [group names])], emails in lower case. A fixed number of queries per 2,000 learners."""

    emails = {email for email, _manager, _groups in links} | {manager for _e, manager, _g in links if manager}
    ids = dict(
        Learner.objects.annotate(email_ci=Lower("email")).filter(email_ci__in=emails).values_list("email_ci", "pk")
    )
    group_ids = dict(LearnerGroup.objects.values_list("name", "pk"))
    managed = [Learner(pk=ids[email], manager_id=ids[manager]) for email, manager, _g in links if manager]
    Learner.objects.bulk_update(managed, ["manager"], batch_size=2000)
    now = timezone.now()
    memberships = [
        GroupMembership(learner_id=ids[email], group_id=group_ids[name], joined_at=now)
        for email, _manager, groups in links
        for name in groups
    ]
    GroupMembership.objects.bulk_create(memberships, ignore_conflicts=True, batch_size=2000)
    Invitation.objects.bulk_create(
        [Invitation(learner_id=ids[email], source=source, created_by=actor, created_at=now) for email in new_emails],
        batch_size=2000,
    )
    if consents:
        record_consents(
            [(ids[email], given, at) for email, (given, at) in consents.items()],
            source=ConsentRecord.Source.IMPORT,
            actor=actor,
        )


def invite_many(learners, *, actor=None, send_email=True) -> list[Invitation]:
    """Invite several learners from the admin (seed 002 §I); learners with an invitation still pending are
    left as they are (their reminders are on their way)."""
    pending = set(
        Invitation.objects.filter(learner__in=learners, status=Invitation.Status.PENDING).values_list(
            "learner_id", flat=True
        )
    )
    return [invite(learner, actor=actor, send_email=send_email) for learner in learners if learner.pk not in pending]


CONSENT_WITHDRAWN = "consent_withdrawn"


def record_consent(learners, *, given: bool, at=None, source, actor=None, note="") -> int:
    """Record that these learners gave (or withdrew) their consent (seed 004), `at` a moment (now by default).

    Set-based: a fixed number of queries whatever the number of learners. Returns how many learners."""
    at = at or timezone.now()
    return record_consents(
        [(learner, given, at) for learner in _learner_ids(learners)], source=source, actor=actor, note=note
    )


def record_consents(entries, *, source, actor=None, note="") -> int:
    """Each (learner or pk, given, at) becomes a consent record; `Learner.consent_given_at` follows:
    the date of a consent given, nothing after a withdrawal, and whatever waits for a learner who withdrew
    (queued or awaiting confirmation, to her or to her guardians) is cancelled with the reason
    "consent_withdrawn". A fixed number of queries per 2,000 learners."""
    entries = [(getattr(learner, "pk", learner), bool(given), at) for learner, given, at in entries]
    if not entries:
        return 0
    with transaction.atomic():
        ConsentRecord.objects.bulk_create(
            [
                ConsentRecord(learner_id=pk, given=given, at=at, source=source, recorded_by=actor, note=note[:300])
                for pk, given, at in entries
            ],
            batch_size=2000,
        )
        Learner.objects.bulk_update(
            [Learner(pk=pk, consent_given_at=at if given else None) for pk, given, at in entries],
            ["consent_given_at"],
            batch_size=2000,
        )
        withdrawn = [pk for pk, given, _at in entries if not given]
        if withdrawn:
            cancel_waiting_for_learners(withdrawn, reason=CONSENT_WITHDRAWN)
    return len(entries)


def _learner_ids(learners) -> list[int]:
    if hasattr(learners, "values_list"):
        return list(learners.order_by().values_list("pk", flat=True))
    return [getattr(learner, "pk", learner) for learner in learners]


class WalkInRefused(ValueError):
    """A walk-in the trainer cannot add as new: the message says why, in the trainer's language."""


def create_walk_in(*, first_name: str, last_name: str, email: str, language: str = "") -> Learner:
    """A person who turned up at a live session without being a learner yet, as a trainer typed them:
    inactive and awaiting an administrator's review, without consent (so nothing is sent to her) and with
    no invitation. An address already known is refused without saying whose it is: the trainer finds a learner
    by name, never by address."""
    first_name, last_name, email = first_name.strip(), last_name.strip(), email.strip()
    if not first_name or not last_name:
        raise WalkInRefused(gettext("Give the walk-in's first and last name."))
    try:
        validate_email(email)
    except ValidationError:
        raise WalkInRefused(gettext("“%(email)s” is not an e-mail address.") % {"email": email}) from None
    known = gettext("This e-mail address is already known: search for the learner by name, or ask an administrator.")
    if Learner.objects.filter(email__iexact=email).exists():
        raise WalkInRefused(known)
    fields = {"first_name": first_name[:150], "last_name": last_name[:150], "email": email}
    if language in Language.values:
        fields["language"] = language
    try:
        with transaction.atomic():
            return Learner.objects.create(**fields, is_active=False, needs_review=True)
    except IntegrityError:  # the same address typed by another trainer at the same moment
        raise WalkInRefused(known) from None


def review_walk_ins(learners) -> int:
    """An administrator has checked these walk-ins: they become active learners. Returns how many."""
    return Learner.objects.filter(pk__in=_learner_ids(learners), needs_review=True).update(
        needs_review=False, is_active=True
    )
