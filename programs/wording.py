"""What the templates of the program and certification events (seed 001) may read, declared at start-up.

Their words are template files, programs/templates/messages/<event>/<language>/
(en, fr and pl); an administrator's MessageTemplate still wins. Templates read
plain values (notifications.variables):
learner {first_name, last_name, full_name}, program (its title), course_set
{title, due_at}, the dates due_at, expires_at, completed_at, and what the date
triggers add: window_opens_at, timing (before, on_event, after), days and
dashboard_url. Each file speaks to the learner when `reader` is "learner", and
about the learner to the manager, guardian or staff member who reads a copy
(seed 001 "a user or their manager", seed 004 guardians).
"""

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.variables import offer

# What the date triggers (programs.scanners) pass besides the names every program event offers.
_DATE_VALUES = {
    "timing": "before",
    "days": 3,
    "window_opens_at": lambda now: now + timedelta(days=15),
    "dashboard_url": lambda now: f"{settings.SITE_URL}/",
}
_DATE_DESCRIPTIONS = {
    "timing": _("When the rule fires: before, on_event or after the date."),
    "days": _("How many days before or after the date the rule fires."),
    "window_opens_at": _("When the recertification window opens."),
    "dashboard_url": _("Link to the learner's training dashboard."),
}
for _event in (
    "program.completed",
    "program.course_set_completed",
    "program.course_set_due",
    "program.due",
    "certification.expiry",
    "certification.window_open",
    "certification.recertification_failed",
):
    offer(_event, samples=_DATE_VALUES, descriptions=_DATE_DESCRIPTIONS)
