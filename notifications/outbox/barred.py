"""Who of a batch the door must not reach: the undeliverable email addresses and the optional families
their recipients left, read for the whole batch at once.

A Notify run passes 5,000 messages a chunk (seed 000, 100,000 learners): on PostgreSQL one query first says
which of the two lists holds anything at all, and the batch's addresses and keys are only gathered and sent
for a list that does; both lists are then read in one more query. Nothing read: no query.
"""

from django.db import connection

from lms_notify.bulk import is_postgresql

from ..inbound.marks import normalise, undeliverable_among
from ..models import Channel, UndeliverableAddress, Unsubscription
from ..optout import applies_to, family_of, unsubscribed_among


def _addresses(messages) -> set[str]:
    return {
        normalise(address)
        for address in (m.recipient.address(m.channel) for m in messages if m.channel == Channel.EMAIL)
        if address
    }


def _optional_pairs(messages) -> set[tuple[str, str]]:
    pairs = set()
    families = {}
    for m in messages:
        family = families.get(m.event)
        if family is None:
            family = families[m.event] = family_of(m.event)
        if family and applies_to(m.channel):
            key = m.recipient.key
            if key:
                pairs.add((key, family))
    return pairs


def barred_among(messages) -> tuple[set[str], set[tuple[str, str]]]:
    """(the lower-cased email addresses of `messages` marked undeliverable, the (recipient key, family) of
    `messages` whose recipient left that optional family)."""
    messages = list(messages)
    emails = any(m.channel == Channel.EMAIL for m in messages)
    optional = any(family_of(event) for event in {m.event for m in messages})
    if not (emails or optional):
        return set(), set()
    if not is_postgresql():
        return (
            undeliverable_among(m.recipient.address(m.channel) for m in messages if m.channel == Channel.EMAIL),
            unsubscribed_among(_optional_pairs(messages)) if optional else set(),
        )
    undeliverable, unsubscriptions = UndeliverableAddress._meta.db_table, Unsubscription._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT %s AND EXISTS (SELECT 1 FROM {undeliverable}), %s AND EXISTS (SELECT 1 FROM {unsubscriptions})",
            [emails, optional],
        )
        any_marked, any_left = cursor.fetchone()
        addresses = _addresses(messages) if any_marked else set()
        pairs = _optional_pairs(messages) if any_left else set()
        if not (addresses or pairs):
            return set(), set()
        # One array parameter each: a Notify run passes 100,000 addresses, beyond PostgreSQL's 65,535 parameters.
        cursor.execute(
            f"SELECT 'u', address, '' FROM {undeliverable} WHERE address = ANY(%s) "
            f"UNION ALL SELECT 'o', recipient_key, family FROM {unsubscriptions} WHERE recipient_key = ANY(%s)",
            [sorted(addresses), sorted({key for key, _ in pairs})],
        )
        rows = cursor.fetchall()
    blocked = {address for kind, address, _ in rows if kind == "u"}
    left = {(key, family) for kind, key, family in rows if kind == "o"}
    return blocked, left & pairs
