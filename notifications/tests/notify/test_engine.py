"""The Notify checklist, rate limits and set-based cost (seed 000)."""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from learners.models import GroupMembership, Invitation, Learner, LearnerGroup
from notifications.models import Notification, NotifyOutcome, NotifyRun
from notifications.notify.engine import notify_learners, preview_notify
from notifications.notify.summary import describe_summary
from programs.models import Assignment, CourseSet, CourseSetCompletion, Program

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)


def make_learner(**kwargs):
    n = next(_seq)
    defaults = dict(
        email=f"learner{n}@example.com", first_name=f"Ada{n}", last_name="Lovelace", consent_given_at=timezone.now()
    )
    defaults.update(kwargs)
    return Learner.objects.create(**defaults)


def notify(*learners, scope="learner"):
    return notify_learners(list(learners), actor=None, scope=scope)


def outcome(run, learner):
    return NotifyOutcome.objects.get(run=run, learner=learner)


def sent_to(learner):
    return Notification.objects.filter(recipient_learner=learner)


@pytest.fixture
def safety():
    program = Program.objects.create(title="Workplace safety")
    CourseSet.objects.create(program=program, title="Fire drill", position=1)
    CourseSet.objects.create(program=program, title="First aid", position=2)
    return program


def test_pending_invitation_wins_over_incomplete_training(safety):
    """Seed 000 priority: a learner with a pending invitation AND incomplete training gets only the invitation."""
    learner = make_learner()
    invitation = Invitation.objects.create(learner=learner)
    Assignment.objects.create(learner=learner, program=safety)

    run = notify(learner)

    result = outcome(run, learner)
    assert result.action == "invitation"
    [message] = sent_to(learner)
    assert message.event == "notify.invitation"
    assert message.context["invitation"] == invitation.pk
    assert message.status == "queued"
    assert result.notification_id == message.pk


def test_accepted_invitation_is_not_sent_again(safety):
    """Seed 000 step 1 only concerns invitations still pending."""
    learner = make_learner()
    Invitation.objects.create(learner=learner, status=Invitation.Status.ACCEPTED)
    Assignment.objects.create(learner=learner, program=safety)

    run = notify(learner)

    assert outcome(run, learner).action == "training_reminder"


def test_reminder_lists_complete_and_incomplete_training(safety):
    """Seed 000 step 2: the reminder lists which training is complete and which still needs attention."""
    learner = make_learner()
    ethics = Program.objects.create(title="Business ethics")
    Assignment.objects.create(learner=learner, program=ethics, completed_at=timezone.now() - timedelta(days=3))
    assignment = Assignment.objects.create(learner=learner, program=safety)
    fire_drill = safety.course_sets.get(title="Fire drill")
    CourseSetCompletion.objects.create(assignment=assignment, course_set=fire_drill)

    run = notify(learner)

    assert outcome(run, learner).action == "training_reminder"
    [message] = sent_to(learner)
    assert message.event == "notify.training_reminder"
    assert "First aid" in message.body  # still needs attention
    assert "Fire drill" in message.body and "Business ethics" in message.body  # complete
    body = message.body
    assert body.index("Fire drill") < body.index("Still to do") < body.index("First aid")


def test_missing_training_creates_the_assignments_and_tells_the_learner(safety):
    """Seed 000 step 3: training required by the learner's group but missing from the dashboard is assigned."""
    learner = make_learner()
    group = LearnerGroup.objects.create(name="Warehouse")
    ethics = Program.objects.create(title="Business ethics")
    group.programs.add(safety, ethics)
    GroupMembership.objects.create(learner=learner, group=group)
    Assignment.objects.create(learner=learner, program=ethics, completed_at=timezone.now())

    run = notify(learner)

    assert outcome(run, learner).action == "missing_training"
    [created] = Assignment.objects.filter(learner=learner, program=safety)
    assert created.group == group and created.is_open
    [message] = sent_to(learner)
    assert message.event == "notify.missing_training"
    assert "Workplace safety" in message.body
    assert Assignment.objects.filter(learner=learner, program=ethics).count() == 1  # already valid


