"""Seed 002 §I: an administrator invites one or several learners from the admin, with the
"send the invitation" toggle on by default."""

import pytest
from django.utils import timezone

from learners.models import Invitation, Learner
from notifications.models import Notification

pytestmark = pytest.mark.django_db

ADD = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "language": "en",
    "timezone": "UTC",
    "is_active": "on",
    "consent_given_at_0": "2026-01-01",
    "consent_given_at_1": "09:00:00",
    **{
        f"{prefix}-{key}": value
        for prefix in ("guardians", "memberships", "assignments", "invitations")
        for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
    },
}


def test_seed_002_the_add_page_has_the_invitation_toggle_on_by_default(admin_client):
    form = admin_client.get("/admin/learners/learner/add/").context["adminform"].form
    assert form["send_invitation"].value() is True
    assert str(form["send_invitation"]).endswith(" checked>")


def test_seed_002_adding_a_learner_with_the_toggle_on_emails_the_invitation(admin_client):
    response = admin_client.post("/admin/learners/learner/add/", {**ADD, "send_invitation": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    invitation = Invitation.objects.get(learner__email="ada@example.com")
    assert invitation.source == "manual" and invitation.sent_at is not None
    assert Notification.objects.get().event == "invitation.sent"


def test_seed_002_adding_a_learner_with_the_toggle_off_sends_nothing(admin_client):
    response = admin_client.post("/admin/learners/learner/add/", ADD)
    assert response.status_code == 302
    assert Invitation.objects.get().sent_at is None
    assert not Notification.objects.exists()


def test_seed_002_inviting_several_learners_at_once(admin_client):
    learners = [
        Learner.objects.create(
            email=f"l{i}@example.com", first_name="L", last_name=str(i), consent_given_at=timezone.now()
        )
        for i in range(3)
    ]
    ids = [learner.pk for learner in learners]
    page = admin_client.post("/admin/learners/learner/", {"action": "invite", "_selected_action": ids})
    assert page.status_code == 200 and 'name="send_invitation"' in page.content.decode()
    assert not Invitation.objects.exists()
    admin_client.post(
        "/admin/learners/learner/",
        {"action": "invite", "_selected_action": ids, "confirm": "1", "send_invitation": "on"},
    )
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 3
    assert Notification.objects.filter(event="invitation.sent").count() == 3
