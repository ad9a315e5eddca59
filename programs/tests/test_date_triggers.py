"""Date-based triggers of programs and certifications (seed 001), scanned by scan_triggers().

Every test moves time with time-machine to the moments a worker would scan. The daily
hour is settings.DATE_TRIGGER_HOUR (8:00) where the learner is; the learner here lives
in Paris (UTC+1 in winter, UTC+2 in summer).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from learners.models import Guardian, Learner
from notifications.models import Notification, NotificationRule, TriggerScan
from notifications.services import dispatch_outbox, scan_triggers
from programs import services
from programs.models import Assignment, CourseSet, Program

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Rules become active long before the dates of these tests.
ACTIVE_SINCE = datetime(2025, 1, 1, tzinfo=UTC)
Timing = NotificationRule.Timing


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


def make_learner(email, **kwargs):
    first, _, last = email.partition("@")[0].partition(".")
    defaults = dict(
        first_name=first.title(),
        last_name=last.title() or "Doe",
        consent_given_at=ACTIVE_SINCE,
        timezone="Europe/Paris",
    )
    defaults.update(kwargs)
    return Learner.objects.create(email=email, **defaults)


def make_rule(event, timing=Timing.ON_EVENT, days=0, **kwargs):
    defaults = dict(
        channels=["email"],
        notify_learner=True,
        notify_manager=False,
        requires_confirmation=False,
        active_since=ACTIVE_SINCE,
    )
    defaults.update(kwargs)
    return NotificationRule.objects.create(event=event, timing=timing, offset_days=days, **defaults)


@pytest.fixture
def clock(time_machine):
    """scan(at) runs one scan as the schedule would at that moment."""

    class Clock:
        def move(self, moment):
            time_machine.move_to(moment, tick=False)

        def scan(self, moment):
            self.move(moment)
            return scan_triggers()

    return Clock()


@pytest.fixture
def manager():
    return make_learner("maria.manager@example.com")


@pytest.fixture
def learner(manager):
    return make_learner("lena.learner@example.com", manager=manager)


@pytest.fixture
def program():
    return Program.objects.create(title="Safety basics")


@pytest.fixture
def certification():
    return Program.objects.create(
        title="First aid", kind=Program.Kind.CERTIFICATION, validity_days=365, recertification_window_days=60
    )


def sent(event, **filters):
    return list(Notification.objects.filter(event=event, **filters).order_by("pk"))


def assign_at(clock, moment, learner, program, **kwargs):
    clock.move(moment)
    return services.assign(learner, program, **kwargs)


# --- Program / certification due date: before, on, after ---------------------------------------


@pytest.mark.parametrize("kind", [Program.Kind.PROGRAM, Program.Kind.CERTIFICATION])
def test_due_date_reminders_fire_before_on_and_after_the_due_date_at_8_in_the_learners_morning(
    clock, learner, manager, kind
):
    """seed 001: "Program due date" / "Certification due date": before, on, or after the overall due date,
    to the user or their manager."""
    program = Program.objects.create(title="Safety basics", kind=kind, validity_days=365)
    before = make_rule("program.due", Timing.BEFORE, 3, notify_manager=True)
    on = make_rule("program.due", Timing.ON_EVENT)
    after = make_rule("program.due", Timing.AFTER, 2)
    assignment = assign_at(clock, paris(2026, 2, 1, 10), learner, program, due_at=paris(2026, 2, 20, 18))

    assert clock.scan(paris(2026, 2, 17, 7, 55)) == 0
    assert clock.scan(paris(2026, 2, 17, 8, 5)) == 2
    rows = sent("program.due", rule=before)
    assert {row.recipient_learner for row in rows} == {learner, manager}
    assert all("20 February 2026" in row.body and "Safety basics" in row.subject for row in rows)

    assert clock.scan(paris(2026, 2, 20, 8, 1)) == 1
    assert [row.recipient_learner for row in sent("program.due", rule=on)] == [learner]
    assert clock.scan(paris(2026, 2, 22, 8, 1)) == 1
    [late] = sent("program.due", rule=after)
    assert "was due on 20 February 2026" in late.body
    assert late.context == {
        "assignment": assignment.pk,
        "anchor": "2026-02-20T17:00:00+00:00",
        "rule": after.pk,
    }
    # Idempotent: scanning again, at once or later, creates nothing new.
    assert clock.scan(paris(2026, 2, 22, 8, 2)) == 0
    assert scan_triggers() == 0
    assert Notification.objects.filter(event="program.due").count() == 4


def test_due_date_reminders_skip_completed_and_unassigned_learners(clock, learner, program):
    """seed 001: due-date notifications are only sent for users with an outstanding due date."""
    make_rule("program.due", Timing.BEFORE, 1)
    due = paris(2026, 2, 20, 18)
    completer = make_learner("carl.completer@example.com")
    leaver = make_learner("una.unassigned@example.com")
    clock.move(paris(2026, 2, 1, 10))
    services.assign(learner, program, due_at=due)
    services.complete(services.assign(completer, program, due_at=due))
    services.unassign(services.assign(leaver, program, due_at=due))

    assert clock.scan(paris(2026, 2, 19, 8, 1)) == 1
    assert [row.recipient_learner for row in sent("program.due")] == [learner]


def test_the_due_date_is_the_calendar_day_where_the_learner_is(clock, program):
    """seed 001 "on the due date": the learner's day. 23:30 UTC on 10 May is already 11 May in Paris."""
    make_rule("program.due", Timing.ON_EVENT)
    in_paris = make_learner("pia.paris@example.com")
    in_new_york = make_learner("nina.newyork@example.com", timezone="America/New_York")
    due = datetime(2026, 5, 10, 23, 30, tzinfo=UTC)
    clock.move(datetime(2026, 5, 1, tzinfo=UTC))
    services.assign(in_paris, program, due_at=due)
    services.assign(in_new_york, program, due_at=due)

    # 19:30 on 10 May in New York: 8:00 there (EDT, UTC-4) = 12:00 UTC; 8:00 in Paris on 11 May (CEST) = 6:00 UTC.
    assert clock.scan(datetime(2026, 5, 10, 11, 59, tzinfo=UTC)) == 0
    assert clock.scan(datetime(2026, 5, 10, 12, 0, tzinfo=UTC)) == 1
    assert sent("program.due")[0].recipient_learner == in_new_york
    assert clock.scan(datetime(2026, 5, 11, 5, 59, tzinfo=UTC)) == 0
    assert clock.scan(datetime(2026, 5, 11, 6, 0, tzinfo=UTC)) == 1
    assert sent("program.due")[1].recipient_learner == in_paris