def test_expired_certification_required_by_a_group_is_missing_training():
    """Seed 000 step 3: a completion that is no longer valid does not count as having the training."""
    learner = make_learner()
    cert = Program.objects.create(title="Forklift", kind="certification", validity_days=365)
    group = LearnerGroup.objects.create(name="Drivers")
    group.programs.add(cert)
    GroupMembership.objects.create(learner=learner, group=group)
    past = timezone.now() - timedelta(days=400)
    Assignment.objects.create(learner=learner, program=cert, completed_at=past, expires_at=past + timedelta(days=365))

    run = notify(learner)

    assert outcome(run, learner).action == "missing_training"
    assert Assignment.objects.filter(learner=learner, program=cert, completed_at__isnull=True).count() == 1


def test_renewal_creates_a_new_open_assignment():
    """Seed 000 step 4: a certificate approaching renewal gets a new session and an email."""
    learner = make_learner()
    cert = Program.objects.create(
        title="Forklift", kind="certification", validity_days=365, recertification_window_days=60
    )
    expires_at = timezone.now() + timedelta(days=30)
    Assignment.objects.create(
        learner=learner, program=cert, completed_at=expires_at - timedelta(days=365), expires_at=expires_at
    )

    run = notify(learner)

    assert outcome(run, learner).action == "renewal"
    renewal = Assignment.objects.get(learner=learner, program=cert, completed_at__isnull=True)
    assert renewal.is_open and renewal.due_at == expires_at
    [message] = sent_to(learner)
    assert message.event == "notify.renewal" and "Forklift" in message.body


def test_certification_outside_its_window_is_up_to_date():
    """Seed 000 steps 4-5: not yet approaching renewal means no action needed."""
    learner = make_learner()
    cert = Program.objects.create(
        title="Forklift", kind="certification", validity_days=365, recertification_window_days=60
    )
    expires_at = timezone.now() + timedelta(days=200)
    Assignment.objects.create(learner=learner, program=cert, completed_at=timezone.now(), expires_at=expires_at)

    run = notify(learner)

    result = outcome(run, learner)
    assert (result.action, result.reason) == ("omitted", "up_to_date")
    assert not sent_to(learner).exists()
    assert Assignment.objects.filter(learner=learner).count() == 1


def test_nothing_needed_sends_nothing():
    """Seed 000 step 5: joined, everything complete, not due for renewal: no email, labelled Omitted."""
    learner = make_learner()

    run = notify(learner)

    result = outcome(run, learner)
    assert (result.action, result.reason, result.notification) == ("omitted", "up_to_date", None)
    assert not sent_to(learner).exists()
    assert run.summary == {"sent": {}, "omitted": {"up_to_date": 1}, "assigned": {}}


def test_no_consent_no_message_and_nothing_created(safety):
    """Seed 000 with seed 004: no consent, nothing is sent, and missing training is not assigned either."""
    learner = make_learner(consent_given_at=None)
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(safety)
    GroupMembership.objects.create(learner=learner, group=group)

    run = notify(learner)

    result = outcome(run, learner)
    assert (result.action, result.reason) == ("omitted", "no_consent")
    assert not sent_to(learner).exists()
    assert not Assignment.objects.filter(learner=learner).exists()


def test_no_email_address_is_omitted_no_contact():
    """Seed 000: a learner we cannot email is omitted with the reason."""
    learner = make_learner(email="")
    Invitation.objects.create(learner=learner)

    run = notify(learner)

    assert outcome(run, learner).reason == "no_contact"
    assert not sent_to(learner).exists()


