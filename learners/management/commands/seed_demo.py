"""Demo data showing every feature: `python manage.py seed_demo`.

Idempotent: every object has a natural key (email, username, title, name,
learner+program, session+learner), existing rows are left alone and only the
missing ones are created, in bulk. The plan is drawn from random.Random(42)
before anything is read, so every run plans the same data. Rows are written
directly, not through the services: loading a demo must not queue messages.
"""

import random
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from learners.models import GroupMembership, Guardian, Invitation, Learner, LearnerGroup
from live_sessions.models import LiveSession, ParticipationRequest, SessionLearner, StatusChange
from live_sessions.trainers import TRAINERS_GROUP
from notifications.models import Notification, NotificationRule, NotifyRun
from notifications.services import (
    OutgoingMessage,
    PermanentSendError,
    Recipient,
    cancel,
    enqueue,
    ensure_schedules,
    notify_learners,
    person_values,
    record_failure,
)
from programs.models import (
    Assignment,
    AssignmentException,
    Course,
    CourseSet,
    CourseSetCompletion,
    ELearningEnrollment,
    Program,
    TrainingRequest,
)

LEARNER_COUNT = 50
MANAGER_COUNT = 6
DEMO_DOMAIN = "example.com"

NAMES = {
    "en": (
        ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Grace", "Leo", "Ella"],
        ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "Walker"],
    ),
    "fr": (
        ["Louise", "Gabriel", "Jade", "Raphaël", "Chloé", "Arthur", "Léa", "Hugo", "Manon", "Jules", "Inès"],
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"],
    ),
    "pl": (
        ["Zofia", "Jakub", "Zuzanna", "Antoni", "Julia", "Jan", "Maja", "Szymon", "Hanna", "Filip", "Łucja"],
        ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański"],
    ),
}
TIMEZONES = {
    "en": ["Europe/London", "America/New_York", "Australia/Sydney"],
    "fr": ["Europe/Paris", "America/Montreal", "Africa/Abidjan"],
    "pl": ["Europe/Warsaw"],
}
PHONE_PREFIX = {"en": "+4479111", "fr": "+336120", "pl": "+485120"}

COURSES = [
    ("Fire safety e-learning", Course.Kind.ELEARNING),
    ("Manual handling", Course.Kind.CLASSROOM),
    ("Hazard reporting", Course.Kind.ELEARNING),
    ("Customer care basics", Course.Kind.ELEARNING),
    ("Handling complaints workshop", Course.Kind.CLASSROOM),
    ("GDPR awareness", Course.Kind.ELEARNING),
    ("Data breach response", Course.Kind.ELEARNING),
    ("First aid theory", Course.Kind.ELEARNING),
    ("First aid practical", Course.Kind.CLASSROOM),
    ("Giving feedback", Course.Kind.CLASSROOM),
    ("Leading remote teams", Course.Kind.ELEARNING),
]

# title, kind, validity, window, [(course set title, [courses], due in days or None)]
PROGRAMS = [
    (
        "Workplace safety",
        Program.Kind.PROGRAM,
        None,
        None,
        [
            ("Fire safety", ["Fire safety e-learning"], -10),
            ("Manual handling", ["Manual handling"], 20),
            ("Hazard reporting", ["Hazard reporting"], 45),
        ],
    ),
    (
        "Customer care essentials",
        Program.Kind.PROGRAM,
        None,
        None,
        [
            ("Basics", ["Customer care basics"], 5),
            ("Complaints", ["Handling complaints workshop"], 30),
        ],
    ),
    (
        "Data protection",
        Program.Kind.PROGRAM,
        None,
        None,
        [
            ("Awareness", ["GDPR awareness"], -3),
            ("Breach response", ["Data breach response"], 7),
        ],
    ),
    (
        "First aid certification",
        Program.Kind.CERTIFICATION,
        365,
        60,
        [
            ("Theory", ["First aid theory"], None),
            ("Practical", ["First aid practical"], None),
        ],
    ),
    (
        "Leadership foundations",
        Program.Kind.PROGRAM,
        None,
        None,
        [
            ("Feedback", ["Giving feedback"], 14),
            ("Remote teams", ["Leading remote teams"], 60),
        ],
    ),
]

