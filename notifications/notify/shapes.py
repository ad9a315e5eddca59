"""Rendering 100,000 Notify messages: each message *shape* is rendered once per batch."""

import html
import re

from django.utils.functional import Promise
from django.utils.html import urlize

from .. import closing
from ..templating import FILL_NAMES, RenderedMessage, Shaped, TemplateCache

_MARK = "\x01{}\x02"
_LEARNER_FIELDS = ("first_name", "last_name", "full_name")
# Stands in for the learner (a dict of plain values, notifications.variables) while a shape is rendered once.
_SENTINEL_LEARNER = {name: _MARK.format(name) for name in _LEARNER_FIELDS}
_LEARNER_KEYS = frozenset(_LEARNER_FIELDS)
# The context entries that differ from one learner to the next: placeholders in a shape, not part of its key.
_PER_LEARNER = frozenset(("learner", "recipient_name", "action_url"))


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    try:
        hash(value)  # the Notify contexts are tuples of named tuples: hashable as they are
        return value
    except TypeError:
        if isinstance(value, list | tuple):
            return tuple(_freeze(v) for v in value)
        raise


# A link made only of characters urlize leaves as they are, ending with one it does not trim (our signed
# action links): urlize would give exactly the anchor below, at a hundredth of the cost.
_PLAIN_LINK = re.compile(r"https?://[A-Za-z0-9\-._~:/]*[A-Za-z0-9/]")


def _escape(value):
    # django.utils.html.escape without its lazy-argument wrapper: the same text (a str, marked safe or not).
    return html.escape(str(value))


def _html_value(value):
    # The generated HTML version urlizes the body: addresses and links become anchors there too.
    # (Each shape's first message is compared with a full render: a difference here could only
    # make that shape render every message for real, never change a word.)
    if _PLAIN_LINK.fullmatch(value):
        return f'<a href="{value}" rel="nofollow">{value}</a>'
    if "." in value or "@" in value or ":" in value:
        return urlize(value, nofollow=True, autoescape=True)
    return html.escape(value)  # what django.utils.html.escape does, without its lazy-argument wrapper


