"""The template engine of editable message templates, and the checks a template passes before it is saved.

Message templates are written in the admin and rendered for every recipient,
so they get their own engine: the few Django tags and filters a message
needs, plus this project's `message_tags`, and nothing that reaches outside
the message or makes it unbounded:

- no `{% include %}`, `{% extends %}` or `{% block %}` (the engine has no
  loader and no loader tags: a template cannot read a file);
- no `{% debug %}` (it prints the whole context and the loaded modules);
- `{% load %}` of `message_tags` only (no other library is registered);
- no `{% lorem %}`, `{% url %}`, `{% widthratio %}`..., and only the filters
  in MESSAGE_FILTERS (no `|safe`, no padding to a width, no `|pprint`);
- at most MESSAGE_TEMPLATE_MAX_LOOP_NESTING `{% for %}` inside one another,
  refused when the template is parsed (seven nested loops took
  17.6 s to save).

Such tags are refused when the template is parsed, with a message saying
why. Every template this engine compiles is metered while it renders
(notifications.render_limits: time and size per message). The context a
message template reads is made of plain values only (see `require_plain`
and notifications.variables); `template_problems` also refuses, before
saving, a template that reads a variable its event does not offer or that
leaves a `{{` or `{%` unclosed.

This module is also the engine's one built-in tag library (`register`).
"""

import datetime
import functools
from decimal import Decimal

from django.conf import settings
from django.template import Context, Engine, Library, Node, NodeList, Template, TemplateSyntaxError, defaultfilters
from django.template import defaulttags as django_tags
from django.template.base import FilterExpression, TextNode, Variable, VariableNode
from django.template.defaulttags import FilterNode, ForNode, RegroupNode, WithNode
from django.template.smartif import TokenBase
from django.utils import translation
from django.utils.functional import Promise

from . import render_limits

MESSAGE_TAG_LIBRARY = "message_tags"

# What a message needs of Django's tags (`for` and `load` are this module's own, bounded versions).
MESSAGE_TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "with",
)
# ... and of its filters; each result is measured (render_limits.measured).
MESSAGE_FILTERS = (
    "capfirst",
    "cut",
    "date",
    "default",
    "default_if_none",
    "divisibleby",
    "escape",
    "first",
    "join",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "lower",
    "pluralize",
    "slice",
    "striptags",
    "time",
    "timesince",
    "timeuntil",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "urlize",
    "wordcount",
    "yesno",
)

register = Library()


def _refused(tag, why):
    def compile_function(parser, token):
        raise TemplateSyntaxError(f"{{% {tag} %}} is not allowed in message templates: {why}.")

    return compile_function


_REFUSED_TAGS = {
    "debug": "it would print every value of the message and the server's modules",
    "include": "a message template cannot read other templates or files",
    "extends": "a message template cannot read other templates or files",
    "block": "a message template does not extend another one",
    "ssi": "a message template cannot read files",
    "lorem": "it writes placeholder text of any length",
    "url": "a message links only to the pages its values name",
}
for _tag in {*django_tags.register.tags, *_REFUSED_TAGS} - {*MESSAGE_TAGS, "for", "load"}:
    register.tag(_tag, _refused(_tag, _REFUSED_TAGS.get(_tag, "a message does not need it")))
for _tag in MESSAGE_TAGS:
    register.tags[_tag] = django_tags.register.tags[_tag]
# Languages whose month name is declined after the day: Polish reads "18 grudnia 2026", never "18 Grudzień 2026".
# Django's format character E is that form; F stays the month alone ("grudzień 2026").
GENITIVE_MONTHS = frozenset({"pl"})


def month_after_day(date_format: str, language: str) -> str:
    """`date_format` written as in English ("j F Y"), right in `language`: the month after a day in its
    genitive where the language declines it (E instead of F), unchanged elsewhere (fr "18 décembre 2026")."""
    if (language or "").split("-")[0].lower() not in GENITIVE_MONTHS:
        return date_format
    letters = []
    escaped = False
    for char in date_format:
        letters.append((char, escaped))
        escaped = char == "\\" and not escaped
    if not any(char in "jd" and not was_escaped for char, was_escaped in letters):
        return date_format
    return "".join("E" if char == "F" and not was_escaped else char for char, was_escaped in letters)


def _date_in_the_readers_language(date_filter):
    @functools.wraps(date_filter)  # keeps expects_localtime: dates stay in the reader's time zone
    def date(value, arg=None):
        if isinstance(arg, str):
            arg = month_after_day(arg, translation.get_language())
        return date_filter(value, arg)

    return date