GROUPS = [
    ("Warehouse team", "Everyone working on the warehouse floor.", ["Workplace safety", "First aid certification"]),
    ("Sales", "Field and phone sales.", ["Customer care essentials", "Data protection"]),
    ("New starters", "Joined in the last three months.", ["Workplace safety", "Data protection"]),
    ("Managers", "Line managers.", ["Leadership foundations", "First aid certification"]),
]

RULES = [
    dict(
        name="Program assigned: learner and manager",
        event="program.assigned",
        channels=["email", "inbox"],
        notify_learner=True,
        notify_manager=True,
        requires_confirmation=False,
    ),
    dict(
        name="Program due in 7 days",
        event="program.due",
        channels=["email"],
        notify_learner=True,
        notify_manager=True,
        timing=NotificationRule.Timing.BEFORE,
        offset_days=7,
        requires_confirmation=True,
    ),
    dict(
        name="Recertification window open",
        event="certification.window_open",
        channels=["email", "inbox"],
        notify_learner=True,
        timing=NotificationRule.Timing.ON_EVENT,
        requires_confirmation=True,
    ),
    dict(
        name="Exceptions to site administrators",
        event="program.exception",
        channels=["email"],
        notify_learner=False,
        notify_guardians=False,
        notify_site_admins=True,
        requires_confirmation=False,
    ),
]

ST = SessionLearner.Status
# title, status, starts in days, hours, tz, location, capacity, options, [statuses of its learners]
SESSIONS = [
    (
        "Fire drill briefing — London",
        LiveSession.Status.DRAFT,
        12,
        2,
        "Europe/London",
        "London HQ, room 2.1",
        15,
        {},
        [ST.NOT_INVITED] * 6,
    ),
    (
        "First aid practical — Paris",
        LiveSession.Status.READY,
        5,
        4,
        "Europe/Paris",
        "Paris office, salle Lumière",
        8,
        {"waiting_list_enabled": True, "requires_approval": True, "calendar_integration": True},
        [ST.REGISTERED] * 4
        + [ST.INVITED, ST.INVITED, ST.DECLINED, ST.NEEDS_APPROVAL, ST.APPROVAL_DECLINED]
        + [ST.WAITING_LIST, ST.WAITING_LIST, ST.CANCELLED],
    ),
    (
        "Handling complaints workshop — Warsaw",
        LiveSession.Status.READY,
        9,
        3,
        "Europe/Warsaw",
        "Warszawa, ul. Prosta 20",
        6,
        {"waiting_list_enabled": True},
        [ST.REGISTERED] * 6 + [ST.WAITING_LIST],
    ),
    (
        "Customer care workshop — Manchester",
        LiveSession.Status.COMPLETED,
        -7,
        3,
        "Europe/London",
        "Manchester, Deansgate 12",
        10,
        {"feedback_form_url": "https://forms.example.com/feedback/customer-care"},
        [ST.ATTENDED] * 5 + [ST.ABSENT, ST.ABSENT, ST.GO_SHOW, ST.CANCELLED],
    ),
    (
        "Leadership webinar",
        LiveSession.Status.CANCELLED,
        3,
        1,
        "UTC",
        "https://meet.example.com/leadership",
        30,
        {"registration_form_url": "https://forms.example.com/register/leadership"},
        [ST.CANCELLED] * 4,
    ),
]


