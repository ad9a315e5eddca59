"""A look before a mass send (issue 18, "Mass email from a plain Save"): publishing, cancelling and new dates
show who will get what, and nothing is written until the administrator confirms.

Issue 18: "Setting a session's status to Cancelled and pressing Save emailed 8 learners at once, with no
confirmation and no reason. Publish invites everyone and only says '1 session published'."
"""

import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from live_sessions.models import LiveSession, SessionLearner
from notifications.models import Notification

from .conftest import make_learner, make_session, received_the_calendar_file, session_form_data, shown_inputs
from .test_admin_learners import enrol, messages_of, session_page, staff_with

pytestmark = pytest.mark.django_db

Status = SessionLearner.Status
Sent = Notification.Status


@pytest.fixture
def boss_client(client, admin_user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(admin_user)
    return client


def eight_learners(session, status=Status.REGISTERED):
    """Issue 18's eight learners: three languages, one without consent."""
    rows = []
    for language, n in (("en", 3), ("fr", 2), ("pl", 2)):
        for _ in range(n):
            rows.append(
                SessionLearner.objects.create(session=session, learner=make_learner(language=language), status=status)
            )
    no_consent = make_learner(language="fr", consent_given_at=None, first_name="Zofia")
    rows.append(SessionLearner.objects.create(session=session, learner=no_consent, status=status))
    return rows


def page_url(session, what):
    return reverse(f"admin:live_sessions_livesession_{what}", args=[session.pk])


def test_a_plain_save_with_status_cancelled_tells_nobody_and_shows_who_would_be_told(boss_client, settings):
    """The attack of issue 18: the session form posted with status Cancelled. Before: eight emails at once."""
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    eight_learners(session)
    page = boss_client.post(session_page(session), session_form_data(session, status="cancelled"), follow=True)
    assert page.request["PATH_INFO"] == page_url(session, "cancel")
    assert not Notification.objects.exists()
    session.refresh_from_db()
    assert session.status == LiveSession.Status.READY
    assert not session.session_learners.filter(status=Status.CANCELLED).exists()
    text = page.content.decode()
    # Counts per channel and language, those omitted and why, one sample with its subject.
    assert "<td>Email</td><td>English</td><td>3</td>" in text
    assert "<td>Email</td><td>French</td><td>2</td>" in text
    assert "<td>Email</td><td>Polish</td><td>2</td>" in text
    assert "7 messages will go." in text
    assert "the learner has not consented to receive messages" in text and "Zofia" in text
    assert "Cancelled: First aid workshop" in text
    assert "not held for confirmation again" in text


def test_cancelling_needs_a_reason_and_the_learners_read_it_in_their_language(boss_client, settings):
    """Issue 18: "Cancel takes a reason that goes into the message", en/fr/pl; confirmed, the messages are the
    administrator's and go at once (email confirmation is required by default for the system's own)."""
    settings.TIME_ZONE = "UTC"
    session = make_session(status=LiveSession.Status.READY)
    eight_learners(session)
    page = boss_client.get(page_url(session, "cancel"))
    refused = boss_client.post(page_url(session, "cancel"), {**shown_inputs(page), "reason": "   "})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert not Notification.objects.exists()
    response = boss_client.post(
        page_url(session, "cancel"), {**shown_inputs(page), "reason": "Trainer ill / formateur malade"}, follow=True
    )
    assert any("7 messages sent, 1 omitted" in m for m in messages_of(response))
    rows = Notification.objects.filter(event="session.cancelled", recipient_learner__isnull=False)
    assert {row.status for row in rows if row.reason != "no_consent"} == {Sent.QUEUED}
    words = {"en": "Reason: Trainer ill", "fr": "Motif : Trainer ill", "pl": "Powód: Trainer ill"}
    for row in rows.exclude(status=Sent.OMITTED):
        assert words[row.language] in row.body, row.language
    assert rows.get(status=Sent.OMITTED).reason == "no_consent"
    session.refresh_from_db()
    assert session.status == LiveSession.Status.CANCELLED


def test_the_cancel_action_leads_to_the_confirmation_page(boss_client):
    session = make_session(status=LiveSession.Status.READY)
    data = {"action": "cancel_sessions", "_selected_action": [session.pk]}
    page = boss_client.post(reverse("admin:live_sessions_livesession_changelist"), data, follow=True)
    assert page.request["PATH_INFO"] == page_url(session, "cancel")
    assert "Reason for the cancellation" in page.content.decode()
    session.refresh_from_db()
    assert session.status == LiveSession.Status.READY


def test_publishing_shows_who_will_be_invited_and_invites_as_the_administrator_once_confirmed(boss_client):
    """Issue 18: "Publish invites everyone and only says '1 session published'." Now a look first, with a sample
    whose links are masked (a link is the learner's bearer token, never shown live to staff)."""
    session = make_session()
    eight_learners(session, status=Status.NOT_INVITED)
    page = boss_client.get(page_url(session, "publish"))
    text = page.content.decode()
    assert "7 messages will go." in text and "the learner has not consented" in text
    assert not Notification.objects.exists()
    response = boss_client.post(page_url(session, "publish"), shown_inputs(page), follow=True)
    assert any("Published. 7 messages sent, 1 omitted." in m for m in messages_of(response))
    statuses = set(Notification.objects.filter(event="session.invitation").values_list("status", flat=True))
    assert statuses == {Sent.QUEUED, Sent.OMITTED}  # not awaiting confirmation: the administrator confirmed
    sent = Notification.objects.filter(event="session.invitation", status=Sent.QUEUED).first()
    (link,) = set(re.findall(r"https?://\S+/a/[^\s/]+/", sent.body))
    assert link not in text and "…" in text  # the sample's links were masked


def test_a_learner_added_since_the_page_was_shown_asks_again_and_nothing_is_sent(boss_client):
    """Issue 18: the page posts a token of what it showed; a concurrent change asks again."""
    session = make_session()
    enrol(session, [Status.NOT_INVITED])
    page = boss_client.get(page_url(session, "publish"))
    enrol(session, [Status.NOT_INVITED])  # another administrator adds a learner meanwhile
    again = boss_client.post(page_url(session, "publish"), shown_inputs(page))
    assert "changed in the meantime" in again.content.decode() and "2 messages will go." in again.content.decode()
    session.refresh_from_db()
    assert session.status == LiveSession.Status.DRAFT and not Notification.objects.exists()
    done = boss_client.post(page_url(session, "publish"), shown_inputs(again), follow=True)
    assert done.status_code == 200 and Notification.objects.count() == 2


def test_without_the_change_permission_the_pages_refuse_and_nothing_is_sent(client):
    session = make_session(status=LiveSession.Status.READY)
    enrol(session, [Status.REGISTERED])
    draft = make_session()
    enrol(draft, [Status.NOT_INVITED])
    client.force_login(staff_with("view_livesession"))
    assert client.get(page_url(session, "cancel")).status_code == 403
    assert client.post(page_url(session, "cancel"), {"reason": "x", "confirm": "1"}).status_code == 403
    assert client.post(page_url(draft, "publish"), {"confirm": "1"}).status_code == 403
    assert not Notification.objects.exists()
    assert LiveSession.objects.get(pk=session.pk).status == LiveSession.Status.READY


def test_the_change_dates_page_shows_who_will_get_the_new_dates(boss_client):
    session = make_session(status=LiveSession.Status.READY)
    registered, invited, _declined = enrol(session, [Status.REGISTERED, Status.INVITED, Status.DECLINED], language="pl")
    received_the_calendar_file(registered, invited)  # new dates go to those holding the calendar file
    before = Notification.objects.count()
    text = boss_client.get(reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])).content
    assert "<td>Email</td><td>Polish</td><td>2</td>" in text.decode()
    assert Notification.objects.count() == before