for _filter in MESSAGE_FILTERS:
    _function = defaultfilters.register.filters[_filter]
    if _filter == "join":
        _function = render_limits.bounded_join(_function)
    if _filter == "date":
        _function = _date_in_the_readers_language(_function)
    register.filters[_filter] = render_limits.measured(_function)


@register.tag("load")
def load(parser, token):
    """`{% load %}` of the project's own message tags only."""
    bits = token.split_contents()[1:]
    names = bits[-1:] if len(bits) >= 3 and bits[-2] == "from" else bits
    for name in names:
        if name != MESSAGE_TAG_LIBRARY:
            raise TemplateSyntaxError(
                f"{{% load {name} %}} is not allowed in message templates: only {{% load {MESSAGE_TAG_LIBRARY} %}}."
            )
    return django_tags.load(parser, token)


@register.tag("for")
def bounded_for(parser, token):
    """`{% for %}`, at most MESSAGE_TEMPLATE_MAX_LOOP_NESTING deep, its body metered at each iteration."""
    depth = getattr(parser, "_message_loop_depth", 0)
    limit = settings.MESSAGE_TEMPLATE_MAX_LOOP_NESTING
    if depth >= limit:
        raise TemplateSyntaxError(
            f"{{% for %}} is allowed at most {limit} deep in message templates (one loop inside another): "
            "loop over one list, then over the items of each."
        )
    parser._message_loop_depth = depth + 1
    try:
        node = django_tags.do_for(parser, token)
    finally:
        parser._message_loop_depth = depth
    node.nodelist_loop = NodeList([render_limits.LoopBody(node.nodelist_loop, token)])
    return node


class _MessageEngine(Engine):
    # Only this module's library: include, extends and block do not exist here, nor any tag or filter a
    # message does not need.
    default_builtins = []

    def from_string(self, template_code):
        template = Template(template_code, engine=self)
        render_limits.meter(template.nodelist)
        return template


ENGINE = _MessageEngine(
    loaders=[],
    libraries={MESSAGE_TAG_LIBRARY: "notifications.templatetags.message_tags"},
    builtins=["notifications.template_engine"],
)


def compile_template(source):
    """A message template compiled by the message engine, metered; raises TemplateSyntaxError."""
    return ENGINE.from_string(source)


# --- Plain values ---------------------------------------------------------------------------------

_SCALARS = (str, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta, Promise, type(None))


def require_plain(value, path="context"):
    """Raise TypeError unless `value` is a plain value: str, numbers, dates, None, and lists,
    tuples and str-keyed dicts of those. A model instance (its related managers, its user and
    password hash...) must never reach an editable template."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a key that is not a string: {key!r}")
            require_plain(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            require_plain(item, f"{path}[{index}]")
        return
    raise TypeError(f"{path} is a {type(value).__name__}, not a plain value (text, number, date, list or dict)")


def render(template, context: dict, *, autoescape):
    """One part of a message, within that message's budget when one is open (render_limits), else its own."""
    require_plain(context)
    return template.render(Context(context, autoescape=autoescape))


# --- Checks before saving ---------------------------------------------------------------------------

_LOCAL = object()  # a name the template set itself ({% ... as name %}): whatever it holds is its own
_ITEM = "[]"


def template_problems(template, *, offered: dict) -> list[str]:
    """What is wrong with a compiled message template, in words; [] when nothing is.

    `offered` maps each path the event offers ("learner", "learner.first_name",
    "complete", "complete[]", "complete[].title"...) to whether it is a group of
    values (a dict) rather than a value: a group may be tested or looped over,
    not printed as such.
    """
    problems = []
    for node in template.nodelist.get_nodes_by_type(TextNode):
        for opening in ("{{", "{%", "{#"):
            if opening in node.s:
                line = _line_of(node) + node.s[: node.s.index(opening)].count("\n")
                problems.append(
                    on_line(
                        line,
                        f"“{opening}” is never closed near “{_excerpt(node.s, opening)}”: close it, or write "
                        f"{{% templatetag {_TEMPLATETAG[opening]} %}} for the characters themselves.",
                    )
                )
    scope = {name: _LOCAL for name in _names_set_by_the_template(template.nodelist)}
    _Walker(offered, problems).nodelist(template.nodelist, scope)
    return list(dict.fromkeys(problems))


_TEMPLATETAG = {"{{": "openvariable", "{%": "openblock", "{#": "opencomment"}


def on_line(line, message):
    """A refusal that names the line of the template it is about, so the writer finds it."""
    return f"Line {line}: {message}" if line else message


def _line_of(node):
    token = getattr(node, "token", None)
    return getattr(token, "lineno", None) or 0


