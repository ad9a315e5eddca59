"""How long and how large an administrator's message template may render: bounds checked while it renders.

What a template repeats is only known with real data (a loop over a list, a condition true for one learner),
so checking a template once against sample data cannot bound it. Templates of the message engine
(notifications.template_engine) are *metered* instead: every block of the compiled template looks at the
clock before it renders and counts the characters its text and values add, and every filter's result is
measured. Past `MESSAGE_RENDER_SECONDS` or `MESSAGE_RENDER_MAX_CHARS` the render stops with
RenderLimitExceeded (seven nested loops stalled a save for 17.6 s, `{% lorem %}` wrote 22 MB).

The budget is the current message's (`message_budget()`, a context variable, so each thread, a worker's
included, has its own), or, for a template rendered outside one, that render's own. No signal and no second
thread: the check is a comparison with `time.monotonic()` at each block, loop iteration and filter.
"""

import contextlib
import contextvars
import functools
import time

from django.conf import settings
from django.template.base import Node, NodeList
from django.utils.safestring import SafeString


class RenderLimitExceeded(Exception):
    """The template would take too long or write too much for one message."""


class RenderBudget:
    __slots__ = ("deadline", "left", "max_chars", "seconds")

    def __init__(self, *, seconds=None, max_chars=None):
        self.seconds = settings.MESSAGE_RENDER_SECONDS if seconds is None else seconds
        self.max_chars = settings.MESSAGE_RENDER_MAX_CHARS if max_chars is None else max_chars
        self.deadline = time.monotonic() + self.seconds
        self.left = self.max_chars

    def check_time(self):
        if time.monotonic() > self.deadline:
            raise RenderLimitExceeded(f"the message takes more than {self.seconds:g} s to render")

    def charge(self, chars):
        self.left -= chars
        if self.left < 0:
            raise RenderLimitExceeded(f"the message is longer than {self.max_chars} characters")


_current = contextvars.ContextVar("message_render_budget", default=None)


@contextlib.contextmanager
def message_budget(**limits):
    """One message's budget, shared by its subject, text, HTML and SMS parts."""
    token = _current.set(RenderBudget(**limits))
    try:
        yield
    finally:
        _current.reset(token)


def _budget_of(context):
    budget = _current.get()
    if budget is None:
        budget = getattr(context, "_render_budget", None)
        if budget is None:
            budget = context._render_budget = RenderBudget()
    return budget


class MeteredNodeList(NodeList):
    """A block that checks the clock before it renders and charges the characters of its text and values.

    A node holding blocks of its own (if, for, with...) is not charged: its blocks are, so nothing is
    counted twice whatever the nesting."""

    def render(self, context):
        budget = _budget_of(context)
        budget.check_time()
        parts = []
        for node in self:
            text = node.render_annotated(context)
            if not getattr(node, "_holds_blocks", False):
                budget.charge(len(text))
            parts.append(text)
        return SafeString("".join(parts))


class LoopBody(Node):
    """The body of a `{% for %}` as one metered block: each iteration checks the budget (a ForNode renders
    its body node by node, never through its NodeList's render)."""

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist, token=None):
        self.nodelist = nodelist
        self.token = token

    def render(self, context):
        return self.nodelist.render(context)


def meter(nodelist):
    """Make every block of a compiled template (this NodeList and all those inside it) a MeteredNodeList."""
    nodelist.__class__ = MeteredNodeList
    for node in nodelist:
        _meter_node(node)
    return nodelist


def _meter_node(node):
    holds = False
    for value in vars(node).values():
        holds = _meter_value(value) or holds
    if holds:
        node._holds_blocks = True
    return holds


def _meter_value(value):
    if isinstance(value, NodeList):
        meter(value)
        return True
    if isinstance(value, Node):
        return _meter_node(value)
    if isinstance(value, list | tuple):
        holds = False
        for item in value:
            holds = _meter_value(item) or holds
        return holds
    return False


def measured(filter_function):
    """A filter whose result is measured: a filter chain (`|escape|escape|...`) cannot grow a value past the
    size of a whole message, and a long chain still looks at the clock."""

    @functools.wraps(filter_function)  # keeps is_safe, needs_autoescape... and the signature Django checks
    def filter_(*args, **kwargs):
        budget = _current.get()
        if budget is not None:
            budget.check_time()
        result = filter_function(*args, **kwargs)
        if isinstance(result, str | list | tuple) and len(result) > settings.MESSAGE_RENDER_MAX_CHARS:
            raise RenderLimitExceeded(f"a value is longer than {settings.MESSAGE_RENDER_MAX_CHARS} characters")
        return result

    return filter_


def bounded_join(join):
    """`join`, refused before joining when the result would be longer than a whole message: its size is the
    items' and the separator's (`value|join:value` would square it)."""

    @functools.wraps(join)
    def join_(value, arg, autoescape=True):
        try:
            items = list(value)
        except TypeError:
            return value
        size = sum(len(str(item)) for item in items) + len(str(arg)) * max(len(items) - 1, 0)
        if size > settings.MESSAGE_RENDER_MAX_CHARS:
            raise RenderLimitExceeded(f"a value is longer than {settings.MESSAGE_RENDER_MAX_CHARS} characters")
        return join(items, arg, autoescape=autoescape)

    return join_