def test_inactive_learners_are_not_in_scope():
    """Seed 000: Notify concerns the learners you manage; deactivated ones are left out entirely."""
    active, inactive = make_learner(), make_learner(is_active=False)

    run = notify_learners(Learner.objects.all(), actor=None, scope="all_learners")

    assert run.total == 1
    assert set(run.outcomes.values_list("learner_id", flat=True)) == {active.pk}
    assert inactive.pk not in set(NotifyOutcome.objects.values_list("learner_id", flat=True))


def test_one_message_per_24_hours_rolling():
    """Seed 000: 1 notification every 24-hour period; a click 23 h later is rate limited, 25 h later sends."""
    learner = make_learner()
    Invitation.objects.create(learner=learner)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert outcome(notify(learner), learner).action == "invitation"
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        result = outcome(notify(learner), learner)
        assert (result.action, result.reason) == ("omitted", "rate_limited")
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert outcome(notify(learner), learner).action == "invitation"
    assert sent_to(learner).count() == 2


def test_three_messages_per_14_days_rolling():
    """Seed 000: 3 notifications every 14-day period, a rolling window rather than calendar days."""
    learner = make_learner()
    Invitation.objects.create(learner=learner)
    start = timezone.now().replace(hour=23, minute=0)
    actions = {}
    for hours in (0, 25, 50, 75, 14 * 24 - 1, 14 * 24 + 1):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            result = outcome(notify(learner), learner)
            actions[hours] = result.reason or result.action
    assert actions == {
        0: "invitation",
        25: "invitation",
        50: "invitation",
        75: "rate_limited",  # 4th within 14 days
        14 * 24 - 1: "rate_limited",  # the first message is still inside the window
        14 * 24 + 1: "invitation",  # it has just left the window
    }
    assert sent_to(learner).count() == 4


def test_rate_limit_holds_across_buttons_and_scopes():
    """Seed 000: the safeguard counts every Notify button, whichever scope was clicked."""
    learner = make_learner()
    Invitation.objects.create(learner=learner)
    group = LearnerGroup.objects.create(name="Warehouse")
    GroupMembership.objects.create(learner=learner, group=group)

    notify_learners(Learner.objects.all(), actor=None, scope="all_learners")
    run = notify_learners(group.members.all(), actor=None, scope="group", group=group)

    assert outcome(run, learner).reason == "rate_limited"
    assert run.group == group
    assert sent_to(learner).count() == 1


def test_omitted_outcomes_do_not_count_towards_the_limit():
    """Seed 000: only messages actually sent count; an up-to-date click does not use the allowance."""
    learner = make_learner()
    notify(learner)  # up to date: omitted
    Invitation.objects.create(learner=learner)

    assert outcome(notify(learner), learner).action == "invitation"


def test_repeated_clicks_do_not_spam():
    """Seed 000: click as often as you like; learners get at most one message a day."""
    learners = [make_learner() for _ in range(3)]
    for learner in learners:
        Invitation.objects.create(learner=learner)

    for _ in range(5):
        notify_learners(Learner.objects.all(), actor=None, scope="all_learners")

    assert Notification.objects.count() == 3
    assert NotifyRun.objects.count() == 5


def _population(n, program, group):
    """A mixed population: invitations, incomplete, missing, up to date, no consent."""
    learners = Learner.objects.bulk_create(
        [
            Learner(
                email=f"bulk{next(_seq)}@example.com",
                first_name="Bulk",
                last_name=str(i),
                consent_given_at=None if i % 10 == 9 else timezone.now(),
            )
            for i in range(n)
        ]
    )
    Invitation.objects.bulk_create([Invitation(learner=lr) for lr in learners[0::5]])
    Assignment.objects.bulk_create([Assignment(learner=lr, program=program) for lr in learners[1::5]])
    GroupMembership.objects.bulk_create([GroupMembership(learner=lr, group=group) for lr in learners[2::5]])
    return learners


