"""One at a time across the cluster: a PostgreSQL session advisory lock held on a connection of its own.

The work's own connection may be closed and reopened under it (django-q2 closes obsolete connections when a
task is queued on commit), which would silently drop a lock taken on it. Other databases (SQLite for the demo)
run one worker: the lock is always granted there.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

logger = logging.getLogger(__name__)


class SessionAdvisoryLock:
    def __init__(self, key: int, *, what: str):
        self.key = key
        self.what = what
        self.wrapper = None

    def acquire(self) -> bool:
        if connection.vendor != "postgresql":
            return True
        self.wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
            locked = bool(cursor.fetchone()[0])
        if not locked:
            self.release(held=False)
        return locked

    def release(self, *, held=True):
        if self.wrapper is None:
            return
        try:
            if held:
                # Unlock before closing: closing alone frees the lock only once the server has noticed the
                # session ended, and the next run starting right after could find it still taken.
                with self.wrapper.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        except DatabaseError:
            logger.warning("%s lock: unlock failed; closing the session frees it", self.what, exc_info=True)
        finally:
            self.wrapper.close()
            self.wrapper = None
