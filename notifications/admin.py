# The notifications admin is split by concern; importing registers each part.
from . import admin_notify, admin_outbox, admin_tasks, admin_templates  # noqa: F401