@pytest.mark.parametrize(
    "due, days, expected_utc",
    [
        # Spring forward (29 March 2026): due on 28 March (CET), 2 days after = 30 March 8:00 CEST = 6:00 UTC.
        (paris(2026, 3, 28, 12), 2, datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
        # Fall back (25 October 2026): due on 24 October (CEST), 2 days after = 26 October 8:00 CET = 7:00 UTC.
        (paris(2026, 10, 24, 12), 2, datetime(2026, 10, 26, 7, 0, tzinfo=UTC)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_the_local_hour_holds_across_daylight_saving_changes(clock, learner, program, due, days, expected_utc):
    """seed 001 "a period of time after the due date": still 8:00 where the learner is after the clocks change."""
    make_rule("program.due", Timing.AFTER, days)
    assign_at(clock, due - timedelta(days=20), learner, program, due_at=due)

    # 48 hours after 8:00 on the due date would be an hour off: nothing is due then.
    assert clock.scan(expected_utc - timedelta(minutes=1)) == 0
    assert clock.scan(expected_utc) == 1
    [row] = sent("program.due")
    assert row.created_at == expected_utc
    assert row.created_at.astimezone(PARIS).hour == 8


# --- Course sets -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Program.Kind.PROGRAM, Program.Kind.CERTIFICATION])
def test_course_set_due_date_before_on_after_only_for_learners_who_have_not_completed_it(clock, learner, manager, kind):
    """seed 001 (both tables): "Course set due date": before, on, or after; only users who haven't completed
    the course set."""
    program = Program.objects.create(title="Onboarding", kind=kind, validity_days=365)
    part1 = CourseSet.objects.create(program=program, title="Part 1", position=1, due_at=paris(2026, 4, 10, 17))
    CourseSet.objects.create(program=program, title="Part 2", position=2)
    make_rule("program.course_set_due", Timing.BEFORE, 5, notify_manager=True)
    make_rule("program.course_set_due", Timing.ON_EVENT)
    make_rule("program.course_set_due", Timing.AFTER, 1)
    clock.move(paris(2026, 3, 1, 9))
    assignment = services.assign(learner, program)
    done = make_learner("dora.done@example.com")
    services.complete_course_set(services.assign(done, program), part1)

    assert clock.scan(paris(2026, 4, 5, 8, 0)) == 2  # learner and manager, not Dora
    assert {r.recipient_learner for r in sent("program.course_set_due")} == {learner, manager}
    assert "Part 1" in sent("program.course_set_due")[0].subject
    assert clock.scan(paris(2026, 4, 10, 8, 0)) == 1
    services.complete_course_set(assignment, part1)
    assert clock.scan(paris(2026, 4, 11, 8, 0)) == 0  # completed meanwhile: no "after" reminder


@pytest.mark.parametrize("kind", [Program.Kind.PROGRAM, Program.Kind.CERTIFICATION])
def test_course_set_completed_n_days_after_is_a_date_not_an_immediate_message(clock, learner, kind):
    """seed 001 (both tables): "Course set completed": when they complete it, or a period of time after."""
    program = Program.objects.create(title="Onboarding", kind=kind, validity_days=365)
    part1 = CourseSet.objects.create(program=program, title="Part 1", position=1)
    CourseSet.objects.create(program=program, title="Part 2", position=2)
    now_rule = make_rule("program.course_set_completed", Timing.ON_EVENT)
    later_rule = make_rule("program.course_set_completed", Timing.AFTER, 2)
    assignment = assign_at(clock, paris(2026, 3, 2, 15), learner, program)
    services.complete_course_set(assignment, part1)

    assert [row.rule for row in sent("program.course_set_completed")] == [now_rule]
    assert clock.scan(paris(2026, 3, 4, 7, 59)) == 0
    assert clock.scan(paris(2026, 3, 4, 8, 0)) == 1
    [later] = sent("program.course_set_completed", rule=later_rule)
    assert "Part 1" in later.body and later.context["course_set"] == part1.pk


# --- Completed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Program.Kind.PROGRAM, Program.Kind.CERTIFICATION])
def test_completed_three_days_after_waits_three_days(clock, learner, manager, kind):
    """seed 001: "Program completed" / "Certification completed": when they complete it, or a period of time
    after. A rule "3 days after" used to send at once."""
    program = Program.objects.create(title="Safety basics", kind=kind, validity_days=365)
    at_once = make_rule("program.completed", Timing.ON_EVENT)
    later = make_rule("program.completed", Timing.AFTER, 3, notify_manager=True)
    assignment = assign_at(clock, paris(2026, 6, 1, 9), learner, program)
    clock.move(paris(2026, 6, 2, 16, 30))
    services.complete(assignment)
    assert [row.rule for row in sent("program.completed")] == [at_once]  # "when they complete it"

    assert clock.scan(paris(2026, 6, 5, 7, 59)) == 0
    assert clock.scan(paris(2026, 6, 5, 8, 0)) == 2
    assert {r.recipient_learner for r in sent("program.completed", rule=later)} == {learner, manager}
    assert "2 June 2026" in sent("program.completed", rule=later)[0].body


# --- Certifications: expiry, window, failure -----------------------------------------------------


def completed_certification(clock, learner, certification, at):
    assignment = assign_at(clock, at - timedelta(days=10), learner, certification)
    clock.move(at)
    return services.complete(assignment)


def test_certification_expiry_n_days_before_expiry(clock, learner, manager, certification):
    """seed 001: "Certification expiry date": a number of days before the certification is set to expire
    (and, as a last call, on the expiry day itself)."""
    make_rule("certification.expiry", Timing.BEFORE, 30, notify_manager=True)
    on_the_day = make_rule("certification.expiry", Timing.ON_EVENT)
    assignment = completed_certification(clock, learner, certification, paris(2026, 1, 15, 10))
    assert assignment.expires_at == paris(2027, 1, 15, 10)

    assert clock.scan(paris(2026, 12, 16, 7, 59)) == 0
    assert clock.scan(paris(2026, 12, 16, 8, 0)) == 2
    assert {r.recipient_learner for r in sent("certification.expiry")} == {learner, manager}
    assert "15 January 2027" in sent("certification.expiry")[0].body
    assert clock.scan(paris(2027, 1, 15, 8, 0)) == 1
    assert sent("certification.expiry")[-1].rule == on_the_day


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_a_date_reminders_copies_speak_to_the_manager_and_the_guardian_about_the_learner(
    clock, learner, manager, certification, language
):
    """seed 001 "to a user or their manager", seed 004 guardians, issue "what people see": the scanned reminder
    greets each reader by name; the manager's and the guardian's copies say whose certification expires and
    carry no button meant for the learner."""
    learner.language = manager.language = language
    learner.save(update_fields=["language"])
    manager.save(update_fields=["language"])
    Guardian.objects.create(learner=learner, name="Gustav Learner", email="gustav@example.com")
    make_rule("certification.expiry", Timing.BEFORE, 30, notify_manager=True, notify_guardians=True)
    completed_certification(clock, learner, certification, paris(2026, 1, 15, 10))

    assert clock.scan(paris(2026, 12, 16, 8, 0)) == 3

    hello = {"en": "Hello", "fr": "Bonjour", "pl": "Dzień dobry"}[language]
    point = {
        "en": 'The certification "First aid" of Lena Learner expires on 15 January 2027.',
        "fr": "La certification « First aid » de Lena Learner expire le 15 janvier 2027.",
        "pl": "Lena Learner: certyfikat „First aid” wygasa 15 stycznia 2027.",
    }[language]
    rows = sent("certification.expiry")
    mine = next(row for row in rows if row.recipient_guardian is None and row.recipient_learner == learner)
    assert mine.body.startswith(f"{hello} Lena,\n\n")
    for row, name in (
        (next(row for row in rows if row.recipient_learner == manager), "Maria Manager"),
        (next(row for row in rows if row.recipient_guardian is not None), "Gustav Learner"),
    ):
        assert row.body.startswith(f"{hello} {name},\n\n{point}\n\n"), row.body
        assert "Lena Learner" in row.subject and "http" not in row.body and "<a " not in row.html_body


def test_recertification_window_before_on_and_after_it_opens(clock, learner, certification):
    """seed 001: "Recertification window open date": before the window opens, on the day, or after."""
    for timing, days in ((Timing.BEFORE, 7), (Timing.ON_EVENT, 0), (Timing.AFTER, 14)):
        make_rule("certification.window_open", timing, days)
    completed_certification(clock, learner, certification, paris(2026, 1, 15, 10))
    # Expires 15 January 2027; the 60-day window opens on 16 November 2026.
    assert clock.scan(paris(2026, 11, 9, 8, 0)) == 1
    assert clock.scan(paris(2026, 11, 16, 8, 0)) == 1
    assert clock.scan(paris(2026, 11, 30, 8, 0)) == 1
    first, on_day, late = sent("certification.window_open")
    assert "opens on 16 November 2026" in first.body
    assert "opened on 16 November 2026" in late.body


def test_window_reminders_stop_once_the_learner_recertified(clock, learner, certification):
    """seed 001: window reminders are there "to remind users that they need to recertify"."""
    make_rule("certification.window_open", Timing.AFTER, 14)
    make_rule("certification.expiry", Timing.BEFORE, 7)
    make_rule("certification.recertification_failed", Timing.ON_EVENT)
    completed_certification(clock, learner, certification, paris(2026, 1, 15, 10))
    renewal = assign_at(clock, paris(2026, 11, 20, 9), learner, certification)
    clock.move(paris(2026, 11, 25, 9))
    services.complete(renewal)

    for moment in (paris(2026, 11, 30, 8, 0), paris(2027, 1, 8, 8, 0), paris(2027, 1, 15, 12)):
        assert clock.scan(moment) == 0


def test_failure_to_recertify_when_the_window_closes(clock, learner, manager, certification):
    """seed 001: "Failure to recertify": when the user fails to recertify in the recertification window."""
    make_rule("certification.recertification_failed", Timing.ON_EVENT, notify_manager=True)
    make_rule("certification.recertification_failed", Timing.AFTER, 7)
    completed_certification(clock, learner, certification, paris(2026, 1, 15, 10))

    # The certification expires at 10:00 on 15 January 2027: not a failure at 8:00 that morning yet.
    assert clock.scan(paris(2027, 1, 15, 9, 59)) == 0
    assert clock.scan(paris(2027, 1, 15, 10, 0)) == 2
    assert {r.recipient_learner for r in sent("certification.recertification_failed")} == {learner, manager}
    assert clock.scan(paris(2027, 1, 22, 8, 0)) == 1


def test_exceptions_go_to_site_administrators(clock, learner, program):
    """seed 001: "New exception reported": notifications to Site Administrators."""
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    make_rule("program.exception", notify_learner=False, notify_site_admins=True)
    assignment = assign_at(clock, paris(2026, 3, 1, 9), learner, program)
    services.report_exception(assignment, kind="due_date_unreachable")
    assert [row.recipient_user for row in sent("program.exception")] == [admin]


@pytest.mark.parametrize("kind", [Program.Kind.PROGRAM, Program.Kind.CERTIFICATION])
def test_event_triggers_of_both_tables_go_at_once_to_learner_manager_or_site_administrators(
    clock, learner, manager, kind
):
    """seed 001 (both tables): "Learner assigned", "completed" (on the event), "New exception reported" (to Site
    Administrators), "Learner unassigned": sent when they happen, no scan needed."""
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    program = Program.objects.create(title="Safety basics", kind=kind, validity_days=365)
    for event in ("program.assigned", "program.completed", "program.unassigned"):
        make_rule(event, notify_manager=True)
    make_rule("program.exception", notify_learner=False, notify_site_admins=True)
    clock.move(paris(2026, 3, 1, 9))
    first = services.assign(learner, program)
    services.report_exception(first, kind="other")
    services.complete(first)
    services.unassign(services.assign(learner, program))
    for event in ("program.assigned", "program.completed"):
        assert {row.recipient_learner for row in sent(event)} == {learner, manager}
    assert len(sent("program.unassigned")) == 2
    assert [row.recipient_user for row in sent("program.exception")] == [admin]


def test_date_rules_reach_guardians_and_site_administrators_as_the_rule_says(clock, learner, program):
    """seed 004: enabled guardians get a copy; seed 001 date triggers can also tell site administrators."""
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    Guardian.objects.create(learner=learner, name="Gil Guardian", email="gil@example.com", is_enabled=True)
    make_rule("program.due", Timing.ON_EVENT, notify_site_admins=True)
    assign_at(clock, paris(2026, 3, 1, 9), learner, program, due_at=paris(2026, 3, 10, 12))
    assert clock.scan(paris(2026, 3, 10, 8, 0)) == 3
    rows = sent("program.due")
    assert {row.to for row in rows} == {learner.email, "gil@example.com", admin.email}


# --- Moved dates, send-time checks ----------------------------------------------------------------


def test_a_moved_due_date_is_a_new_occurrence_and_the_waiting_one_is_cancelled(clock, learner, program):
    """seed 001 + 004: the reminder for the old date, still awaiting confirmation, is cancelled; the new date
    gets its own reminder."""
    rule = make_rule("program.due", Timing.BEFORE, 3, requires_confirmation=True)
    assignment = assign_at(clock, paris(2026, 2, 1, 9), learner, program, due_at=paris(2026, 2, 20, 18))
    assert clock.scan(paris(2026, 2, 17, 8, 0)) == 1
    [old] = sent("program.due")
    assert old.status == Notification.Status.AWAITING_CONFIRMATION

    services.change_due_date(assignment, due_at=paris(2026, 3, 6, 18))
    old.refresh_from_db()
    assert (old.status, old.reason) == (Notification.Status.CANCELLED, "due_date_moved")
    assert clock.scan(paris(2026, 3, 3, 8, 0)) == 1
    new = sent("program.due", rule=rule)[-1]
    assert new.pk != old.pk and new.dedupe_key != old.dedupe_key
    assert "6 March 2026" in new.body


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda a: services.complete(a), "completed"),
        (lambda a: services.unassign(a), "unassigned"),
        (lambda a: Assignment.objects.filter(pk=a.pk).update(due_at=paris(2026, 4, 1, 18)), "due_date_moved"),
    ],
    ids=["completed", "unassigned", "moved"],
)
def test_a_due_reminder_whose_reason_has_gone_is_cancelled_at_send_time(clock, learner, program, change, reason):
    """seed 001: only users with an outstanding due date; the outbox keeps why it was not sent."""
    make_rule("program.due", Timing.BEFORE, 3)
    assignment = assign_at(clock, paris(2026, 2, 1, 9), learner, program, due_at=paris(2026, 2, 20, 18))
    # Queued, not dispatched yet (the worker is busy): the learner acts first.
    assert clock.scan(paris(2026, 2, 17, 8, 0)) == 1
    change(assignment)
    assert dispatch_outbox() == 0
    [row] = sent("program.due")
    assert (row.status, row.reason) == (Notification.Status.CANCELLED, reason)


def test_recertified_learner_gets_no_expiry_reminder_queued_before(clock, learner, certification):
    """seed 001: "Certification expiry date" is moot once the learner recertified: cancelled with the reason."""
    make_rule("certification.expiry", Timing.BEFORE, 30)
    completed_certification(clock, learner, certification, paris(2026, 1, 15, 10))
    assert clock.scan(paris(2026, 12, 16, 8, 0)) == 1
    renewal = assign_at(clock, paris(2026, 12, 16, 9), learner, certification)
    services.complete(renewal)
    dispatch_outbox()
    [row] = sent("certification.expiry")
    assert (row.status, row.reason) == (Notification.Status.CANCELLED, "recertified")


# --- Activation, downtime -----------------------------------------------------------------------


def test_turning_on_a_rule_never_floods_learners_with_past_dates(clock, learner, program):
    """seed 001: a rule fires for occurrences after it became active."""
    assign_at(clock, paris(2026, 2, 1, 9), learner, program, due_at=paris(2026, 2, 20, 18))
    assert clock.scan(paris(2026, 2, 15, 12)) == 0  # then the worker is down for ten days
    clock.move(paris(2026, 2, 25, 12))
    make_rule("program.due", Timing.AFTER, 2, active_since=timezone.now())  # its moment was 22 February
    make_rule("program.due", Timing.AFTER, 7, active_since=timezone.now())  # 27 February: still ahead
    assert scan_triggers() == 0
    assert clock.scan(paris(2026, 2, 27, 8, 0)) == 1


def test_catch_up_after_a_day_of_downtime_sends_each_due_occurrence_once_and_only_if_relevant(clock, learner, program):
    """seed 001 timings after a worker outage: every occurrence that fell due while the worker was down is sent
    by the next scan, exactly once; a completed program gets no due reminder; a "before" reminder whose date
    has passed meanwhile is dropped, one whose date is still ahead is sent late."""
    make_rule("program.due", Timing.ON_EVENT)
    make_rule("program.due", Timing.BEFORE, 1)
    make_rule("program.completed", Timing.AFTER, 1)
    clock.move(paris(2026, 5, 1, 9))
    other = make_learner("otto.other@example.com")
    later = make_learner("lara.later@example.com")
    done = make_learner("dan.done@example.com")
    due_today = services.assign(learner, program, due_at=paris(2026, 5, 11, 9))  # "on" and "before" moments inside
    services.assign(later, program, due_at=paris(2026, 5, 12, 18))  # "before" moment inside, date still ahead
    completed_meanwhile = services.assign(done, program, due_at=paris(2026, 5, 11, 18))
    finisher = services.assign(other, program)
    clock.move(paris(2026, 5, 9, 10))
    services.complete(finisher)

    assert clock.scan(paris(2026, 5, 9, 23, 0)) == 0  # the last scan before the outage
    clock.move(paris(2026, 5, 11, 12))
    services.complete(completed_meanwhile)
    # The worker comes back at 23:30 on 11 May, after more than a day.
    created = clock.scan(paris(2026, 5, 11, 23, 30))

    rows = Notification.objects.filter(event__in=["program.due", "program.completed"])
    got = sorted((row.event, row.rule.timing, row.recipient_learner.email) for row in rows)
    assert got == [
        ("program.completed", "after", "otto.other@example.com"),  # 10 May 8:00
        ("program.due", "before", "lara.later@example.com"),  # 11 May 8:00, due on the 12th: still useful
        ("program.due", "on_event", "lena.learner@example.com"),  # 11 May 8:00
    ]
    assert created == 3
    assert due_today.due_at < timezone.now()  # its "before" (10 May) reminder was dropped: the date has passed
    assert clock.scan(paris(2026, 5, 11, 23, 35)) == 0
    assert TriggerScan.objects.filter(status="done").count() == 3


# --- Set-based ---------------------------------------------------------------------------------


def test_a_scan_costs_the_same_number_of_queries_for_3_or_30_assignments(clock, program, django_assert_max_num_queries):
    """seed 001 at scale: a fixed number of queries per rule and batch, whatever the number of assignments."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_rule("program.due", Timing.BEFORE, 1, notify_manager=True)
    make_rule("program.due", Timing.ON_EVENT)
    boss = make_learner("bob.boss@example.com")
    clock.move(paris(2026, 5, 1, 9))
    for i in range(33):
        person = make_learner(f"p{i}.person@example.com", manager=boss)
        Guardian.objects.create(learner=person, name=f"G{i}", email=f"g{i}@example.com", is_enabled=True)
        # 3 due on 11 May, 30 due on 21 May.
        services.assign(person, program, due_at=paris(2026, 5, 11 if i < 3 else 21, 18))
    counts = []
    for day, learners in ((11, 3), (21, 30)):
        assert clock.scan(paris(2026, 5, day - 1, 7, 0)) == 0
        clock.move(paris(2026, 5, day, 8, 0))
        # 40 + 3: every scan also runs live_sessions' expired waiting-list offers scanner (issue 18), a
        # savepoint around one query whatever the number of assignments.
        with django_assert_max_num_queries(43), CaptureQueriesContext(connection) as queries:
            # Learner, guardian and manager for "1 day before"; learner and guardian "on the day".
            assert scan_triggers() == learners * 3 + learners * 2
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_scan_renders_the_words_once_per_shape_for_learners_managers_and_guardians_alike(clock, program, monkeypatch):
    """Seed 001 at scale ("to a user or their manager"), seed 004 guardians: 3 or 30 learners due the same day
    cost the same number of template renders; each manager's and guardian's copy is filled in from its shape
    (they were rendered one by one: most of a scan's time), and still greets its reader by name."""
    from notifications.templating import TemplateCache

    renders = []
    render = TemplateCache.render

    def counted(self, *args, **kwargs):
        renders.append(kwargs.get("audience"))
        return render(self, *args, **kwargs)

    monkeypatch.setattr(TemplateCache, "render", counted)
    make_rule("program.due", Timing.BEFORE, 1, notify_manager=True, notify_guardians=True)
    boss = make_learner("bob.boss@example.com")
    clock.move(paris(2026, 5, 1, 9))
    for i in range(33):
        person = make_learner(f"p{i}.person@example.com", manager=boss)
        Guardian.objects.create(learner=person, name=f"G{i}", email=f"g{i}@example.com", is_enabled=True)
        services.assign(person, program, due_at=paris(2026, 5, 11 if i < 3 else 21, 18))
    counts = []
    for day, learners in ((11, 3), (21, 30)):
        renders.clear()
        assert clock.scan(paris(2026, 5, day - 1, 8, 0)) == learners * 3
        counts.append(len(renders))
    assert counts[0] == counts[1] <= 9, counts
    copies = sent("program.due", recipient_learner=boss)
    assert len(copies) == 33 and all(row.body.startswith("Hello Bob Boss,\n\n") for row in copies)
    assert {row.body.split("because you manage ")[1] for row in copies} == {f"P{i} Person." for i in range(33)}


def test_moving_the_due_date_in_the_admin_cancels_the_waiting_reminder(clock, admin_client, learner, program):
    """seed 001: a moved due date is a new occurrence; the reminder for the old date, still awaiting
    confirmation, is cancelled when the administrator saves the new date."""
    from django.urls import reverse

    make_rule("program.due", Timing.BEFORE, 3, requires_confirmation=True)
    assignment = assign_at(clock, paris(2026, 2, 1, 9), learner, program, due_at=paris(2026, 2, 20, 18))
    assert clock.scan(paris(2026, 2, 17, 8, 0)) == 1
    url = reverse("admin:programs_assignment_change", args=[assignment.pk])
    data = {
        "learner": learner.pk,
        "program": program.pk,
        "group": "",
        "assigned_at_0": "2026-02-01",
        "assigned_at_1": "08:00:00",
        "due_at_0": "2026-03-06",
        "due_at_1": "17:00:00",
    }
    for prefix in ("course_set_completions", "exceptions"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assignment.refresh_from_db()
    assert assignment.due_at == datetime(2026, 3, 6, 17, tzinfo=UTC)
    [old] = sent("program.due")
    assert (old.status, old.reason) == (Notification.Status.CANCELLED, "due_date_moved")


def test_date_messages_give_templates_plain_values_only(clock, learner, program):
    """seed 001 messages are rendered from editable templates: plain values, never model instances."""
    from programs.scanners import _Lookups, messages_for, occurrences

    CourseSet.objects.create(program=program, title="Part 1", position=1, due_at=paris(2026, 3, 10, 12))
    rule = make_rule("program.course_set_due", Timing.ON_EVENT, notify_manager=True)
    assign_at(clock, paris(2026, 3, 1, 9), learner, program, due_at=paris(2026, 3, 20, 12))
    found = occurrences(rule, since=paris(2026, 3, 9, 12), until=paris(2026, 3, 10, 12))
    [message, *_] = messages_for(rule, found, _Lookups())

    def plain(value):
        if isinstance(value, dict):
            return type(value) is dict and all(plain(v) for v in value.values())
        return value is None or type(value) in (str, int, bool, datetime)

    assert message.context["program"] == "Safety basics"
    assert message.context["learner"] == {"first_name": "Lena", "last_name": "Learner", "full_name": "Lena Learner"}
    assert all(plain(value) for value in message.context.values()), message.context