@pytest.mark.parametrize("size", [10, 200])
def test_query_count_does_not_grow_with_the_number_of_learners(size, safety, django_assert_max_num_queries):
    """House rule with seed 000: the same number of queries for 10 and for 200 learners."""
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(safety)
    _population(size, safety, group)

    # 26 today, for 10 as for 200 learners: one chunk costs the same whatever its size (issue 19 added two
    # set-based reads to the outbox door: undeliverable addresses, and who left the optional reminders).
    with django_assert_max_num_queries(26):
        run = notify_learners(Learner.objects.all(), actor=None, scope="all_learners")

    assert run.processed == size == NotifyOutcome.objects.count()
    assert run.summary["sent"]["missing_training"] == Assignment.objects.filter(group=group).count()


def test_large_scopes_are_processed_in_chunks(safety, monkeypatch):
    """Seed 000 at scale: chunks each commit their progress; every learner gets exactly one outcome."""
    monkeypatch.setattr("notifications.notify.engine.CHUNK_SIZE", 7)
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(safety)
    _population(30, safety, group)

    run = notify_learners(Learner.objects.all(), actor=None, scope="all_learners")

    run.refresh_from_db()
    assert (run.status, run.total, run.processed) == ("done", 30, 30)
    assert NotifyOutcome.objects.filter(run=run).count() == 30
    assert sum(run.summary["sent"].values()) == Notification.objects.count()


def test_preview_uses_the_same_decision_and_writes_nothing(safety):
    """Seed 000: the preview shows what a click will do; nothing is sent or created until confirmed."""
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(safety)
    _population(20, safety, group)

    preview = preview_notify(Learner.objects.all())

    assert Notification.objects.count() == 0 and NotifyOutcome.objects.count() == 0
    assert Assignment.objects.filter(group=group).count() == 0
    run = notify_learners(Learner.objects.all(), actor=None, scope="all_learners")
    assert preview["actions"] == run.summary["sent"]
    assert preview["omitted"] == run.summary["omitted"]
    assert preview["assignments"] == run.summary["assigned"] == {"missing_training": 4}
    assert preview["total"] == 20
    assert preview["samples"]["invitation"]


def test_summary_reads_as_queued_by_kind_and_omitted_by_reason():
    """Seed 000: the administrator reads N queued (by kind), M omitted (by reason); "queued", not "sent",
    as the messages are only in the outbox yet (issue 20)."""
    text = describe_summary({"invitation": 2, "renewal": 1}, {"no_consent": 1})
    assert text == "3 queued (2 invitation, 1 renewal), 1 omitted (1 no consent)"


def test_summary_says_which_assignments_the_run_created():
    """Seed 000: the result names the assignments created, in the words of the preview; none, no mention."""
    text = describe_summary({"missing_training": 3, "renewal": 1}, {}, {"missing_training": 3, "renewal": 1})
    assert text == (
        "4 queued (3 missing training, 1 renewal), 0 omitted, "
        "4 assignments created (3 for missing required training, 1 to renew a certification)"
    )
    assert "assignment" not in describe_summary({"invitation": 1}, {}, {})


