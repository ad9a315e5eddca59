"""Issue 18 "One time, in the session's zone": the session form, the lists and the pages show and take a
session's times as its own clock reads them, labelled with its zone; an administrator typing local time no
longer invites everyone an hour off.
"""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from live_sessions import messages, services
from live_sessions.models import LiveSession, SessionLearner
from notifications.links import make_action_url
from notifications.models import Notification
from notifications.services import dispatch_outbox

from .conftest import make_learner, make_session, session_form_data, shown_inputs

pytestmark = pytest.mark.django_db

ADD = reverse("admin:live_sessions_livesession_add")


def change_page(session):
    return reverse("admin:live_sessions_livesession_change", args=[session.pk])


def typed(day, start, end, *, zone="Europe/Warsaw", **fields):
    unsaved = LiveSession(
        title="Warsaw first aid", starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    return session_form_data(
        unsaved,
        starts_at_0=day,
        starts_at_1=start,
        ends_at_0=day,
        ends_at_1=end,
        timezone=zone,
        location="Warsaw HQ",
        capacity=5,
        **fields,
    )


@pytest.mark.parametrize(
    "day, stored_hour",
    [("2030-01-14", 13), ("2030-07-15", 12)],
    ids=["winter: UTC+1", "summer: UTC+2"],
)
def test_a_time_typed_on_the_session_form_is_the_sessions_clock_and_is_shown_back_as_typed(
    admin_client, settings, day, stored_hour
):
    """Issue 18: "an administrator typing local time invites everyone an hour off". 14:00 typed for a Warsaw
    session is 14:00 in Warsaw, whatever the administrator's (or the server's) own zone."""
    settings.TIME_ZONE = "America/New_York"
    response = admin_client.post(ADD, typed(day, "14:00:00", "16:00:00"))
    assert response.status_code == 302, response.content.decode()[:2000]
    session = LiveSession.objects.get()
    assert (session.starts_at.astimezone(UTC).hour, session.ends_at.astimezone(UTC).hour) == (
        stored_hour,
        stored_hour + 2,
    )
    page = admin_client.get(change_page(session))
    shown = shown_inputs(page)
    assert (shown["starts_at_0"], shown["starts_at_1"], shown["ends_at_1"]) == (day, "14:00:00", "16:00:00")
    assert "Europe/Warsaw time: the session's time zone." in page.content.decode()


@pytest.mark.parametrize(
    "day, time",
    [("2030-03-31", "02:30:00"), ("2030-10-27", "02:30:00")],
    ids=["skipped when clocks go forward", "repeated when clocks go back"],
)
def test_a_time_the_sessions_zone_skips_or_repeats_is_refused_and_nothing_is_saved(admin_client, day, time):
    """Issue 18, the DST edge: 02:30 does not exist in Warsaw on 31 March 2030 and happens twice on 27 October;
    the form says so instead of guessing an hour."""
    response = admin_client.post(ADD, typed(day, time, "05:00:00"))
    assert response.status_code == 200
    assert "does not exist or happens twice in Europe/Warsaw" in response.content.decode()
    assert not LiveSession.objects.exists()


def test_changing_the_time_zone_on_the_form_reads_the_typed_times_in_the_new_zone(admin_client):
    """Issue 18: "Changing the session's time zone field on the form interprets the typed times in the chosen
    zone": a draft at 14:00 Warsaw moved to Europe/London with 14:00 left typed is at 14:00 London."""
    session = make_session(
        timezone="Europe/Warsaw",
        starts_at=datetime(2030, 1, 14, 13, tzinfo=UTC),
        ends_at=datetime(2030, 1, 14, 15, tzinfo=UTC),
    )
    data = session_form_data(session, timezone="Europe/London")
    assert (data["starts_at_1"], data["ends_at_1"]) == ("14:00:00", "16:00:00")
    response = admin_client.post(change_page(session), data)
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.timezone, session.starts_at, session.ends_at) == (
        "Europe/London",
        datetime(2030, 1, 14, 14, tzinfo=UTC),
        datetime(2030, 1, 14, 16, tzinfo=UTC),
    )


def test_the_session_list_shows_each_start_as_its_own_clock_reads_it_with_its_zone(admin_client, settings):
    """Issue 18: the lists show a session's time in its zone, labelled ("2030-01-14 14:00 Europe/Warsaw")."""
    settings.TIME_ZONE = "UTC"
    make_session(timezone="Europe/Warsaw", starts_at=datetime(2030, 1, 14, 13, tzinfo=UTC))
    make_session(timezone="America/New_York", starts_at=datetime(2030, 1, 14, 13, tzinfo=UTC))
    text = admin_client.get(reverse("admin:live_sessions_livesession_changelist")).content.decode()
    assert "2030-01-14 14:00 Europe/Warsaw" in text
    assert "2030-01-14 08:00 America/New_York" in text


def test_new_dates_go_only_to_the_learners_who_received_the_calendar_file(admin_client):
    """Seed 002 §IV: the update goes to "l'utilisateur à qui vous avez déjà envoyé une invitation calendrier";
    issue 18: "the date-change update goes to learners who never received a calendar file". Here: one invited
    learner got the file; one without consent had her invitation omitted; one was registered without any."""
    session = make_session()
    holder, without_consent = make_learner(), make_learner(consent_given_at=None)
    services.add_learners(session, [holder, without_consent])
    services.publish(session)
    dispatch_outbox()
    registered = SessionLearner.objects.create(
        session=session, learner=make_learner(), status=SessionLearner.Status.REGISTERED
    )
    session.refresh_from_db()
    url = reverse("admin:live_sessions_livesession_change_dates", args=[session.pk])
    page = admin_client.get(url)
    assert "1 learner already has the calendar invitation" in page.content.decode()
    response = admin_client.post(url, {**shown_inputs(page), "starts_at_1": "10:00:00", "ends_at_1": "13:00:00"})
    assert response.status_code == 302
    told = Notification.objects.filter(event="session.rescheduled")
    assert list(told.values_list("recipient_learner", flat=True)) == [holder.pk]
    assert registered.learner_id != holder.pk and without_consent.pk != holder.pk


