"""Helpers for tests that read pages as a person would: the visible text, and English left on a translated page."""

import re
from html import unescape

# Words no French or Polish sentence uses; one of them on a translated page is an English sentence left behind.
ENGLISH_WORDS = ("the", "you", "your", "this", "is", "are", "and", "of", "with", "will", "has", "have", "here")
_ENGLISH = re.compile(r"\b(" + "|".join(ENGLISH_WORDS) + r")\b", re.IGNORECASE)


def visible_text(html: str) -> str:
    """The text a reader sees: no tags, scripts or styles; entities decoded; blanks collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", text).strip()


def english_words(text: str) -> list[str]:
    """English function words found in `text` (empty on a page fully in French or Polish)."""
    return [match.group(0) for match in _ENGLISH.finditer(text)]
