"""Inviting a learner to sign in (seed 002 §I): a manual invitation is emailed with a
signed accept/decline link; learners created by file import or HR integration are never emailed."""

import pytest
from django.conf import settings
from django.utils import timezone

from learners.models import Invitation, Learner
from learners.services import invite, respond_to_invitation
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    return Learner.objects.create(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", language="fr", consent_given_at=timezone.now()
    )


def test_a_manual_invitation_queues_one_email_with_a_working_link(client, learner, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    invitation = invite(learner, actor=admin)

    assert invitation.status == Invitation.Status.PENDING and invitation.sent_at is not None
    [email] = Notification.objects.all()
    assert (email.event, email.channel, email.status, email.to) == ("invitation.sent", "email", "queued", learner.email)
    assert email.dedupe_key == f"invitation.sent:l{learner.pk}:email:inv{invitation.pk}"
    assert email.context == {"invitation": invitation.pk}
    assert email.subject == "Vous êtes invité(e) sur la plateforme de formation"  # the learner's language
    link = next(word for word in email.body.split() if word.startswith(settings.SITE_URL + "/a/"))

    response = client.post(link[len(settings.SITE_URL) :], {"decision": "accept"})
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


@pytest.mark.parametrize("source", [Invitation.Source.BULK_IMPORT, Invitation.Source.INTEGRATION])
def test_bulk_import_and_integration_never_email(learner, source):
    invitation = invite(learner, source=source)
    assert invitation.status == Invitation.Status.PENDING and invitation.sent_at is None
    assert invitation.source == source
    assert not Notification.objects.exists()


def test_send_email_off_creates_the_invitation_only(learner):
    invitation = invite(learner, send_email=False)
    assert Invitation.objects.get() == invitation and invitation.sent_at is None
    assert not Notification.objects.exists()


def test_without_consent_the_email_is_omitted_and_the_invitation_not_marked_sent(learner):
    """Seed 004: nothing is sent to a learner without consent; the outbox records why."""
    learner.consent_given_at = None
    learner.save()
    invitation = invite(learner)
    assert invitation.sent_at is None
    assert Notification.objects.get().reason == "no_consent"


def test_answering_twice_keeps_the_first_answer(learner):
    invitation = invite(learner, send_email=False)
    assert respond_to_invitation(invitation, accept=False) is True
    responded_at = invitation.responded_at
    assert respond_to_invitation(invitation, accept=True) is False
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_at) == (Invitation.Status.DECLINED, responded_at)