@pytest.mark.parametrize(
    "language, when",
    [
        ("en", "14 January 2030, 09:00 – 12:00 (Europe/London) — 04:00 – 07:00 your time (America/New_York)"),
        ("fr", "14 janvier 2030, 09:00 – 12:00 (Europe/London) — 04:00 – 07:00 chez vous (America/New_York)"),
        (
            "pl",
            "14 stycznia 2030, 09:00 – 12:00 (Europe/London) — 04:00 – 07:00 według Twojego czasu (America/New_York)",
        ),
    ],
)
@pytest.mark.usefixtures("automatic_channels")  # publish's invitations are the system's own: sent at once here
def test_a_new_york_learner_reads_a_london_session_at_its_time_and_at_hers_in_her_language(language, when):
    """Issue 18: "learners get times converted to their own zone with no zone named ('London HQ, room 2.1, 04:00'
    for a New York learner)": the session's time with its zone, and hers beside it, in her language."""
    session = make_session(
        timezone="Europe/London",
        location="London HQ, room 2.1",
        starts_at=datetime(2030, 1, 14, 9, tzinfo=UTC),
        ends_at=datetime(2030, 1, 14, 12, tzinfo=UTC),
    )
    in_new_york = make_learner(language=language, timezone="America/New_York")
    in_london = make_learner(language=language, timezone="Europe/London")
    services.add_learners(session, [in_new_york, in_london])
    services.publish(session)
    dispatch_outbox()
    (to_new_york,) = [m for m in mail.outbox if m.to == [in_new_york.email]]
    (to_london,) = [m for m in mail.outbox if m.to == [in_london.email]]
    assert when in to_new_york.body
    assert when in to_new_york.alternatives[0][0]
    assert "14 " in to_london.body and "09:00 – 12:00 (Europe/London)" in to_london.body
    assert "America/New_York" not in to_london.body and "— 04:00" not in to_london.body


@pytest.mark.parametrize(
    "language, yours",
    [
        ("en", "04:00 – 07:00 your time"),
        ("fr", "04:00 – 07:00 chez vous"),
        ("pl", "04:00 – 07:00 według Twojego czasu"),
    ],
)
def test_the_invitation_page_shows_a_new_york_learner_the_london_time_and_hers(client, language, yours):
    """Issue 18: learner pages show the session's local time with its zone name, plus the reader's own time,
    in her language (the page a link of her invitation opens)."""
    session = make_session(
        status=LiveSession.Status.READY,
        calendar_integration=True,
        timezone="Europe/London",
        starts_at=datetime(2030, 1, 14, 9, tzinfo=UTC),
        ends_at=datetime(2030, 1, 14, 12, tzinfo=UTC),
    )
    (sl,) = services.add_learners(session, [make_learner(language=language, timezone="America/New_York")])
    url = make_action_url(purpose=messages.INVITATION_PURPOSE, obj=sl.pk, recipient=f"l{sl.learner_id}")
    page = client.get(url[len(settings.SITE_URL) :]).content.decode()
    assert "09:00 – 12:00 (Europe/London) — " in page
    assert f"{yours} (America/New_York)" in page


def test_the_session_learners_list_names_the_session_at_its_own_time_and_zone(admin_client, settings):
    """Issue 18: the session learners list (and every admin title of a session) gives its time in its zone."""
    settings.TIME_ZONE = "America/New_York"
    session = make_session(timezone="Europe/Warsaw", starts_at=datetime(2030, 1, 14, 23, 30, tzinfo=UTC))
    SessionLearner.objects.create(session=session, learner=make_learner())
    url = reverse("admin:live_sessions_sessionlearner_changelist") + f"?session__id__exact={session.pk}"
    text = admin_client.get(url).content.decode()
    # 23:30 UTC on the 14th is already the 15th in Warsaw.
    assert "First aid workshop (2030-01-15 00:30 Europe/Warsaw)" in text


@pytest.mark.parametrize(
    "language, subject",
    [
        ("en", "Invitation: First aid on 14 January 2030"),
        ("fr", "14 janvier 2030"),
        ("pl", "14 stycznia 2030"),
    ],
)
def test_the_subject_names_the_sessions_own_day_even_where_the_readers_clock_reads_the_day_before(language, subject):
    """A session at 00:30 in Warsaw on 14 January is 13 January, 18:30 in New York: the subject (which has room
    for the day only) gives the session's day, in the reader's language."""
    from notifications.services import TemplateCache

    session = {
        "title": "First aid",
        "starts_at": datetime(2030, 1, 13, 23, 30, tzinfo=UTC),
        "ends_at": datetime(2030, 1, 14, 1, 30, tzinfo=UTC),
        "timezone": "Europe/Warsaw",
        "location": "Room 2",
    }
    rendered = TemplateCache().render(
        "session.invitation",
        language,
        {"learner": {"first_name": "Ada", "last_name": "L", "full_name": "Ada L"}, "session": session},
        tz="America/New_York",
    )
    assert subject in rendered.subject