def ascii_slug(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def at_nine(now, days):
    """A day offset from today at 09:00 UTC, so dates look like a planner's, not a timestamp."""
    return (now + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


class Command(BaseCommand):
    help = "Create idempotent demo data: admin user, learners, groups, programs, a certification, sessions, rules."

    def handle(self, *args, **options):
        self.created = {}
        rng = random.Random(42)
        now = timezone.now()
        plan = self.plan_learners(rng)
        with transaction.atomic():
            users = self.seed_users()
            courses = self.seed_courses()
            programs = self.seed_programs(now, courses)
            groups = self.seed_groups(programs)
            learners = self.seed_learners(plan, now, users)
            self.seed_guardians(learners)
            self.seed_memberships(rng, learners, groups, now)
            self.seed_assignments(rng, learners, groups, programs, now)
            self.seed_invitations(rng, learners, users, now)
            self.seed_training(rng, learners, courses, users, now)
            self.seed_sessions(rng, learners, courses, users, now)
            self.seed_rules(programs)
            self.seed_messages(learners, users)
        schedules = self.seed_schedules()
        # scripts/run says where to sign in itself, once: it asks for silence (--verbosity 0).
        if options["verbosity"]:
            self.report(schedules)

    # --- helpers -------------------------------------------------------------

    def count(self, label, n):
        self.created[label] = self.created.get(label, 0) + n

    def bulk_missing(self, model, label, rows, key, existing_keys):
        """Create the rows whose key is not there yet; returns how many were created."""
        existing = set(existing_keys)
        missing = [row for row in rows if key(row) not in existing]
        model.objects.bulk_create(missing, batch_size=500)
        self.count(label, len(missing))
        return missing

    # --- plan ----------------------------------------------------------------

    def plan_learners(self, rng):
        plan, seen = [], set()
        for i in range(LEARNER_COUNT):
            language = ["en", "fr", "pl"][i % 3]
            firsts, lasts = NAMES[language]
            while True:
                first, last = rng.choice(firsts), rng.choice(lasts)
                if (first, last) not in seen:
                    seen.add((first, last))
                    break
            plan.append(
                {
                    "index": i,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{ascii_slug(first)}.{ascii_slug(last)}@{DEMO_DOMAIN}",
                    "language": language,
                    "timezone": rng.choice(TIMEZONES[language]),
                    # About a third have no phone: SMS to them is omitted with "no contact".
                    "phone": f"{PHONE_PREFIX[language]}{i:05d}" if rng.random() < 0.65 else "",
                    # Every ninth learner has not consented: nothing is sent to them (seed 004).
                    "consent_days_ago": None if i % 9 == 4 else rng.randint(5, 700),
                    "is_active": i != LEARNER_COUNT - 1,
                }
            )
        return plan

    # --- users, catalogue -----------------------------------------------------

    def seed_users(self):
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"email": "admin@example.com", "first_name": "Site", "last_name": "Administrator"},
        )
        # The printed login must work, so the password is reset on every run.
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.set_password("admin")
        admin.save()
        self.count("users", int(created))
        session_perms = Permission.objects.filter(
            content_type__app_label="live_sessions",
            codename__in=[
                "view_livesession",
                "change_livesession",
                "view_sessionlearner",
                "change_sessionlearner",
                "view_statuschange",
            ],
        )
        result = {"admin": admin}
        # The approver is staff with the live sessions' rights; the trainer is not staff at all:
        # a trainer has the trainer pages (/trainer/) as a member of the Trainers group, and no admin.
        for username, first, last, is_staff in [
            ("trainer", "Tom", "Trainer", False),
            ("approver", "Alice", "Approver", True),
        ]:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "first_name": first, "last_name": last},
            )
            if created:
                user.set_password(username)
            # Set on every run, so a database seeded before keeps no rights the account should not have.
            user.is_staff = is_staff
            user.save()
            user.user_permissions.set(session_perms if is_staff else [])
            self.count("users", int(created))
            result[username] = user
        # The demo trainer takes attendance on the trainer pages (/trainer/).
        result["trainer"].groups.add(Group.objects.get_or_create(name=TRAINERS_GROUP)[0])
        return result

    def seed_courses(self):
        existing = {c.title: c for c in Course.objects.filter(title__in=[t for t, _k in COURSES])}
        self.bulk_missing(Course, "courses", [Course(title=t, kind=k) for t, k in COURSES], lambda c: c.title, existing)
        return {c.title: c for c in Course.objects.filter(title__in=[t for t, _k in COURSES])}

    def seed_programs(self, now, courses):
        programs = {}
        for title, kind, validity, window, course_sets in PROGRAMS:
            program, created = Program.objects.get_or_create(
                title=title,
                defaults={"kind": kind, "validity_days": validity, "recertification_window_days": window},
            )
            self.count("programs", int(created))
            programs[title] = program
            for position, (set_title, set_courses, due_in) in enumerate(course_sets, start=1):
                course_set, created = CourseSet.objects.get_or_create(
                    program=program,
                    title=set_title,
                    defaults={"position": position, "due_at": at_nine(now, due_in) if due_in is not None else None},
                )
                if created:
                    course_set.courses.set([courses[c] for c in set_courses])
                self.count("course sets", int(created))
        return programs

    def seed_groups(self, programs):
        groups = {}
        for name, description, required in GROUPS:
            group, created = LearnerGroup.objects.get_or_create(name=name, defaults={"description": description})
            if created:
                group.programs.set([programs[p] for p in required])
            self.count("groups", int(created))
            groups[name] = group
        return groups

    # --- learners -------------------------------------------------------------

    def seed_learners(self, plan, now, users):
        emails = [p["email"] for p in plan]

        def rows(entries, managers):
            return [
                Learner(
                    email=p["email"],
                    first_name=p["first_name"],
                    last_name=p["last_name"],
                    phone=p["phone"],
                    language=p["language"],
                    timezone=p["timezone"],
                    consent_given_at=None
                    if p["consent_days_ago"] is None
                    else now - timedelta(days=p["consent_days_ago"]),
                    is_active=p["is_active"],
                    manager=managers.get(p["index"]),
                    created_at=now - timedelta(days=400 - p["index"] * 7),
                )
                for p in entries
            ]

        def existing_emails():
            return set(Learner.objects.filter(email__in=emails).values_list("email", flat=True))

        # The head of training (learner 0) manages the other managers, who manage everyone else.
        head = plan[0]
        self.bulk_missing(Learner, "learners", rows([head], {}), lambda r: r.email, existing_emails())
        by_email = {x.email: x for x in Learner.objects.filter(email__in=emails)}
        managers = {p["index"]: by_email[head["email"]] for p in plan[1:MANAGER_COUNT]}
        self.bulk_missing(
            Learner, "learners", rows(plan[1:MANAGER_COUNT], managers), lambda r: r.email, existing_emails()
        )
        by_email = {x.email: x for x in Learner.objects.filter(email__in=emails)}
        team_leads = [by_email[p["email"]] for p in plan[1:MANAGER_COUNT]]
        managers = {p["index"]: team_leads[p["index"] % len(team_leads)] for p in plan[MANAGER_COUNT:]}
        self.bulk_missing(
            Learner, "learners", rows(plan[MANAGER_COUNT:], managers), lambda r: r.email, existing_emails()
        )
        learners = [x for x in Learner.objects.filter(email__in=emails).select_related("manager")]
        learners.sort(key=lambda x: emails.index(x.email))
        # The approver signs in as the head of training, so their requests count as a manager's.
        if learners[0].user_id is None and not Learner.objects.filter(user=users["approver"]).exists():
            learners[0].user = users["approver"]
            learners[0].save(update_fields=["user"])
        return learners

    def seed_guardians(self, learners):
        wanted = []
        for i, learner in enumerate(learners):
            if i % 10 != 7:
                continue
            wanted.append(
                Guardian(
                    learner=learner,
                    name=f"Parent of {learner.first_name}",
                    email=f"parent.{ascii_slug(learner.first_name)}@{DEMO_DOMAIN}" if i != 27 else "",
                    phone=f"+4479112{90000 + i}" if i in (17, 27) else "",
                    is_enabled=i != 37,
                )
            )
        existing = Guardian.objects.filter(learner__in=learners).values_list("learner_id", "name")
        self.bulk_missing(Guardian, "guardians", wanted, lambda g: (g.learner_id, g.name), existing)

    def seed_memberships(self, rng, learners, groups, now):
        wanted = []
        for i, learner in enumerate(learners):
            if i < MANAGER_COUNT:
                names = ["Managers"]
            else:
                names = rng.sample(["Warehouse team", "Sales", "New starters"], k=rng.choice([1, 1, 2]))
            for name in names:
                wanted.append(
                    GroupMembership(learner=learner, group=groups[name], joined_at=now - timedelta(days=300 - i * 5))
                )
        existing = GroupMembership.objects.filter(learner__in=learners).values_list("learner_id", "group_id")
        self.bulk_missing(GroupMembership, "group memberships", wanted, lambda m: (m.learner_id, m.group_id), existing)

    # --- programs -------------------------------------------------------------

    def seed_assignments(self, rng, learners, groups, programs, now):
        """Assignments in every state, through each learner's groups.

        Certifications are completed long ago (recertification window open),
        recently, or expired (failed to recertify); programs are open, overdue,
        completed or unassigned.
        """
        memberships = GroupMembership.objects.filter(learner__in=learners).select_related("group")
        group_programs = {g.pk: list(g.programs.all()) for g in groups.values()}
        active = {x.pk for x in learners if x.is_active}
        planned = {}
        for membership in sorted(memberships, key=lambda m: (m.learner_id, m.group.name)):
            if membership.learner_id not in active:
                continue
            for program in group_programs[membership.group_id]:
                if (membership.learner_id, program.pk) in planned:
                    continue
                planned[(membership.learner_id, program.pk)] = (membership.group, program)
        wanted, plans = [], {}
        for (learner_id, program_id), (group, program) in sorted(planned.items()):
            roll = rng.random()
            assigned_at = now - timedelta(days=rng.randint(60, 200))
            row = Assignment(learner_id=learner_id, program=program, group=group, assigned_at=assigned_at)
            if program.is_certification:
                completed_ago = [rng.randint(310, 350), rng.randint(10, 60), rng.randint(370, 420), None][
                    0 if roll < 0.4 else 1 if roll < 0.7 else 2 if roll < 0.85 else 3
                ]
                if completed_ago is None:
                    row.due_at = at_nine(now, rng.choice([-5, 6, 30]))
                else:
                    row.assigned_at = now - timedelta(days=completed_ago + 30)
                    row.completed_at = now - timedelta(days=completed_ago)
                    row.expires_at = row.completed_at + timedelta(days=program.validity_days)
            elif roll < 0.35:
                row.due_at = at_nine(now, rng.choice([6, 7, 20, 45]))  # open
            elif roll < 0.55:
                row.due_at = at_nine(now, -rng.randint(1, 30))  # overdue
            elif roll < 0.9:
                row.due_at = at_nine(now, -rng.randint(1, 30))
                row.completed_at = assigned_at + timedelta(days=rng.randint(5, 50))
            else:
                row.unassigned_at = assigned_at + timedelta(days=rng.randint(3, 30))
            plans[(learner_id, program_id)] = row
            wanted.append(row)
        existing = Assignment.objects.filter(learner__in=learners).values_list("learner_id", "program_id")
        self.bulk_missing(Assignment, "assignments", wanted, lambda a: (a.learner_id, a.program_id), existing)
        self.seed_completions(rng, learners)
        self.seed_exceptions(learners, now)

    def seed_completions(self, rng, learners):
        assignments = Assignment.objects.filter(learner__in=learners).select_related("program").order_by("pk")
        first_run = NotifyRun.objects.order_by("created_at").first()
        if first_run is not None:
            # What the demo's Notify run assigned (missing training) stays untouched, as a real one would be.
            assignments = assignments.filter(assigned_at__lt=first_run.created_at)
        sets = {}
        for course_set in CourseSet.objects.order_by("position"):
            sets.setdefault(course_set.program_id, []).append(course_set)
        wanted = []
        for assignment in assignments:
            program_sets = sets.get(assignment.program_id, [])
            if assignment.completed_at is not None:
                done = program_sets
                at = assignment.completed_at
            elif assignment.unassigned_at is None:
                # Open assignments are part-way through (seed 000 "incomplete training" reminders).
                done = program_sets[: (assignment.pk % max(len(program_sets), 1))]
                at = assignment.assigned_at + timedelta(days=3)
            else:
                done, at = [], None
            wanted.extend(CourseSetCompletion(assignment=assignment, course_set=s, completed_at=at) for s in done)
        existing = CourseSetCompletion.objects.filter(assignment__learner__in=learners).values_list(
            "assignment_id", "course_set_id"
        )
        self.bulk_missing(
            CourseSetCompletion,
            "course set completions",
            wanted,
            lambda c: (c.assignment_id, c.course_set_id),
            existing,
        )

    def seed_exceptions(self, learners, now):
        open_ones = list(
            Assignment.objects.open()
            .filter(learner__in=learners)
            .select_related("program")
            .order_by("learner__email", "program__title")[:2]
        )
        kinds = [AssignmentException.Kind.DUE_DATE_UNREACHABLE, AssignmentException.Kind.DUPLICATE_COURSE]
        for n, (assignment, kind) in enumerate(zip(open_ones, kinds, strict=False)):
            _obj, created = AssignmentException.objects.get_or_create(
                assignment=assignment,
                kind=kind,
                defaults={"reported_at": now - timedelta(days=2 + n), "resolved_at": now if n else None},
            )
            self.count("assignment exceptions", int(created))

    # --- invitations, requests, e-learning --------------------------------------

    def seed_invitations(self, rng, learners, users, now):
        """Pending (some due for the D+7 and D+45 reminders), accepted and declined (seed 002 §I)."""
        wanted = []
        for i, learner in enumerate(learners):
            roll = rng.random()
            source = rng.choice(
                [Invitation.Source.MANUAL, Invitation.Source.MANUAL, Invitation.Source.BULK_IMPORT, "integration"]
            )
            sent_ago = rng.choice([1, 8, 20, 46, 90])
            if i % 4 == 3:
                continue  # some learners were never invited
            status = (
                Invitation.Status.PENDING
                if roll < 0.4
                else Invitation.Status.ACCEPTED
                if roll < 0.85
                else Invitation.Status.DECLINED
            )
            sent_at = now - timedelta(days=sent_ago)
            wanted.append(
                Invitation(
                    learner=learner,
                    status=status,
                    source=source,
                    created_at=sent_at,
                    # Bulk imports send no email (seed 002 §I).
                    sent_at=None if source == Invitation.Source.BULK_IMPORT else sent_at,
                    responded_at=None if status == Invitation.Status.PENDING else sent_at + timedelta(days=1),
                    created_by=users["admin"],
                )
            )
        existing = Invitation.objects.filter(learner__in=learners).values_list("learner_id", flat=True)
        self.bulk_missing(Invitation, "invitations", wanted, lambda inv: inv.learner_id, existing)

    def seed_training(self, rng, learners, courses, users, now):
        head = learners[0]
        team = [x for x in learners if x.manager_id == head.pk or x.manager_id in {m.pk for m in learners[1:6]}]
        requests = [
            (team[0], "Handling complaints workshop", TrainingRequest.Status.SUBMITTED, None),
            (team[1], "Data breach response", TrainingRequest.Status.SUBMITTED, users["approver"]),
            (team[2], "Leading remote teams", TrainingRequest.Status.APPROVED, None),
            (team[3], "First aid practical", TrainingRequest.Status.REFUSED, None),
        ]
        for n, (learner, course, status, requested_by) in enumerate(requests):
            decided = status != TrainingRequest.Status.SUBMITTED
            _obj, created = TrainingRequest.objects.get_or_create(
                learner=learner,
                course=courses[course],
                defaults={
                    "status": status,
                    "requested_by": requested_by,
                    "created_at": now - timedelta(days=10 - n),
                    "decided_at": now - timedelta(days=2) if decided else None,
                    "decided_by": users["admin"] if decided else None,
                },
            )
            self.count("training requests", int(created))
        # E-learning windows of every length band of the reminder schedule (seed 002 §IV).
        elearning = [c for c in courses.values() if c.kind == Course.Kind.ELEARNING]
        wanted = []
        for n, length in enumerate([30, 21, 14, 12, 8, 7, 4]):
            learner = learners[10 + n]
            ends_on = (now + timedelta(days=rng.randint(1, 16))).date()
            wanted.append(
                ELearningEnrollment(
                    learner=learner,
                    course=elearning[n % len(elearning)],
                    starts_on=ends_on - timedelta(days=length),
                    ends_on=ends_on,
                )
            )
        existing = ELearningEnrollment.objects.filter(learner__in=learners).values_list("learner_id", "course_id")
        self.bulk_missing(
            ELearningEnrollment, "e-learning enrollments", wanted, lambda e: (e.learner_id, e.course_id), existing
        )

    # --- live sessions --------------------------------------------------------

    def seed_sessions(self, rng, learners, courses, users, now):
        active = [x for x in learners if x.is_active]
        course_for = {
            "Fire drill": "Fire safety e-learning",
            "First aid": "First aid practical",
            "Handling complaints": "Handling complaints workshop",
            "Customer care": "Handling complaints workshop",
            "Leadership": "Giving feedback",
        }
        wanted_sl, sessions = [], []
        for title, status, in_days, hours, tz, location, capacity, options, statuses in SESSIONS:
            starts_at = at_nine(now, in_days)
            course = next(courses[c] for prefix, c in course_for.items() if title.startswith(prefix))
            session, created = LiveSession.objects.get_or_create(
                title=title,
                defaults={
                    "status": status,
                    "course": course,
                    "starts_at": starts_at,
                    "ends_at": starts_at + timedelta(hours=hours),
                    "timezone": tz,
                    "location": location,
                    "capacity": capacity,
                    "approver": users["approver"] if options.get("requires_approval") else None,
                    **options,
                },
            )
            if created:
                session.trainers.set([users["trainer"]])
            self.count("live sessions", int(created))
            sessions.append(session)
            for learner, sl_status in zip(rng.sample(active, len(statuses)), statuses, strict=True):
                wanted_sl.append(
                    SessionLearner(
                        session=session,
                        learner=learner,
                        status=sl_status,
                        created_at=starts_at - timedelta(days=20),
                        status_changed_at=min(now, starts_at - timedelta(days=20 - len(wanted_sl) % 10)),
                    )
                )
        existing = SessionLearner.objects.filter(session__in=sessions).values_list("session_id", "learner_id")
        self.bulk_missing(
            SessionLearner, "session learners", wanted_sl, lambda s: (s.session_id, s.learner_id), existing
        )
        # Every status has its history: one StatusChange for each learner that has none yet.
        without_history = SessionLearner.objects.filter(session__in=sessions, status_changes__isnull=True)
        changes = [
            StatusChange(
                session_learner=sl, from_status="", to_status=sl.status, trigger="seed_demo", at=sl.status_changed_at
            )
            for sl in without_history
        ]
        StatusChange.objects.bulk_create(changes)
        self.count("status changes", len(changes))
        ready = [s for s in sessions if s.status == LiveSession.Status.READY]
        chooser = active[-2]
        if not ParticipationRequest.objects.filter(learner=chooser).exists():
            request = ParticipationRequest.objects.create(
                learner=chooser, created_by=users["admin"], created_at=now - timedelta(days=3)
            )
            request.sessions.set(ready)
            self.count("participation requests", 1)

    # --- rules and schedules ----------------------------------------------------

    def seed_rules(self, programs):
        for rule in RULES:
            fields = dict(rule)
            name = fields.pop("name")
            # Left alone when present: an administrator may have tuned it since.
            _obj, created = NotificationRule.objects.get_or_create(name=name, defaults=fields)
            self.count("notification rules", int(created))

    def seed_messages(self, learners, users):
        """Messages in every state an administrator meets (seed 004): awaiting confirmation, failed with the
        server's error, cancelled with its reason, omitted (no consent, no phone), and one Notify run with its
        omitted learners. Through the outbox's own door: a second run finds every dedupe key taken."""
        admin = users["admin"]
        open_assignments = Assignment.objects.filter(learner__in=learners, unassigned_at__isnull=True)
        assignments = {a.learner_id: a for a in open_assignments.select_related("program")}
        with_consent = [lr for lr in learners if lr.consent_given_at and lr.is_active and lr.pk in assignments]
        without_consent = [lr for lr in learners if lr.consent_given_at is None and lr.is_active]
        without_phone = [lr for lr in with_consent if not lr.phone]

        def message(learner, occurrence, *, channel="email", **kwargs):
            assignment = assignments.get(learner.pk)
            return OutgoingMessage(
                event="program.assigned",
                channel=channel,
                recipient=Recipient(learner=learner),
                occurrence=f"demo-{occurrence}",
                context={
                    "learner": person_values(learner),
                    "program": assignment.program.title if assignment else "Data protection",
                    "due_at": assignment.due_at if assignment else None,
                    "group": "",
                    "action_url": f"{settings.SITE_URL}/",
                },
                actor=admin,
                **kwargs,
            )

        wanted = [
            *(message(lr, "awaiting", requires_confirmation=True) for lr in with_consent[:3]),
            *(message(lr, "no-consent") for lr in without_consent[:2]),
            *(message(lr, "no-phone", channel="sms") for lr in without_phone[:1]),
            *(message(lr, "cancelled") for lr in with_consent[3:5]),
            *(message(lr, "failed") for lr in with_consent[5:6]),
        ]
        created = enqueue(wanted)
        self.created["messages"] = len(created)
        queued = {n.dedupe_key: n for n in created if n.status == Notification.Status.QUEUED}
        cancelled = [n.pk for key, n in queued.items() if key.endswith(":demo-cancelled")]
        if cancelled:
            cancel(cancelled, actor=admin)
        for key, row in queued.items():
            if key.endswith(":demo-failed"):
                record_failure(row, PermanentSendError("550 5.1.1 <mailbox unavailable>: recipient address rejected"))
        group = LearnerGroup.objects.order_by("name").first()
        if group is not None and not NotifyRun.objects.exists():
            # One click of "Notify group": its outcomes show who was omitted and why (no consent, no email).
            members = Learner.objects.filter(memberships__group=group, is_active=True)
            notify_learners(members, actor=admin, scope=NotifyRun.Scope.GROUP, group=group)
            self.created["notify runs"] = 1

    def seed_schedules(self):
        return ensure_schedules()

    def report(self, schedules):
        totals = [
            ("users", get_user_model().objects.count()),
            ("learners", Learner.objects.count()),
            ("guardians", Guardian.objects.count()),
            ("groups", LearnerGroup.objects.count()),
            ("group memberships", GroupMembership.objects.count()),
            ("courses", Course.objects.count()),
            ("programs", Program.objects.count()),
            ("course sets", CourseSet.objects.count()),
            ("assignments", Assignment.objects.count()),
            ("course set completions", CourseSetCompletion.objects.count()),
            ("assignment exceptions", AssignmentException.objects.count()),
            ("invitations", Invitation.objects.count()),
            ("training requests", TrainingRequest.objects.count()),
            ("e-learning enrollments", ELearningEnrollment.objects.count()),
            ("live sessions", LiveSession.objects.count()),
            ("session learners", SessionLearner.objects.count()),
            ("status changes", StatusChange.objects.count()),
            ("participation requests", ParticipationRequest.objects.count()),
            ("notification rules", NotificationRule.objects.count()),
            ("messages", Notification.objects.count()),
            ("notify runs", NotifyRun.objects.count()),
        ]
        self.stdout.write("Demo data (created this run / total):")
        for label, total in totals:
            self.stdout.write(f"  {label:<24} {self.created.get(label, 0):>5} / {total}")
        if schedules is not None:
            self.stdout.write("Schedules: " + ", ".join(f"{k} ({v})" for k, v in schedules.items()))
        self.stdout.write(self.style.SUCCESS(f"Admin: {settings.SITE_URL}/admin/  —  login admin / admin"))
        self.stdout.write(
            "Also: approver / approver (staff, live sessions only); trainer / trainer (trainer pages only)."
        )
        self.stdout.write(f"Trainer pages: {settings.SITE_URL}/trainer/  —  login trainer / trainer")