class _Same:
    """A lazy translation (the event label) in a shape key, compared by identity: building the key
    must not translate it for every message. The key holds the object, so its id is never reused."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return id(self.value)

    def __eq__(self, other):
        return type(other) is _Same and other.value is self.value


class ShapeCachedTemplates(TemplateCache):
    """Renders each message *shape* once per batch instead of once per learner.

    Most Notify messages of a batch differ only by the learner's name, address
    and link: the same event, language, time zone and training lists. Each shape
    is rendered once with placeholders; its messages are filled in by string
    substitution. The placeholder version, filled in, is checked against a real
    render of the shape's first message: the whole message for the first shape
    of its kind (event, language, which names are empty), the subject, text and
    SMS for the next ones, whose HTML (made from the same template and values,
    and most of the cost of a render) must only hold no placeholder a filter
    changed. A shape that fails (a filter applied to the name, ...) is always
    rendered for real.
    """

    def __init__(self):
        super().__init__()
        self._shapes = {}
        # (event, language, flags) -> whether its first shape came out word for word, HTML included.
        self._kinds = {}

    def render(self, event, language, context, *, tz="UTC", audience=closing.LEARNER):
        found = self._shape(event, language, context, tz, audience)
        return found[0].fill(found[1]) if type(found) is tuple else found

    def shaped(self, event, language, context, *, tz="UTC", audience=closing.LEARNER):
        """The message as a Shaped (its shape and this learner's values), or as a RenderedMessage
        when it has no shape (rendered for real). Either reads exactly as `TemplateCache.render`."""
        found = self._shape(event, language, context, tz, audience)
        return found[0].shaped(found[1]) if type(found) is tuple else found

    def _shape(self, event, language, context, tz, audience=closing.LEARNER):
        """(shape, this message's values), or the RenderedMessage of a message rendered for real."""
        # Every reader's copy is shaped, her manager's and guardians' too (a trigger scan's manager copies were
        # most of its time): the audience is in the key, as `reader` (set by the renderer from the audience,
        # whatever the context says) and the footer depend on it.
        learner = context.get("learner")
        if type(learner) is not dict or not learner.keys() <= _LEARNER_KEYS:
            return super().render(event, language, context, tz=tz, audience=audience)
        get = learner.get
        # In FILL_NAMES order (Shaped.values is this dict's values).
        values = {
            "first_name": str(get("first_name") or ""),
            "last_name": str(get("last_name") or ""),
            "full_name": str(get("full_name") or ""),
            "recipient_name": str(context.get("recipient_name", "")),
            "action_url": str(context.get("action_url", "")),
        }
        flags = tuple(map(bool, values.values()))
        # Hashable as they come (tuples of named tuples): no need to freeze them message by message.
        items = tuple(
            (k, _Same(v) if issubclass(type(v), Promise) else v) for k, v in context.items() if k not in _PER_LEARNER
        )
        key = (event, language, tz, items, flags, audience)
        try:
            proto = self._shapes.get(key)  # hashes the key once (a tuple does not keep its hash)
        except TypeError:
            rest = {k: v for k, v in context.items() if k not in _PER_LEARNER}
            try:
                key = (event, language, tz, _freeze(rest), flags, audience)
            except TypeError:
                return super().render(event, language, context, tz=tz, audience=audience)
            proto = self._shapes.get(key)
        if proto is None:
            marked = {
                **context,
                "learner": _SENTINEL_LEARNER,
                "recipient_name": _MARK.format("recipient_name"),
                **({"action_url": _MARK.format("action_url")} if "action_url" in context else {}),
            }
            rendered = super().render(event, language, marked, tz=tz, audience=audience)
            # The built-in words stood in for a failing edited template: their HTML is the one to fill.
            used = self._builtins[(event, language)] if rendered.fallback else self.get(event, language)
            proto = _Proto(rendered, urlized=used.html_body is None)
            filled = proto.fill(values)
            kind = (event, language, flags, audience)
            if kind not in self._kinds:
                real = super().render(event, language, context, tz=tz, audience=audience)
                self._kinds[kind] = same = filled == real
            else:
                real = super().render(event, language, context, tz=tz, html=False, audience=audience)
                same = (
                    self._kinds[kind]
                    and (filled.subject, filled.body, filled.sms_body) == (real.subject, real.body, real.sms_body)
                    and "\x01" not in filled.html_body
                    and "\x02" not in filled.html_body
                )
                real = filled if same else super().render(event, language, context, tz=tz, audience=audience)
            self._shapes[key] = proto if same else False
            return real
        if proto is False:
            return super().render(event, language, context, tz=tz, audience=audience)
        return proto, values


_MARK_RE = re.compile("\x01([a-z_]+)\x02")


_POSITION = {name: i for i, name in enumerate(FILL_NAMES)}


def _layout(parts):
    """(texts, positions): the parts as the texts between the values and, for each value, its position in
    FILL_NAMES; a placeholder no message fills is kept as it reads, in the text around it."""
    texts, positions = [parts[0]], []
    for i in range(1, len(parts), 2):
        name, after = parts[i], parts[i + 1]
        if name in _POSITION:
            positions.append(_POSITION[name])
            texts.append(after)
        else:
            texts[-1] += _MARK.format(name) + after
    return tuple(texts), tuple(positions)


class _Proto:
    """A message rendered with placeholders, split once into text and placeholder names."""

    def __init__(self, rendered, *, urlized=True):
        # The HTML made from the text body urlizes values; an HTML template (a file's page) only escapes them.
        self.html_value = _html_value if urlized else _escape
        # Why the reader gets it: the same for every message of the shape, but for the learner a manager's or
        # guardian's footer names (filled in as the text is).
        self.footer = rendered.footer
        self._footer_parts = _MARK_RE.split(rendered.footer or "")
        # The built-in words stood in for a failing edited template: every message of the shape says so.
        self.fallback = rendered.fallback
        self.parts = tuple(
            _MARK_RE.split(text) for text in (rendered.subject, rendered.body, rendered.html_body, rendered.sms_body)
        )
        # The values the HTML version shows (escaped, links made clickable): only these are worked out per message.
        shown = set(self.parts[2][1::2])
        self._html_positions = tuple(i for i, name in enumerate(FILL_NAMES) if name in shown)
        self._subject = None if len(self.parts[0]) > 1 else " ".join(self.parts[0][0].split())[:300]
        self._layouts = None

    def layouts(self):
        """The text, HTML and SMS versions as (texts, positions): each version reads texts[0], then the
        value at positions[0] (Shaped.values, or Shaped.html_values for the HTML), texts[1], and so on."""
        if self._layouts is None:
            self._layouts = tuple(_layout(parts) for parts in self.parts[1:])
        return self._layouts

    def shaped(self, values):
        subject = self._subject
        if subject is None:
            subject = " ".join(
                "".join(
                    part if i % 2 == 0 else values.get(part, _MARK.format(part)) for i, part in enumerate(self.parts[0])
                ).split()
            )[:300]
        plain = tuple(values.values())  # in FILL_NAMES order: ShapeCachedTemplates._shape builds them so
        html_values = [""] * len(plain)
        html_value = self.html_value
        for i in self._html_positions:
            html_values[i] = html_value(plain[i])
        return Shaped(shape=self, subject=subject, values=plain, html_values=tuple(html_values))

    def fill(self, values):
        html_values = {}

        def join(parts, html=False):
            if len(parts) == 1:
                return parts[0]
            out = list(parts)
            for i in range(1, len(out), 2):
                name = out[i]
                if name not in values:
                    out[i] = _MARK.format(name)
                elif html:
                    if name not in html_values:
                        html_values[name] = self.html_value(values[name])
                    out[i] = html_values[name]
                else:
                    out[i] = values[name]
            return "".join(out)

        subject, body, html_body, sms_body = self.parts
        return RenderedMessage(
            subject=" ".join(join(subject).split())[:300],
            body=join(body),
            html_body=join(html_body, html=True),
            sms_body=join(sms_body),
            footer=join(self._footer_parts) if self.footer else self.footer,
            fallback=self.fallback,
        )
