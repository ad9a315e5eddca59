"""Signed action links in messages (CONTRACT "Links in messages"; seed 002 §I invitations).

GET never changes anything; POST with `decision` acts once; a tampered link
is refused with 400, an expired one with 410, a vanished object with 404.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.utils import timezone

from learners.models import Invitation, Learner
from notifications import links
from notifications.links import make_action_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    return Learner.objects.create(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", consent_given_at=timezone.now()
    )


@pytest.fixture
def invitation(learner):
    return Invitation.objects.create(learner=learner, sent_at=timezone.now())


def path_of(url):
    from django.conf import settings

    assert url.startswith(settings.SITE_URL + "/a/")
    return url[len(settings.SITE_URL) :]


def invitation_path(invitation, *, days=30, recipient=None):
    return path_of(
        make_action_url(
            purpose="invitation",
            obj=invitation,
            recipient=recipient or f"l{invitation.learner_id}",
            expires_in=timedelta(days=days),
        )
    )


def test_opening_the_link_shows_a_form_and_changes_nothing(client, invitation):
    response = client.get(invitation_path(invitation))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="decision"' in content and 'value="accept"' in content and 'value="decline"' in content
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_at) == ("pending", None)


def test_posting_accept_records_the_answer(client, invitation):
    response = client.post(invitation_path(invitation), {"decision": "accept"})
    assert response.status_code == 200
    assert "accepted" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.responded_at is not None


def test_posting_without_a_csrf_token_works_because_the_signed_link_is_the_protection(invitation):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(invitation_path(invitation), {"decision": "decline"})
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == "declined"


def test_replaying_the_post_is_harmless_and_shows_the_existing_answer(client, invitation):
    path = invitation_path(invitation)
    client.post(path, {"decision": "decline"})
    invitation.refresh_from_db()
    first_answer = (invitation.status, invitation.responded_at)
    response = client.post(path, {"decision": "accept"})
    assert response.status_code == 200
    assert "already answered" in response.content.decode()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_at) == first_answer == ("declined", first_answer[1])
    assert "already answered" in client.get(path).content.decode()


def test_an_invalid_decision_is_refused_with_400_and_changes_nothing(client, invitation):
    response = client.post(invitation_path(invitation), {"decision": "maybe"})
    assert response.status_code == 400
    assert "not one of the choices" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_tampered_link_is_refused_with_400(client, invitation):
    path = invitation_path(invitation)
    token = path.split("/")[2]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = client.post(f"/a/{tampered}/", {"decision": "accept"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_changing_the_object_in_the_token_breaks_the_signature(client, learner, invitation):
    """A token is bound to one object: pointing it at another invitation is tampering."""
    other = Invitation.objects.create(learner=learner)
    token = invitation_path(invitation).split("/")[2]
    payload = signing.loads(token, salt=links.ACTION_SALT)
    value, _sep, signature = token.rpartition(":")
    forged_payload = signing.dumps({**payload, "o": other.pk}, salt=links.ACTION_SALT, compress=True)
    forged = forged_payload.rpartition(":")[0] + ":" + signature
    assert client.post(f"/a/{forged}/", {"decision": "accept"}).status_code == 400
    other.refresh_from_db()
    assert other.status == "pending"


def test_a_token_of_another_purpose_is_refused_with_400(client, learner, invitation):
    """Wrong-purpose reuse: an inbox link's token or an unknown purpose cannot act on an invitation."""
    inbox_token = links.make_inbox_url(recipient=learner).rstrip("/").split("/")[-1]
    assert client.post(f"/a/{inbox_token}/", {"decision": "accept"}).status_code == 400
    other_purpose = path_of(
        make_action_url(purpose="no.such.purpose", obj=invitation, recipient=learner, expires_in=timedelta(days=1))
    )
    assert client.post(other_purpose, {"decision": "accept"}).status_code == 400
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_link_for_another_recipient_is_refused_with_400(client, invitation):
    """The token binds one recipient: someone else's key cannot answer this learner's invitation."""
    response = client.post(invitation_path(invitation, recipient="l999999"), {"decision": "accept"})
    assert response.status_code == 400
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_an_expired_link_is_refused_with_410(client, invitation):
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        path = invitation_path(invitation, days=30)
    with time_machine.travel(datetime(2026, 1, 30, tzinfo=UTC), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(datetime(2026, 2, 1, tzinfo=UTC), tick=False):
        response = client.post(path, {"decision": "accept"})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_link_to_a_deleted_object_shows_a_404_page(client, invitation):
    path = invitation_path(invitation)
    invitation.delete()
    response = client.get(path)
    assert response.status_code == 404
    assert "no longer exists" in response.content.decode()


def test_garbage_tokens_never_give_a_500(client):
    for token in ["x", "a" * 500, "eyJ:abc", "%00", ":::", "e30:1abc:xyz"]:
        assert client.get(f"/a/{token}/").status_code == 400


def test_links_are_absolute_under_site_url(settings, invitation):
    settings.SITE_URL = "https://learn.example.org"
    url = make_action_url(purpose="invitation", obj=invitation, recipient="l1", expires_in=timedelta(days=1))
    assert url.startswith("https://learn.example.org/a/")


@pytest.mark.django_db(transaction=True)
def test_two_answers_posted_at_the_same_moment_record_exactly_one():
    """Exactly-once comes from the row lock: the second POST sees the first answer."""
    import threading

    from django.db import connection
    from django.test import Client

    ada = Learner.objects.create(email="race@example.com", first_name="R", last_name="Ace")
    invitation = Invitation.objects.create(learner=ada)
    path = invitation_path(invitation)
    barrier = threading.Barrier(2)
    statuses = []

    def answer(decision):
        try:
            barrier.wait()
            response = Client().post(path, {"decision": decision})
            statuses.append((response.status_code, "already answered" in response.content.decode()))
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(d,)) for d in ("accept", "decline")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    invitation.refresh_from_db()
    assert invitation.status in ("accepted", "declined") and invitation.responded_at is not None
    assert sorted(statuses) == [(200, False), (200, True)]


