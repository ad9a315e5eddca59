"""The Notify buttons (seed 000): one smart, spam-proof message per learner, for 100,000 learners at once.

- `selectors`: the learners in scope and what the checklist reads about a chunk of them.
- `checklist`: the decision, pure Python (`decide`), and the message and assignments it implies.
- `shapes`: renders each message shape once per batch instead of once per learner.
- `engine`: runs a click chunk by chunk (locks, writes, progress), in one or several processes.
- `summary`: the words for a run's counts.
"""

from .shapes import ShapeCachedTemplates

__all__ = ["ShapeCachedTemplates"]
