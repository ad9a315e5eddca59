"""Two real qcluster processes per broker: each schedule occurrence runs once, each message is sent once
(seed 001 date triggers "on a cluster of workers"). The processes are django-q2's qcluster whose scheduler
looks at the schedules every second instead of every 30 (programs.tests.fast_qcluster)."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule, Task

from learners.models import Learner
from notifications.models import Notification, NotificationRule, TriggerScan
from notifications.schedules import ensure_schedules
from programs import services
from programs.models import Program

REDIS_URL = "redis://127.0.0.1:6379/11"
SCAN = "notifications.tasks.scan_triggers_task"


def learner_zone_past_its_morning():
    """A time zone where it is now past 9:00, so today's 8:00 due-date moment has just passed."""
    now = timezone.now()
    for name in (
        "UTC",
        "Asia/Tokyo",
        "Pacific/Auckland",
        "Asia/Kolkata",
        "Europe/Paris",
        "America/New_York",
        "America/Los_Angeles",
        "Pacific/Kiritimati",
    ):
        if 9 <= now.astimezone(ZoneInfo(name)).hour <= 23:
            return name
    raise AssertionError("no time zone found")  # pragma: no cover - one of them is always past 9:00


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until(condition, *, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def start_clusters(count, env, log_dir):
    procs = []
    for i in range(count):
        log = open(log_dir / f"qcluster-{i}.log", "w")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "programs.tests.fast_qcluster"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return procs


def stop_clusters(procs):
    """SIGTERM, then SIGKILL to each cluster's own process group after 3 s: django-q2's sentinel waits up
    to 30 s for its monitor on the way out, and the work under test is over by then."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_two_clusters_run_each_scan_once_and_send_each_message_once(broker, tmp_path):
    """seed 001 on a cluster: two qcluster processes on one broker share the schedules; every occurrence of
    the scan schedule runs once, and every due-date reminder is sent once."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker processes share the test database: PostgreSQL only")
    tz = learner_zone_past_its_morning()
    now = timezone.now()
    program = Program.objects.create(title="Safety basics")
    manager = Learner.objects.create(email="boss@example.com", first_name="Bo", last_name="Ss", consent_given_at=now)
    for i in range(12):
        learner = Learner.objects.create(
            email=f"l{i}@example.com",
            first_name=f"L{i}",
            last_name="X",
            timezone=tz,
            consent_given_at=now,
            manager=manager if i % 2 else None,
        )
        services.assign(learner, program, due_at=now)  # due today where the learner is: 8:00 has passed
    NotificationRule.objects.create(
        event="program.due",
        timing="on_event",
        channels=["email"],
        notify_learner=True,
        notify_manager=True,
        requires_confirmation=False,
        active_since=now - timedelta(days=2),
    )
    ensure_schedules()
    Schedule.objects.update(next_run=now - timedelta(seconds=1))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "lms_notify.settings",
        "Q_WORKERS": "1",
        "EMAIL_URL": f"filemail:///{tmp_path}/mail",  # four slashes: an absolute path
        "Q_REDIS_URL": REDIS_URL if broker == "redis" else "",
        "Q_SYNC": "false",
        # Test runs of several checkouts may share this Redis: each keeps to a queue named after its database.
        "Q_NAME": f"lms_test_{connection.settings_dict['NAME']}",
    }
    if broker == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"django_q:{env['Q_NAME']}:*"):
            client.delete(key)
    procs = start_clusters(2, env, tmp_path)
    expected = 12 + 6
    try:
        done = lambda n: TriggerScan.objects.filter(status="done").count() >= n  # noqa: E731
        wait_until(lambda: done(1), timeout=25, what="the first scan")
        wait_until(
            lambda: Notification.objects.filter(status="sent").count() == expected, timeout=20, what="the messages"
        )
        # The next occurrence of the scan schedule (as if five minutes had passed).
        Schedule.objects.filter(func=SCAN).update(next_run=timezone.now() - timedelta(seconds=1))
        wait_until(lambda: done(2), timeout=20, what="the second scan")
        time.sleep(3)  # both clusters' schedulers look again: nothing runs twice
    finally:
        stop_clusters(procs)

    assert TriggerScan.objects.count() == 2
    assert Task.objects.filter(func=SCAN).count() == 2
    rows = Notification.objects.all()
    assert rows.count() == expected
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    message_ids = re.findall(
        r"^Message-ID: (.+)$", "".join(p.read_text() for p in (tmp_path / "mail").iterdir()), re.MULTILINE
    )
    assert len(message_ids) == expected and len(set(message_ids)) == expected
