"""Issue 16 (Low), attacked over HTTP: failed sign-ins on /admin/login/ and /trainer/login/ are throttled.

django-axes counts failures per user name and address (settings: AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME):
after the limit, even the right password is refused for a while with a clear message, while the same user
from another address and another user from the same address still sign in.
"""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from live_sessions.trainers import TRAINERS_GROUP

pytestmark = pytest.mark.django_db

LOCKED = "Account locked: too many login attempts"
ATTACKER, COLLEAGUE = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(django_user_model):
    trainers = Group.objects.get_or_create(name=TRAINERS_GROUP)[0]
    boss = django_user_model.objects.create_user("boss", password="right-pw", is_staff=True, is_superuser=True)
    other = django_user_model.objects.create_user("other", password="other-pw", is_staff=True, is_superuser=True)
    tom = django_user_model.objects.create_user("tom", password="right-pw")
    tom.groups.add(trainers)
    return boss, other, tom


def sign_in(url, username, password, *, address):
    client = Client(REMOTE_ADDR=address)
    response = client.post(url, {"username": username, "password": password})
    return response, client


@pytest.mark.parametrize(
    ("url", "username", "home"),
    [("/admin/login/", "boss", "/admin/"), ("/trainer/login/", "tom", "/trainer/")],
    ids=["admin", "trainer"],
)
def test_guessing_a_password_locks_that_user_from_that_address_for_a_while(users, url, username, home):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            response, _client = sign_in(url, username, "guess", address=ATTACKER)
            assert response.status_code in (200, 429)

        response, client = sign_in(url, username, "right-pw", address=ATTACKER)
        assert response.status_code == 429 and LOCKED in response.content.decode()
        assert "_auth_user_id" not in client.session
        assert client.get(home).status_code == 302  # still sent to sign in

        # The lock names this user at this address only.
        response, client = sign_in(url, username, "right-pw", address=COLLEAGUE)
        assert response.status_code == 302 and "_auth_user_id" in client.session
        response, client = sign_in("/admin/login/", "other", "other-pw", address=ATTACKER)
        assert response.status_code == 302 and "_auth_user_id" in client.session

    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(minutes=1), tick=False):
        response, client = sign_in(url, username, "right-pw", address=ATTACKER)
        assert response.status_code == 302 and "_auth_user_id" in client.session


def test_a_few_typing_mistakes_do_not_lock_anyone_out(users):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("/admin/login/", "boss", "typo", address=COLLEAGUE)
    response, client = sign_in("/admin/login/", "boss", "right-pw", address=COLLEAGUE)
    assert response.status_code == 302 and "_auth_user_id" in client.session
