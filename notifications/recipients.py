"""Who receives a message, and whether they may receive it now.

One `Recipient` type serves the whole app: `enqueue` uses it to decide
omission, the Notify checklist (seed 000) to decide "no consent" / "no
contact", the send-time checks to cancel a message whose recipient withdrew
consent, and links and the inbox to name the recipient with its key.

The key ("l12" a learner, "g3" a guardian, "u1" a user) is built and parsed
only here.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from learners.models import Guardian, Learner

from . import closing
from .models import Channel

LEARNER, GUARDIAN, USER = "l", "g", "u"
KINDS = (LEARNER, GUARDIAN, USER)


class Reason:
    """Why a recipient may not receive a message: the one vocabulary of omitted rows, cancelled
    rows and Notify outcomes (NotifyOutcome.Reason uses the same values)."""

    GUARDIAN_DISABLED = "guardian_disabled"
    INACTIVE = "inactive"
    NO_CONSENT = "no_consent"
    NO_CONTACT = "no_contact"
    # The address bounced for good or its owner complained: checked by the outbox door and at
    # send time, set-based (notifications.inbound.marks), never here one recipient at a time.
    UNDELIVERABLE = "undeliverable"


def make_key(kind: str, pk) -> str:
    return f"{kind}{int(pk)}"


# A database id fits a signed 64-bit integer; anything larger cannot name a row.
MAX_PK = 2**63 - 1


def parse_key(key) -> tuple[str, int] | None:
    """(kind, pk) of a well-formed key, else None (a tampered key never reaches the database)."""
    if not isinstance(key, str) or key[:1] not in KINDS:
        return None
    digits = key[1:]
    # 19 digits at most: int() of thousands of digits is refused by Python itself.
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19) or not 0 < int(digits) <= MAX_PK:
        return None
    return key[0], int(digits)


def learner_key(learner) -> str:
    return make_key(LEARNER, getattr(learner, "pk", learner))


def guardian_key(guardian) -> str:
    return make_key(GUARDIAN, getattr(guardian, "pk", guardian))


def user_key(user) -> str:
    return make_key(USER, getattr(user, "pk", user))


def key_of(holder) -> str:
    """The key of a Recipient, Learner, Guardian or user; a key is returned as it is."""
    if isinstance(holder, str):
        return holder
    if isinstance(holder, Recipient):
        return holder.key
    if isinstance(holder, Learner):
        return learner_key(holder)
    if isinstance(holder, Guardian):
        return guardian_key(holder)
    return user_key(holder)


@dataclass
class Recipient:
    """Whoever receives one message: a learner, a guardian or a user (site admin)."""

    learner: Learner | None = None
    guardian: Guardian | None = None
    user: object | None = None
    # A learner who gets the message as the manager of the learner it is about (seed 001 "or their manager").
    as_manager: bool = False

    @classmethod
    def of_notification(cls, row) -> "Recipient":
        """The recipient of an outbox row (a guardian's row names their learner too)."""
        if row.recipient_guardian_id:
            return cls(guardian=row.recipient_guardian)
        if row.recipient_learner_id:
            return cls(learner=row.recipient_learner)
        return cls(user=row.recipient_user)

    @classmethod
    def of_holder(cls, holder) -> "Recipient":
        """The recipient a Learner, Guardian or user is."""
        if isinstance(holder, Learner):
            return cls(learner=holder)
        if isinstance(holder, Guardian):
            return cls(guardian=holder)
        return cls(user=holder)

    @staticmethod
    def key_of_notification(row) -> str:
        """The recipient key of an outbox row, without loading the recipient."""
        if row.recipient_guardian_id:
            return guardian_key(row.recipient_guardian_id)
        if row.recipient_learner_id:
            return learner_key(row.recipient_learner_id)
        return user_key(row.recipient_user_id)

    @classmethod
    def for_key(cls, key) -> "Recipient | None":
        """The recipient a key names, loaded from the database; None if malformed or gone."""
        parsed = parse_key(key)
        if parsed is None:
            return None
        kind, pk = parsed
        model = {LEARNER: Learner, GUARDIAN: Guardian, USER: get_user_model()}[kind]
        queryset = model._default_manager.all()
        if model is Guardian:
            queryset = queryset.select_related("learner")  # its eligibility reads the learner: no extra query
        holder = queryset.filter(pk=pk).first()
        if holder is None:
            return None
        return cls(**{{LEARNER: "learner", GUARDIAN: "guardian", USER: "user"}[kind]: holder})

    @property
    def holder(self):
        return self.guardian or self.learner or self.user

    @property
    def key(self):
        if self.guardian is not None:
            return guardian_key(self.guardian)
        if self.learner is not None:
            return learner_key(self.learner)
        return user_key(self.user)

    @property
    def audience(self) -> str:
        """Who reads the message, as its footer says why they get it (notifications.closing)."""
        if self.guardian is not None:
            return closing.GUARDIAN
        if self.learner is not None:
            return closing.MANAGER if self.as_manager else closing.LEARNER
        return closing.STAFF

    @property
    def name(self):
        if self.guardian is not None:
            return self.guardian.name
        if self.learner is not None:
            return self.learner.full_name
        return self.user.get_full_name() or self.user.get_username()

    @property
    def subject_learner(self):
        """The learner whose consent, language and time zone govern the message."""
        if self.guardian is not None:
            return self.guardian.learner
        if self.learner is not None:
            return self.learner
        return getattr(self.user, "learner", None) if self.user is not None else None

    @property
    def language(self):
        learner = self.subject_learner
        return learner.language if learner is not None else "en"

    @property
    def timezone(self):
        learner = self.subject_learner
        return learner.timezone if learner is not None else "UTC"

    def address(self, channel):
        holder = self.holder
        if channel == Channel.EMAIL:
            return (getattr(holder, "email", "") or "").strip()
        if channel == Channel.SMS:
            return (getattr(holder, "phone", "") or "").strip()
        return self.key  # the inbox belongs to the recipient itself

    def ineligibility(self, channel=None) -> str:
        """Why nothing may reach this recipient now ("" when something may), checked in this order:
        a disabled guardian, an inactive learner or user, no consent (seed 004), no address for
        `channel` (not checked without a channel: at send time the row already holds its address)."""
        if self.guardian is not None and not self.guardian.is_enabled:
            return Reason.GUARDIAN_DISABLED
        learner = self.guardian.learner if self.guardian is not None else self.learner
        if learner is not None:
            if not learner.is_active:
                return Reason.INACTIVE
            if learner.consent_given_at is None:
                return Reason.NO_CONSENT
        elif self.user is not None and not self.user.is_active:
            return Reason.INACTIVE
        if channel is not None and not self.address(channel):
            return Reason.NO_CONTACT
        return ""

    # The name enqueue has always used.
    def omit_reason(self, channel):
        return self.ineligibility(channel)