def many_learners(session, n, status):
    from learners.models import Learner

    start = Learner.objects.count()
    learners = Learner.objects.bulk_create(
        Learner(
            email=f"many{start + i}@example.com",
            first_name="Many",
            last_name=f"L{start + i:05d}",
            language=lang,
            consent_given_at=None if i % 4 == 0 else timezone.now(),
        )
        for i, lang in zip(range(n), itertools.cycle(["en", "fr", "pl"]), strict=False)
    )
    SessionLearner.objects.bulk_create(SessionLearner(session=session, learner=x, status=status) for x in learners)


def test_with_2000_learners_the_look_publishing_and_the_session_page_cost_the_same_queries_as_with_5(
    boss_client, django_assert_max_num_queries
):
    """Issue 18, "Done when": publish, the confirmation page and the session page keep a fixed number of queries
    (a quarter of the learners have no consent: omitted ones cost nothing more)."""
    session = make_session(capacity=0)
    many_learners(session, 5, Status.NOT_INVITED)
    publish, cancel, page = page_url(session, "publish"), page_url(session, "cancel"), session_page(session)
    with CaptureQueriesContext(connection) as small_look:
        look = boss_client.get(publish)
    many_learners(session, 1995, Status.NOT_INVITED)
    with django_assert_max_num_queries(len(small_look)):
        look = boss_client.get(publish)
    text = look.content.decode()
    silent = session.session_learners.filter(learner__consent_given_at__isnull=True).count()
    assert f"{2000 - silent} messages will go." in text and f"{silent} messages will be omitted" in text

    small = make_session(title="Small", capacity=0)
    many_learners(small, 5, Status.NOT_INVITED)
    small_page = boss_client.get(page_url(small, "publish"))
    with CaptureQueriesContext(connection) as small_publish:
        boss_client.post(page_url(small, "publish"), shown_inputs(small_page))
    with django_assert_max_num_queries(len(small_publish)):
        done = boss_client.post(publish, shown_inputs(look))
    assert done.status_code == 302 and Notification.objects.filter(event="session.invitation").count() == 2005

    with CaptureQueriesContext(connection) as small_pages:
        boss_client.get(session_page(small))
        boss_client.get(page_url(small, "cancel"))
    with django_assert_max_num_queries(len(small_pages)):
        assert boss_client.get(page).status_code == 200
        assert boss_client.get(cancel).status_code == 200