def test_batch_rendering_gives_exactly_the_words_of_a_full_render(safety):
    """Seed 000 at scale: messages rendered once per shape read exactly as if rendered one by one."""
    from notifications.models import MessageTemplate
    from notifications.notify.shapes import ShapeCachedTemplates
    from notifications.services import OutgoingMessage, Recipient, build_notification
    from notifications.templating import TemplateCache
    from notifications.variables import person_values

    learners = [
        make_learner(first_name="Ann", last_name="O'Brien & <Co>"),
        make_learner(first_name="bob.smith@example.com", last_name="B"),
        make_learner(first_name="", last_name="Nameless", language="fr", timezone="Europe/Paris"),
        make_learner(first_name="Zoë", last_name="Ż", language="pl"),
    ]
    complete = [{"title": "Ethics", "completed_at": timezone.now()}]
    incomplete = [{"title": "Safety: First aid", "due_at": timezone.now() + timedelta(days=3)}]

    def messages():
        for i, learner in enumerate(learners * 2):
            yield OutgoingMessage(
                event="notify.training_reminder",
                channel="email",
                recipient=Recipient(learner=learner),
                occurrence=str(i),
                context={"learner": person_values(learner), "complete": complete, "incomplete": incomplete},
            )
            yield OutgoingMessage(
                event="notify.invitation",
                channel="email",
                recipient=Recipient(learner=learner),
                occurrence=str(i),
                context={"learner": person_values(learner), "action_url": f"http://127.0.0.1:8000/a/{i}/"},
            )

    def words(templates):
        rows = [build_notification(m, templates=templates) for m in messages()]
        return [(r.subject, r.body, r.html_body) for r in rows]

    assert words(ShapeCachedTemplates()) == words(TemplateCache())
    MessageTemplate.objects.create(
        event="notify.invitation", language="en", subject="Hi", body="{{ learner.first_name|upper }} {{ action_url }}"
    )
    assert words(ShapeCachedTemplates()) == words(TemplateCache())
    # The edited words come first; the sign-off and the footer follow them (issue "what people see").
    assert "ANN http://127.0.0.1:8000/a/0/\n\nKind regards," in [w[1][:45] for w in words(ShapeCachedTemplates())]


def test_a_later_shape_that_changes_the_name_is_rendered_for_real(safety):
    """Seed 000 at scale: a shape whose words use the name differently from the first shape of its kind
    (here a filter taken only with several items to do) still reads exactly as a full render."""
    from notifications.models import MessageTemplate
    from notifications.notify.shapes import ShapeCachedTemplates
    from notifications.services import OutgoingMessage, Recipient, build_notification
    from notifications.templating import TemplateCache
    from notifications.variables import person_values

    MessageTemplate.objects.create(
        event="notify.training_reminder",
        language="en",
        subject="To do",
        body="{% if incomplete|length > 1 %}{{ learner.first_name|upper }}"
        "{% else %}{{ learner.first_name }}{% endif %}",
        html_body="<p>{% if incomplete|length > 1 %}{{ learner.last_name|slice:'2' }}{% endif %}</p>",
    )
    ann, bob = make_learner(first_name="Ann", last_name="Smith"), make_learner(first_name="Bob", last_name="Jones")
    one = [{"title": "Safety", "due_at": None}]
    two = [*one, {"title": "Ethics", "due_at": None}]

    def words(templates):
        rows = [
            build_notification(
                OutgoingMessage(
                    event="notify.training_reminder",
                    channel="email",
                    recipient=Recipient(learner=learner),
                    occurrence=f"{i}",
                    context={"learner": person_values(learner), "complete": [], "incomplete": todo},
                ),
                templates=templates,
            )
            for i, (learner, todo) in enumerate([(ann, one), (bob, one), (ann, two), (bob, two)])
        ]
        return [(r.subject, r.body, r.html_body) for r in rows]

    batch = words(ShapeCachedTemplates())
    assert batch == words(TemplateCache())
    # Each body is the edited words, then the same sign-off and footer (issue "what people see").
    assert [body.split("\n\n")[0] for _, body, _ in batch] == ["Ann", "Bob", "ANN", "BOB"]
    assert {body.split("\n\n", 1)[1] for _, body, _ in batch} == {
        "Kind regards,\nLMS Notify\n\nYou receive this email from LMS Notify because training is assigned to you."
    }


