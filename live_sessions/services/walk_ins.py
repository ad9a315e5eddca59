"""A walk-in who is not yet a learner ("the trainer's window"): the trainer types a name and an e-mail
address on the attendance form; the person becomes an inactive learner awaiting an administrator's review
(learners.services.create_walk_in) and a go show of the session (add_go_show), both or neither."""

from django.db import transaction

from learners.services import create_walk_in

from ..models import SessionLearner
from ..windows import require_attendance_open
from .roster import add_go_show


def add_walk_in(session, *, first_name: str, last_name: str, email: str, language: str = "", actor) -> SessionLearner:
    """Create the walk-in and record them as a go show of `session`; raises (and creates nothing) when the
    session takes no attendance now or the walk-in is refused (learners.services.WalkInRefused)."""
    with transaction.atomic():
        # Checked first so a closed session leaves no learner behind; add_go_show checks again under the lock.
        require_attendance_open(session)
        learner = create_walk_in(first_name=first_name, last_name=last_name, email=email, language=language)
        return add_go_show(session, learner, actor=actor)
