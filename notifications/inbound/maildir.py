"""A local mailbox folder (Maildir) read like the IMAP mailbox: the demo's mailbox, or a mail server that
delivers the organiser's address into a folder on this machine (INBOUND_MAILDIR).

Each message goes through `receive` in its own transaction and moves to the `Processed` folder of the
Maildir only once that transaction has committed; one poller at a time (the IMAP poller's lock).
"""

import logging
import mailbox
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .imap import PollResult, poll_lock
from .receive import receive

logger = logging.getLogger(__name__)


def poll_maildir(*, path=None, limit=None) -> PollResult:
    """Receive what waits in the Maildir at `path` (INBOUND_MAILDIR); never raises for the folder's sake."""
    path = path if path is not None else settings.INBOUND_MAILDIR
    if not path:
        return PollResult(skipped=True)
    lock = poll_lock()
    if not lock.acquire():
        return PollResult(skipped=True)
    result = PollResult()
    try:
        _poll(open_maildir(path), limit or settings.INBOUND_IMAP_BATCH, result)
    except (OSError, mailbox.Error) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        logger.warning("Inbound mail folder poll stopped: %s", result.error)
    finally:
        lock.release()
    return result


def open_maildir(path) -> mailbox.Maildir:
    """The Maildir at `path`, created with its parent folders when missing."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, create=True)


def _processed_folder(box):
    name = settings.INBOUND_IMAP_PROCESSED_FOLDER
    return box.get_folder(name) if name in box.list_folders() else box.add_folder(name)


def _poll(box, limit, result):
    processed = _processed_folder(box)
    for key in sorted(box.iterkeys())[:limit]:
        raw = box.get_bytes(key)
        committed = []
        row = receive(raw, source="maildir")
        transaction.on_commit(lambda key=key, committed=committed: committed.append(key))
        if row is None:
            result.repeated += 1
        else:
            result.received += 1
        if committed:
            processed.add(box.get_message(key))
            box.discard(key)
            result.moved += 1
            result.uids.append(key)
