"""The IMAP poller: reads the organiser's mailbox (INBOUND_IMAP_URL) every minute.

Each message goes through `receive` in its own transaction and is moved to INBOUND_IMAP_PROCESSED_FOLDER
only once that transaction has committed: a crash or a lost connection leaves it in the inbox, and the next
poll hands it to `receive` again, which recognises it (its Message-ID) and does nothing more. One poller
runs at a time across the cluster (a PostgreSQL session advisory lock on a connection of its own).
"""

import imaplib
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from imap_tools import MailBox, MailBoxUnencrypted

from lms_notify.locks import SessionAdvisoryLock

from .receive import receive

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key: one mailbox poll at a time across every worker.
_ADVISORY_LOCK_KEY = 0x1B0C19


@dataclass
class PollResult:
    received: int = 0  # new messages recorded
    repeated: int = 0  # already recorded (a previous poll died before moving them)
    moved: int = 0
    error: str = ""
    skipped: bool = False  # another poller holds the lock, or no mailbox is configured
    uids: list = field(default_factory=list)


def poll_lock():
    """One mailbox poll at a time across every worker (the IMAP mailbox and the local folder alike)."""
    return SessionAdvisoryLock(_ADVISORY_LOCK_KEY, what="Inbound mailbox poll")


def _open(url, timeout):
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError("INBOUND_IMAP_URL must start with imap:// or imaps://")
    secure = parts.scheme == "imaps"
    port = parts.port or (993 if secure else 143)
    box_class = MailBox if secure else MailBoxUnencrypted
    box = box_class(parts.hostname or "localhost", port=port, timeout=timeout)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return box.login(unquote(parts.username or ""), unquote(parts.password or ""), initial_folder=folder)


def poll_mailbox(*, url=None, limit=None) -> PollResult:
    """Receive what waits in the mailbox; never raises for the mailbox's sake (the result says what failed)."""
    url = url if url is not None else settings.INBOUND_IMAP_URL
    if not url:
        return PollResult(skipped=True)
    lock = poll_lock()
    if not lock.acquire():
        return PollResult(skipped=True)
    result = PollResult()
    try:
        _poll(url, limit or settings.INBOUND_IMAP_BATCH, result)
    except (TimeoutError, imaplib.IMAP4.error, OSError, EOFError, ValueError) as exc:
        # The server went away or refused us: what was received is recorded, the rest waits for the next poll.
        result.error = f"{type(exc).__name__}: {exc}"
        logger.warning("Inbound mailbox poll stopped: %s", result.error)
    finally:
        lock.release()
    return result


def _poll(url, limit, result):
    folder = settings.INBOUND_IMAP_PROCESSED_FOLDER
    with _open(url, settings.INBOUND_IMAP_TIMEOUT) as mailbox:
        if not mailbox.folder.exists(folder):
            mailbox.folder.create(folder)
        for uid in mailbox.uids("ALL")[:limit]:
            status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data or () if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                continue
            committed = []
            row = receive(raw, source="imap")
            # Moved once what `receive` wrote is committed: immediately outside a transaction, else at its commit.
            transaction.on_commit(lambda uid=uid, committed=committed: committed.append(uid))
            if row is None:
                result.repeated += 1
            else:
                result.received += 1
            if committed:
                mailbox.move(committed, folder)
                result.moved += len(committed)
                result.uids.extend(committed)
