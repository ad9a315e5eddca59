"""Each learner's last message on the session page and in the export (issue 18).

Issue 18: "A learner without consent shows as 'Invited' on the session page and in the export, although nothing
was sent to her." The page and the export now say what happened to each learner's last message about the
session: sent, on its way, awaiting confirmation, omitted or cancelled with the reason, failed.
"""

from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from live_sessions import services
from live_sessions.models import SessionLearner
from notifications.models import Notification

from .conftest import make_learner, make_session
from .test_admin_learners import session_page

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status
Sent = Notification.Status
INVITATION = "Calendar invitation to a session"


@pytest.fixture
def boss_client(client, admin_user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(admin_user)
    return client


@pytest.fixture
def published():
    """A session published by the system (email held for confirmation by default): Zofia has no consent."""
    session = make_session()
    learners = {
        name: make_learner(first_name=name, consent_given_at=None if name == "Zofia" else timezone.now())
        for name in ("Zofia", "Sent", "Held", "Withdrawn", "Broken")
    }
    services.add_learners(session, list(learners.values()))
    services.publish(session)
    rows = {
        n: Notification.objects.get(recipient_learner=who, event="session.invitation") for n, who in learners.items()
    }
    Notification.objects.filter(pk=rows["Sent"].pk).update(status=Sent.SENT)
    Notification.objects.filter(pk=rows["Withdrawn"].pk).update(status=Sent.CANCELLED, reason="cancelled_by_admin")
    Notification.objects.filter(pk=rows["Broken"].pk).update(status=Sent.FAILED)
    return session, learners


WORDS = {
    "Zofia": f"Omitted (the learner has not consented to receive messages): {INVITATION}",
    "Sent": f"Sent: {INVITATION}",
    "Held": f"Awaiting confirmation: {INVITATION}",
    "Withdrawn": f"Cancelled (cancelled by an administrator): {INVITATION}",
    "Broken": f"Failed: {INVITATION}",
}


def test_the_session_page_shows_each_learners_last_message_not_only_invited(boss_client, published):
    session, _ = published
    page = boss_client.get(session_page(session)).content.decode()
    for words in WORDS.values():
        assert words in page


def test_the_export_shows_each_learners_last_message(published):
    session, learners = published
    data = services.export_learners(session, session.session_learners.all())
    sheet = load_workbook(BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    by_name = {row["First name"]: row for row in rows}
    for name, words in WORDS.items():
        assert by_name[name]["Status"] == "Invited"
        assert by_name[name]["Last message"] == words


def test_a_learner_not_yet_told_anything_reads_nothing_sent_yet(boss_client):
    session = make_session()
    services.add_learners(session, [make_learner(first_name="Quiet")])
    assert "Nothing sent yet" in boss_client.get(session_page(session)).content.decode()


def test_a_message_about_another_session_is_not_taken_for_this_ones(boss_client, published):
    """The last message is the one about this session: Zofia's invitation to another session does not count."""
    session, learners = published
    other = make_session(title="Other")
    services.add_learners(other, [learners["Zofia"]])
    services.publish(other)
    page = boss_client.get(session_page(session)).content.decode()
    assert WORDS["Zofia"] in page
