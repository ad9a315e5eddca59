"""The go-show search finds a learner by name only (issue 16, Low: "The go-show search lets a trainer list every
learner's email two letters at a time").

The attack: a trainer searching "@", a domain or two letters at a time read every learner's email address off
the results. Now the search reads names only, needs 3 characters, shows at most 10 names and no address, and a
trainer gets 30 searches a minute.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from live_sessions.models import LiveSession
from live_sessions.trainers import GO_SHOW_RESULTS, trainers_group

from .conftest import make_learner, make_session, make_user

pytestmark = pytest.mark.django_db

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()


@pytest.fixture
def search(client, time_machine):
    """search(q) -> the attendance page a trainer of the session gets for the go-show search `q`."""
    time_machine.move_to("2030-03-04 08:05Z", tick=False)  # the minute of the rate limit stands still
    trainer = make_user("trainer")
    trainer.groups.add(trainers_group())
    session = make_session(status=LiveSession.Status.READY)
    session.trainers.add(trainer)
    client.force_login(trainer)

    def run(q):
        return client.get(reverse("trainer:attendance", args=[session.pk]), {"q": q}).content.decode()

    return run


def test_searching_an_email_fragment_lists_nobody_and_shows_no_address(search):
    make_learner(first_name="Grace", last_name="Hopper", email="grace.hopper@navy.example.com")
    for fragment in ("@", "navy", "@navy.example", "grace.hopper@", ".com"):
        page = search(fragment)
        assert "Grace Hopper" not in page, fragment
        assert not EMAIL.findall(page), fragment


def test_a_search_by_name_shows_the_name_and_no_email_address(search):
    make_learner(first_name="Grace", last_name="Hopper", email="grace.hopper@navy.example.com")
    page = search("hop")
    assert "Grace Hopper" in page
    assert not EMAIL.findall(page)


def test_two_letters_find_nobody(search):
    make_learner(first_name="Grace", last_name="Hopper")
    assert "Grace Hopper" not in search("ho")


def test_a_search_shows_at_most_ten_names(search):
    for n in range(GO_SHOW_RESULTS + 5):
        make_learner(first_name=f"Ann{n:02d}", last_name="Smith")
    assert len(re.findall(r"Ann\d\d Smith", search("smith"))) == GO_SHOW_RESULTS


def test_the_31st_search_in_a_minute_is_refused_in_words(search):
    make_learner(first_name="Grace", last_name="Hopper")
    for _ in range(30):
        assert "Grace Hopper" in search("hopper")
    page = search("hopper")
    assert "Too many searches in a minute: wait a moment, then search again." in page
    assert "Grace Hopper" not in page
