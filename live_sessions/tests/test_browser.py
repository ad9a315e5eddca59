"""End to end in real headless Chromium (seed 003): a learner accepts an invitation from the link in the email,
then a trainer marks attendance on a phone-sized screen.

Debian's chromium (/usr/bin/chromium, installed by scripts/test when missing) is driven by Playwright's Python
package with `executable_path`: no browser is downloaded. Screenshots go to $BROWSER_SCREENSHOTS, else to the
test's tmp dir (fixtures in the project's conftest.py).
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from live_sessions import services
from live_sessions.models import LiveSession, SessionLearner
from live_sessions.trainers import trainers_group
from notifications.services import dispatch_outbox, set_channel_confirmation

from .conftest import make_learner, make_session, make_user

PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_learner_accepts_the_emailed_invitation_and_a_trainer_marks_attendance_on_a_phone(
    live_server, settings, chromium, screenshots
):
    settings.SITE_URL = live_server.url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    set_channel_confirmation("email", required=False)  # the invitation goes at once (seed 004: else it waits)
    now = timezone.now()
    session = make_session(
        title="First aid workshop",
        status=LiveSession.Status.READY,
        calendar_integration=True,
        starts_at=now + timedelta(minutes=10),
        ends_at=now + timedelta(hours=3),
    )
    coach = make_user("coach", first_name="Carla", last_name="Coach")
    # An earlier transactional test may have flushed the group its migration made.
    coach.groups.add(trainers_group())
    session.trainers.add(coach)
    learner = make_learner(first_name="Ada", last_name="Byron", language="en")

    # seed 003 "- -> Invited": added to a ready session with calendar integration, the learner gets the email.
    (session_learner,) = services.add_learners(session, [learner])
    dispatch_outbox()
    (invitation,) = [m for m in mail.outbox if learner.email in m.to]
    link = re.search(re.escape(live_server.url) + r"/\S+", invitation.body).group(0)

    page = chromium.new_page()
    page.goto(link)
    page.screenshot(path=screenshots / "1-invitation.png", full_page=True)
    assert "Will you attend?" in page.inner_text("body")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_load_state()
    page.screenshot(path=screenshots / "2-accepted.png", full_page=True)
    assert "You are registered" in page.inner_text("body")
    session_learner.refresh_from_db()
    assert session_learner.status == SessionLearner.Status.REGISTERED  # seed 003 "Invited -> Registered"

    phone = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    trainer_page = phone.new_page()
    trainer_page.goto(live_server.url + reverse("trainer:sessions"))
    trainer_page.fill("#id_username", "coach")
    trainer_page.fill("#id_password", "x")
    trainer_page.screenshot(path=screenshots / "3-sign-in.png", full_page=True)
    trainer_page.get_by_role("button", name="Sign in").click()
    trainer_page.wait_for_load_state()
    trainer_page.screenshot(path=screenshots / "4-my-sessions.png", full_page=True)
    # Ten minutes before the start the form is put forward.
    trainer_page.get_by_role("link", name="Take attendance").click()
    trainer_page.wait_for_load_state()
    trainer_page.locator(f"label[for='learner_{session_learner.pk}-attended']").tap()
    trainer_page.wait_for_timeout(300)  # let Bootstrap's button transition finish before the screenshot
    trainer_page.screenshot(path=screenshots / "5-attendance.png", full_page=True)
    width = trainer_page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the attendance form must fit a phone without sideways scrolling"
    trainer_page.get_by_role("button", name="Save attendance").click()
    trainer_page.wait_for_load_state()
    trainer_page.screenshot(path=screenshots / "6-saved.png", full_page=True)
    assert "Attendance saved: 1 change." in trainer_page.inner_text("body")
    session_learner.refresh_from_db()
    assert session_learner.status == SessionLearner.Status.ATTENDED  # seed 003 "Registered -> Attended"
    phone.close()


def test_on_a_phone_a_trainer_searches_and_adds_a_walk_in_without_losing_the_answers_not_saved_yet(
    live_server, settings, chromium, screenshots
):
    """issue 18: "unsaved attendance toggles are lost when the trainer searches for a walk-in; a walk-in who is not
    yet a learner cannot be added". Both, tapped on a phone-sized screen."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    now = timezone.now()
    session = make_session(
        status=LiveSession.Status.READY, starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=2)
    )
    coach = make_user("coach")
    coach.groups.add(trainers_group())
    session.trainers.add(coach)
    ada, bob = (
        SessionLearner.objects.create(session=session, learner=make_learner(last_name=name), status="registered")
        for name in ("Abbott", "Brown")
    )
    grace = make_learner(first_name="Grace", last_name="Hopper")

    phone = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(live_server.url + reverse("trainer:attendance", args=[session.pk]))
    page.fill("#id_username", "coach")
    page.fill("#id_password", "x")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.locator(f"label[for='learner_{ada.pk}-absent']").tap()
    page.locator(f"label[for='learner_{bob.pk}-attended']").tap()

    # Enter in the search box searches; the toggles come back as they were.
    page.fill("#id_q", "hopper")
    with page.expect_navigation():
        page.press("#id_q", "Enter")
    page.screenshot(path=screenshots / "walk-in-1-searched.png", full_page=True)
    assert page.is_checked(f"#learner_{ada.pk}-absent") and page.is_checked(f"#learner_{bob.pk}-attended")
    assert "Your answers are not saved yet" in page.inner_text("body")

    with page.expect_navigation():
        page.get_by_role("button", name="Add as go show").tap()
    assert "Grace Hopper was added as a go show." in page.inner_text("body")
    assert page.is_checked(f"#learner_{ada.pk}-absent") and page.is_checked(f"#learner_{bob.pk}-attended")

    page.get_by_text("Not a learner yet? Add a walk-in").tap()
    page.fill("#id_walk_in-first_name", "Marie")
    page.fill("#id_walk_in-last_name", "Curie")
    page.fill("#id_walk_in-email", "marie@example.org")
    page.screenshot(path=screenshots / "walk-in-2-typed.png", full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Add walk-in").tap()
    page.screenshot(path=screenshots / "walk-in-3-added.png", full_page=True)
    assert "Marie Curie was added as a go show" in page.inner_text("body")
    assert page.is_checked(f"#learner_{ada.pk}-absent") and page.is_checked(f"#learner_{bob.pk}-attended")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with page.expect_navigation():
        page.get_by_role("button", name="Save attendance").tap()
    assert "Attendance saved: 2 changes." in page.inner_text("body")
    statuses = dict(session.session_learners.values_list("learner__last_name", "status"))
    assert statuses == {"Abbott": "absent", "Brown": "attended", "Hopper": "go_show", "Curie": "go_show"}
    assert grace.pk in session.session_learners.values_list("learner_id", flat=True)
    phone.close()