def test_the_outbox_fills_shapes_in_with_exactly_the_words_of_a_full_render(safety):
    """Seed 000 at scale: a shape's words go to the database once and each message's values are filled in
    there; every row (text, HTML, SMS and inbox versions) reads exactly as if rendered one by one."""
    from notifications.models import MessageTemplate
    from notifications.notify.shapes import ShapeCachedTemplates
    from notifications.services import OutgoingMessage, Recipient, build_notification, enqueue
    from notifications.templating import TemplateCache
    from notifications.variables import person_values

    learners = [
        make_learner(first_name="Ann", last_name="O'Brien & <Co> 100%", phone="+33600000001"),
        make_learner(first_name="bob.smith@example.com", last_name="%1$s %%s", phone="+33600000002"),
        make_learner(first_name="", last_name="Nameless", language="fr", timezone="Europe/Paris"),
        make_learner(first_name="Zoë", last_name="Ż", language="pl"),
    ]
    incomplete = ({"title": "Safety: First aid 100%", "due_at": timezone.now() + timedelta(days=3)},)

    def messages(tag):
        for i, learner in enumerate(learners * 2):
            for channel in ("email", "sms", "inbox"):
                yield OutgoingMessage(
                    event="notify.training_reminder",
                    channel=channel,
                    recipient=Recipient(learner=learner),
                    occurrence=f"{tag}{i}",
                    context={"learner": person_values(learner), "complete": (), "incomplete": incomplete},
                )
            yield OutgoingMessage(
                event="notify.invitation",
                channel="email",
                recipient=Recipient(learner=learner),
                occurrence=f"{tag}{i}",
                context={"learner": person_values(learner), "action_url": f"http://127.0.0.1:8000/a/{i}%/"},
            )

    # In Polish, more values than the database fills in for one version: those messages are filled in by Python.
    MessageTemplate.objects.create(
        event="notify.invitation",
        language="pl",
        subject="{{ learner.first_name }} !",
        body="{{ learner.first_name }} {{ learner.last_name }} {{ learner.full_name }} {{ recipient_name }} "
        "{{ learner.first_name }}",
    )
    fields = ("subject", "body", "html_body", "status")
    expected = [
        tuple(getattr(build_notification(m, templates=TemplateCache()), f) for f in fields) for m in messages("")
    ]
    created = enqueue(messages(""), templates=ShapeCachedTemplates(), return_rows=False)
    rows = Notification.objects.in_bulk(list(created.values()))
    assert len(rows) == len(expected) == 32
    assert "Zoë Ż Zoë Ż Zoë" in next(r.body for r in rows.values() if r.language == "pl" and "invitation" in r.event)
    assert [tuple(getattr(rows[created[m.dedupe_key]], f) for f in fields) for m in messages("")] == expected


