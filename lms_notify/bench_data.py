"""A learner's history as the product records it: for the timeline's tests and `manage.py bench_admin`."""

from datetime import timedelta

from django.utils import timezone

from learners.models import Guardian, Invitation, Learner
from live_sessions.models import LiveSession, ParticipationRequest, SessionLearner, StatusChange
from notifications.models import Notification, NotifyOutcome, NotifyRun
from programs.models import Course, TrainingRequest

# history() gives this many timeline entries for each `each`: 2 messages (to her and to her guardian), 1 Notify
# outcome, 1 session status change, 2 training request steps, 2 invitation steps, 1 date choice.
ENTRIES_PER_EACH = 9


def learner(email="chloe@example.com", **fields):
    defaults = {"first_name": "Chloé", "last_name": "Martin", "consent_given_at": timezone.now()}
    return Learner.objects.create(email=email, **{**defaults, **fields})


def history(someone, *, each=1, actor=None, start=None):
    """`each` entries of every kind for `someone` (messages count double: to her and to her guardian),
    spread over the last days; bulk-created: a few queries whatever `each`."""
    start = start or timezone.now() - timedelta(days=30)
    step = timedelta(days=30) / max(1, 6 * each)
    moments = (start + step * i for i in range(10**9))
    guardian = Guardian.objects.create(learner=someone, name="Anne Martin", email="anne@example.com")
    run = NotifyRun.objects.create(scope=NotifyRun.Scope.LEARNER, learner=someone, actor=actor)
    messages = []
    for i in range(each):
        for recipient in ({"recipient_learner": someone}, {"recipient_guardian": guardian}):
            status, reason = ("omitted", "no_consent") if i % 3 == 0 else ("sent", "")
            messages.append(
                Notification(
                    event="program.assigned",
                    channel="email",
                    status=status,
                    reason=reason,
                    to="x@example.com",
                    dedupe_key=f"t:{someone.pk}:{len(messages)}",
                    created_at=next(moments),
                    **recipient,
                )
            )
    Notification.objects.bulk_create(messages)
    NotifyOutcome.objects.bulk_create(
        NotifyOutcome(run=run, learner=someone, action="omitted", reason="rate_limited", created_at=next(moments))
        for _ in range(each)
    )
    course = Course.objects.create(title="First aid")
    session = LiveSession.objects.create(
        title="First aid, Lyon", starts_at=start + timedelta(days=40), ends_at=start + timedelta(days=40, hours=3)
    )
    place = SessionLearner.objects.create(session=session, learner=someone, status="registered")
    StatusChange.objects.bulk_create(
        StatusChange(
            session_learner=place,
            from_status="invited",
            to_status="registered",
            trigger="registration",
            at=next(moments),
        )
        for _ in range(each)
    )
    TrainingRequest.objects.bulk_create(
        TrainingRequest(
            learner=someone, course=course, status="refused", created_at=(at := next(moments)), decided_at=at + step / 2
        )
        for _ in range(each)
    )
    Invitation.objects.bulk_create(
        Invitation(
            learner=someone, status="accepted", created_at=(at := next(moments)), sent_at=at, responded_at=at + step / 2
        )
        for _ in range(each)
    )
    ParticipationRequest.objects.bulk_create(
        ParticipationRequest(learner=someone, status="pending", created_at=next(moments)) for _ in range(each)
    )
    return session
