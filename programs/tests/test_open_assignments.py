"""Issue 17: "open" is spelled once, `Assignment.objects.open()` (seed 001: at most one open assignment, neither
completed nor unassigned, per program)."""

import pytest
from django.utils import timezone

from learners.models import Learner
from programs.models import Assignment, Program

pytestmark = pytest.mark.django_db


def test_an_open_assignment_is_neither_completed_nor_unassigned():
    learner = Learner.objects.create(email="olga.open@example.com", first_name="Olga", last_name="Open")
    now = timezone.now()
    open_one = Assignment.objects.create(learner=learner, program=Program.objects.create(title="Open"))
    Assignment.objects.create(learner=learner, program=Program.objects.create(title="Done"), completed_at=now)
    Assignment.objects.create(learner=learner, program=Program.objects.create(title="Gone"), unassigned_at=now)

    assert list(Assignment.objects.open()) == [open_one]
    assert list(Assignment.objects.filter(learner=learner).open()) == [open_one]