def _excerpt(text, opening):
    start = text.index(opening)
    return " ".join(text[start : start + 30].split())


def _names_set_by_the_template(nodelist):
    names = set()
    for node in nodelist.get_nodes_by_type(Node):
        for attr in ("asvar", "variable_name", "var_name"):
            value = getattr(node, attr, None)
            if isinstance(value, str) and value:
                names.add(value)
    return names


class _Walker:
    def __init__(self, offered, problems):
        self.offered = offered
        self.problems = problems
        self.line = 0  # of the node being read: each problem names it

    def nodelist(self, nodes, scope):
        for node in nodes:
            self.node(node, scope)

    def node(self, node, scope):
        outer = self.line
        self.line = _line_of(node) or outer
        try:
            self._node(node, scope)
        finally:
            self.line = outer

    def _node(self, node, scope):
        if isinstance(node, ForNode):
            self.expression(node.sequence, scope)
            inner = {**scope, "forloop": _LOCAL}
            sequence = self.path(node.sequence, scope)
            for name in node.loopvars:
                single = len(node.loopvars) == 1 and isinstance(sequence, tuple)
                inner[name] = (*sequence, _ITEM) if single else _LOCAL
            self.nodelist(node.nodelist_loop, inner)
            self.nodelist(node.nodelist_empty, scope)
        elif isinstance(node, WithNode):
            inner = dict(scope)
            for name, expression in node.extra_context.items():
                self.expression(expression, scope)
                inner[name] = self.path(expression, scope)
            self.nodelist(node.nodelist, inner)
        elif isinstance(node, VariableNode):
            self.expression(node.filter_expression, scope, printed=True)
        elif isinstance(node, FilterNode):
            # {% filter upper %}: its expression filters the block's output, named "var" internally.
            self.filter_arguments(node.filter_expr, scope)
            self.nodelist(node.nodelist, scope)
        elif isinstance(node, RegroupNode):
            # The grouping key is read on each item of the target, not in the context.
            self.expression(node.target, scope)
        else:
            for attr, value in vars(node).items():
                if attr not in ("token", "origin"):
                    self.value(value, scope)

    def value(self, value, scope):
        if isinstance(value, NodeList):
            self.nodelist(value, scope)
        elif isinstance(value, Node):
            self.node(value, scope)
        elif isinstance(value, FilterExpression):
            self.expression(value, scope)
        elif isinstance(value, Variable):
            self.variable(value, scope)
        elif isinstance(value, list | tuple):
            for item in value:
                self.value(item, scope)
        elif isinstance(value, dict):
            for item in value.values():
                self.value(item, scope)
        elif isinstance(value, TokenBase):  # a condition of {% if %}: operators and their operands
            for attr in ("first", "second", "value"):
                if hasattr(value, attr):
                    self.value(getattr(value, attr), scope)

    def expression(self, expression, scope, *, printed=False):
        if isinstance(expression.var, Variable):
            self.variable(expression.var, scope, printed=printed and not expression.filters)
        self.filter_arguments(expression, scope)

    def filter_arguments(self, expression, scope):
        for _func, arguments in expression.filters:
            for lookup, argument in arguments:
                if lookup:
                    self.variable(argument, scope)

    def path(self, expression, scope):
        """The offered path an expression reads (filters aside), or _LOCAL."""
        var = expression.var
        if not isinstance(var, Variable) or var.lookups is None:
            return _LOCAL
        return self.resolve(var, scope)

    def resolve(self, var, scope):
        head, *rest = var.lookups
        base = scope.get(head, (head,))
        if base is _LOCAL:
            return _LOCAL
        return tuple(_ITEM if part.isascii() and part.isdigit() else part for part in (*base, *rest))

    def variable(self, var, scope, *, printed=False):
        if var.lookups is None:
            return  # a literal: "text", 12, True
        path = self.resolve(var, scope)
        if path is _LOCAL:
            return
        key = ".".join(path).replace("." + _ITEM, _ITEM)
        written = ".".join(var.lookups)
        if key not in self.offered:
            self.problems.append(
                on_line(
                    self.line,
                    f"“{written}” is not a value this event offers (see the list of variables beside the form).",
                )
            )
        elif printed and self.offered[key]:
            example = f"{{{{ {written}.{self._first_child(key)} }}}}"
            self.problems.append(
                on_line(self.line, f"“{written}” is a group of values: print one of them, e.g. {example}.")
            )

    def _first_child(self, key):
        for name in self.offered:
            if name.startswith(key + "."):
                return name[len(key) + 1 :]
        return "…"