@pytest.mark.parametrize(
    "payload",
    [
        {"p": "invitation", "o": "OBJ", "r": "KEY", "e": 10**30},
        {"p": "invitation", "o": "OBJ", "r": "KEY", "e": 2**62},
        {"p": "invitation", "o": "OBJ", "r": "KEY", "e": 1.5e9},
        {"p": ["invitation"], "o": "OBJ", "r": "KEY", "e": 1_900_000_000},
        {"p": {"x": 1}, "o": "OBJ", "r": "KEY", "e": 1_900_000_000},
        {"p": "invitation", "o": "1; drop", "r": "KEY", "e": 1_900_000_000},
        {"p": "invitation", "o": [1], "r": "KEY", "e": 1_900_000_000},
        {"p": "invitation", "o": 10**40, "r": "KEY", "e": 1_900_000_000},
        {"p": "invitation", "o": True, "r": "KEY", "e": 1_900_000_000},
        {"p": "invitation", "o": "OBJ", "r": 7, "e": 1_900_000_000},
        {"p": "invitation", "o": "OBJ", "r": "l" + "9" * 40, "e": 1_900_000_000},
        "just a string",
    ],
    ids=lambda p: repr(p)[:50],
)
def test_validly_signed_absurd_action_tokens_answer_400_never_500(client, invitation, payload):
    """Issue 7: a huge expiry, a purpose of the wrong type, a non-int object: 400, nothing changes."""
    real = {"OBJ": invitation.pk, "KEY": f"l{invitation.learner_id}"}
    if isinstance(payload, dict):
        payload = {k: real.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    token = signing.dumps(payload, salt=links.ACTION_SALT, compress=True)
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False):
        assert client.get(f"/a/{token}/").status_code == 400
        assert client.post(f"/a/{token}/", {"decision": "accept"}).status_code == 400
    assert not Invitation.objects.exclude(status="pending").exists()