@pytest.mark.parametrize("edited", [False, True])
def test_manager_and_guardian_copies_made_from_a_shape_read_exactly_as_a_full_render(safety, edited):
    """Seed 001 "to a user or their manager", seed 004 guardians, at scale: the copies for a learner's manager
    and guardians are made from a shape too (a trigger scan's manager copies were most of its time), and every
    copy, in every language, reads word for word as if rendered alone: greeting, the learner named, footer."""
    from learners.models import Guardian
    from notifications.models import MessageTemplate
    from notifications.notify.shapes import ShapeCachedTemplates
    from notifications.services import OutgoingMessage, Recipient, build_notification
    from notifications.templating import TemplateCache
    from notifications.variables import person_values

    if edited:
        MessageTemplate.objects.create(
            event="certification.expiry",
            language="en",
            subject="{{ learner.full_name }} / {{ reader }}",
            body="{% if reader == 'manager' %}{{ learner.last_name|upper }}{% else %}{{ recipient_name }}{% endif %}",
        )
    boss = make_learner(first_name="Maria", last_name="Boss & <Co>")
    learners = [
        make_learner(first_name="Ann", last_name="O'Brien", manager=boss),
        make_learner(first_name="Bob", last_name="Smith", manager=boss),
        make_learner(first_name="Zoë", last_name="Ż", language="pl", timezone="Europe/Warsaw", manager=boss),
        make_learner(first_name="Élise", last_name="Roux", language="fr", timezone="Europe/Paris", manager=boss),
    ]
    guardians = {
        learner.pk: Guardian.objects.create(learner=learner, name=f"Guardian of {learner.first_name}", email="")
        for learner in learners
    }
    expires = timezone.now() + timedelta(days=30)

    def messages():
        for i, learner in enumerate(learners * 2):
            context = {
                "learner": person_values(learner),
                "program": "First aid",
                "expires_at": expires,
                "action_url": "http://127.0.0.1:8000/",
            }
            for recipient in (
                Recipient(learner=learner),
                Recipient(learner=boss, as_manager=True),
                Recipient(guardian=guardians[learner.pk]),
            ):
                # The inbox copy drops the footer that names the learner: filled in, it is found and dropped.
                for channel in ("email", "inbox"):
                    yield OutgoingMessage(
                        event="certification.expiry",
                        channel=channel,
                        recipient=recipient,
                        occurrence=str(i),
                        context=context,
                    )

    def words(templates):
        rows = [build_notification(m, templates=templates) for m in messages()]
        return [(r.subject, r.body, r.html_body) for r in rows]

    shaped = ShapeCachedTemplates()
    batch = words(shaped)
    assert batch == words(TemplateCache())
    # One shape per reader and language: the copies of the second round are filled in, not rendered.
    # One shape per reader, language and time zone (her manager reads in his own): the copies of the second
    # round are filled in, not rendered. A filter on a name (the edited manager's words) is rendered for real.
    shapes = {(key[1], key[-1]): bool(proto) for key, proto in shaped._shapes.items()}
    assert shapes == {
        ("en", "learner"): True,
        ("en", "manager"): not edited,
        ("en", "guardian"): True,
        ("pl", "learner"): True,
        ("pl", "guardian"): True,
        ("fr", "learner"): True,
        ("fr", "guardian"): True,
    }
    if edited:
        assert batch[2][1].startswith("O'BRIEN") and batch[4][1].startswith("Guardian of Ann")
    else:
        assert batch[2][1].startswith("Hello Maria Boss & <Co>,")
        assert "because you manage Ann O'Brien." in batch[2][1] and "Bob Smith" in batch[8][1]
        assert "because you manage" not in batch[3][1] and "Ann O'Brien" in batch[3][1]


def test_a_run_of_several_chunks_queues_one_dispatch_task(safety, monkeypatch, django_capture_on_commit_callbacks):
    """Issue 8: each chunk asks for a dispatch after its commit; one task waits, not one per chunk."""
    from unittest import mock

    monkeypatch.setattr("notifications.notify.engine.CHUNK_SIZE", 7)
    group = LearnerGroup.objects.create(name="Warehouse")
    group.programs.add(safety)
    _population(30, safety, group)

    with mock.patch("django_q.tasks.async_task") as async_task:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notify_learners(Learner.objects.all(), actor=None, scope="all_learners")

    assert len(callbacks) > 1  # each chunk that queued messages asked for a dispatch
    async_task.assert_called_once_with("notifications.tasks.dispatch_outbox_task", group="outbox")


def test_deleting_a_learner_deletes_their_notify_outcomes(safety):
    """Seed 000: outcomes go with their learner (Django's cascade, as before the database stopped
    checking the reference on every insert)."""
    learner = make_learner()
    Invitation.objects.create(learner=learner)
    notify(learner)
    assert NotifyOutcome.objects.filter(learner_id=learner.pk).exists()

    learner.delete()

    assert not NotifyOutcome.objects.filter(learner_id=learner.pk).exists()


def test_a_learner_left_with_notify_outcomes_cannot_be_deleted():
    """Seed 000: as the foreign key did, the database refuses to delete a learner an outcome still names
    (a deletion racing a Notify run that wrote the outcome in between)."""
    from django.db import IntegrityError, connection, transaction

    learner = make_learner()
    run = NotifyRun.objects.create(scope="learner")
    NotifyOutcome.objects.create(run=run, learner=learner, action="omitted", reason="up_to_date")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        # Raw, as the race looks to the database: the outcome appeared after Django's cascade ran.
        cursor.execute("DELETE FROM learners_learner WHERE id = %s", [learner.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert Learner.objects.filter(pk=learner.pk).exists()
