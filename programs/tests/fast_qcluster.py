"""`manage.py qcluster` for the cluster tests: django-q2's own cluster, broker and scheduler, except that
the scheduler also looks at the schedules every second (django-q2 does it every 30 seconds), so that a
test of several schedule occurrences takes seconds. The exactly-once of a schedule occurrence is
django-q2's scheduler() (row locks on the schedules), which runs unchanged.

    python -m programs.tests.fast_qcluster
"""

import os
import threading


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_notify.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django_q import cluster

    guard = cluster.Sentinel.guard

    def guard_with_fast_scheduler(self):
        def tick():
            while not self.stop_event.wait(1):
                cluster.scheduler(broker=self.broker)

        threading.Thread(target=tick, daemon=True).start()
        return guard(self)

    # The sentinel process is forked from this one: it inherits the patched class.
    cluster.Sentinel.guard = guard_with_fast_scheduler
    call_command("qcluster")


if __name__ == "__main__":
    main()