def test_a_signed_token_holding_a_number_too_long_to_read_answers_400(client):
    """json refuses integers of more than 4,300 digits with a ValueError: that must not become a 500."""
    import base64

    for field in ("e", "o"):
        payload = '{"p": "invitation", "o": 1, "r": "l1", "e": 1}'.replace(f'"{field}": 1', f'"{field}": {"9" * 5000}')
        encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        token = signing.TimestampSigner(salt=links.ACTION_SALT).sign(encoded)
        assert client.get(f"/a/{token}/").status_code == 400


def test_a_deactivated_learners_action_link_answers_nothing_and_changes_nothing(client, learner, invitation):
    """Issue 7: a deactivated learner gets nothing from old links."""
    path = invitation_path(invitation)
    Learner.objects.filter(pk=learner.pk).update(is_active=False)
    page = client.get(path)
    answer = client.post(path, {"decision": "accept"})
    assert page.status_code == answer.status_code == 403
    assert "no longer active" in answer.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_the_prepared_signer_signs_exactly_as_django_signs_so_every_link_reads_back():
    """The signer that derives its key once (Notify signs 100,000 links in a run) gives Django's own signatures."""
    prepared = links.PreparedSigner(key=settings.SECRET_KEY, salt="notifications.test")
    plain = signing.TimestampSigner(salt="notifications.test")
    for value in ("l12", "g3:é" * 40, ""):
        assert prepared.signature(value) == plain.signature(value)
        assert signing.loads(prepared.sign_object({"r": value}), salt="notifications.test") == {"r": value}
    payload = {"r": "l12", "e": 1999999999}
    assert prepared.sign_small(payload).rsplit(":", 2)[0] == plain.sign_object(payload).rsplit(":", 2)[0]
    assert signing.loads(prepared.sign_small(payload), salt="notifications.test") == payload


def test_an_inbox_link_made_for_a_batch_is_the_very_token_django_signs_and_reads_back():
    """Issue 17 (performance holds): the batch's inbox links are written without the JSON encoder and signed with
    one C call, yet each is byte for byte the token signing.dumps gives, which read_inbox_grant reads."""
    issued = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    expires_at = int((issued + timedelta(days=settings.INBOX_LINK_DAYS)).timestamp())
    plain = signing.TimestampSigner(salt=links.INBOX_SALT)
    with time_machine.travel(issued, tick=False):
        make = links.inbox_url_maker(issued_at=issued)
        for key in ("l1", "g42", "u7", "l9223372036854775807"):
            token = make(key).rstrip("/").rsplit("/", 1)[-1]
            assert token == plain.sign_object({"r": key, "e": expires_at})
            assert links.read_inbox_grant(token) == links.InboxGrant(recipient_key=key, expires_at=expires_at)
        assert make("l1") == links.make_inbox_url(recipient="l1", issued_at=issued)
        # A key the fast writing does not cover still gets Django's own JSON.
        prepared = links.PreparedSigner(key=settings.SECRET_KEY, salt=links.INBOX_SALT)
        assert prepared.sign_grant('l"1', expires_at) == plain.sign_object({"r": 'l"1', "e": expires_at})


def test_a_batch_inbox_link_altered_or_expired_is_refused_over_http(client, learner):
    """Issue 17: the faster signing changes nothing of the refusals: another learner's key, a longer life or a
    token past its seven days gets no inbox (400 tampered, 410 expired)."""
    issued = timezone.now()
    url = links.inbox_url_maker(issued_at=issued)(learner)
    body, stamp, signature = url.rstrip("/").rsplit("/", 1)[-1].split(":")
    local = url.removeprefix(settings.SITE_URL)
    prefix = local.rstrip("/").rsplit("/", 1)[0]
    for payload in ({"r": "l999", "e": 1}, {"r": links.recipient_key(learner), "e": 4102444800}):
        forged = signing.b64_encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
        assert client.get(f"{prefix}/{forged}:{stamp}:{signature}/").status_code == 400
    assert client.get("/inbox/").status_code == 403
    with time_machine.travel(issued + timedelta(days=settings.INBOX_LINK_DAYS, minutes=1), tick=False):
        assert client.get(local).status_code == 410
    assert client.get(local).status_code == 302
