"""Where each character of a cleaned message comes from in the raw message.

:func:`clean_text_with_origins` runs the steps of :func:`intents.text_cleaning.clean_text`, with
the same regular expressions and in the same order, on a string that carries, for every
character, the range of the raw text it stands for:

* a character kept from the raw text stands for itself;
* a word written in place of a raw phrase (the glossary's "where is" for "dónde está", the
  synonym "refund" added after "money back", "é" unescaped from "&eacute;", "e" folded from
  "é") stands for the phrase it replaces;
* a placeholder (``ordernum``, ``emailaddr``…) and the spaces cleaning inserts stand for
  nothing: an identifier is never shown as a reason, and cannot be;
* quoted history, signatures, greetings and HTML markup are cut, so nothing of the cleaned text
  stands for them.

This is what lets the Context Card highlight the words of the *original* message that made
the model decide (:mod:`intents.explanation`). Its text must equal :func:`clean_text`'s
exactly (the explanation checks, and shows nothing when it does not); a test runs both over
every demo example and the cleaning tests' messages, so a change to ``clean_text`` that is not
made here too fails there first.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from . import text_cleaning as cleaning

__all__ = ["CleanedText", "clean_text_with_origins"]

# html.unescape's own pattern: each match is unescaped on its own, as html.unescape does.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_QUOTE_MARKERS = re.compile(r"^[ \t]*>+", re.MULTILINE)
# `str.split()` and `\s` agree on what whitespace is.
_WHITESPACE = re.compile(r"\s+")
_ANY_CHARACTER = re.compile(".", re.DOTALL)
_NOWHERE = -1


def _span(starts: np.ndarray, ends: np.ndarray) -> tuple[int, int] | None:
    known = starts != _NOWHERE
    if not known.any():
        return None
    return int(starts[known].min()), int(ends[known].max())


@dataclass(frozen=True)
class CleanedText:
    """A cleaned message and, per character, the raw range ``[starts[i], ends[i])`` it
    stands for (``-1, -1`` for characters that stand for nothing)."""

    text: str
    starts: np.ndarray
    ends: np.ndarray

    def origin(self, start: int, end: int) -> tuple[int, int] | None:
        """The raw range that characters ``start:end`` of the cleaned text stand for, or
        None when they stand for nothing (a placeholder)."""
        return _span(self.starts[start:end], self.ends[start:end])

    def origins(self, ranges: list[tuple[int, int]]) -> list[tuple[int, int] | None]:
        """:meth:`origin` of many non-empty ranges of the cleaned text at once."""
        if not ranges:
            return []
        unknown = np.iinfo(np.int64).max
        starts = np.append(np.where(self.starts == _NOWHERE, unknown, self.starts), unknown)
        ends = np.append(self.ends, _NOWHERE)
        # Reducing at start0, end0, start1, end1, ... gives each range at the even places.
        bounds = np.asarray(ranges, dtype=np.int64).ravel()
        lows = np.minimum.reduceat(starts, bounds)[::2].tolist()
        highs = np.maximum.reduceat(ends, bounds)[::2].tolist()
        return [
            None if low == unknown else (low, high) for low, high in zip(lows, highs, strict=True)
        ]


class _Tracked:
    """A string being cleaned, with the origin of each of its characters."""

    __slots__ = ("ends", "starts", "text")

    def __init__(self, text: str, starts: np.ndarray, ends: np.ndarray) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends

    @classmethod
    def raw(cls, text: str) -> _Tracked:
        positions = np.arange(len(text), dtype=np.int64)
        return cls(text, positions, positions + 1)

    def slice(self, start: int, end: int | None = None) -> _Tracked:
        return _Tracked(self.text[start:end], self.starts[start:end], self.ends[start:end])

    def rstrip(self) -> _Tracked:
        return self.slice(0, len(self.text.rstrip()))

    def append_nothing(self, text: str) -> _Tracked:
        nothing = _nothing(text)
        return _Tracked(
            self.text + text,
            np.concatenate([self.starts, nothing]),
            np.concatenate([self.ends, nothing]),
        )

    def sub(self, pattern: re.Pattern[str], replace) -> _Tracked:
        """``pattern.sub`` where ``replace(match)`` returns a list of pieces, each a string
        that stands for nothing (``str``), or a ``(text, start, end)`` triple: the characters
        ``start:end`` of this string when ``text`` is None, else ``text`` standing for them."""
        # The result's origins are gathered in one step: `take` holds, per character, the
        # index of its origin in this string's origins, then in the new ones, or -1 (nowhere).
        size = len(self.text)
        texts: list[str] = []
        take: list[int] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        last = 0
        for match in pattern.finditer(self.text):
            texts.append(self.text[last : match.start()])
            take.extend(range(last, match.start()))
            for piece in replace(match):
                if isinstance(piece, str):
                    texts.append(piece)
                    take.extend([-1] * len(piece))
                    continue
                text, start, end = piece
                if text is None:
                    texts.append(self.text[start:end])
                    take.extend(range(start, end))
                else:
                    origin = _span(self.starts[start:end], self.ends[start:end])
                    texts.append(text)
                    take.extend([size + len(new_starts)] * len(text))
                    new_starts.append(origin[0] if origin else _NOWHERE)
                    new_ends.append(origin[1] if origin else _NOWHERE)
            last = match.end()
        if not texts:
            return self
        texts.append(self.text[last:])
        take.extend(range(last, size))
        index = np.asarray(take, dtype=np.int64)
        # The last origin is "nowhere", so index -1 picks it.
        starts = np.concatenate([self.starts, new_starts, [_NOWHERE]]).astype(np.int64)
        ends = np.concatenate([self.ends, new_ends, [_NOWHERE]]).astype(np.int64)
        return _Tracked("".join(texts), starts[index], ends[index])


def _nothing(text: str) -> np.ndarray:
    return np.full(len(text), _NOWHERE, dtype=np.int64)


def _removed(_match: re.Match[str]) -> list:
    return []


def _inserted(text: str):
    return lambda _match: [text]


def _group_then(group: int, text: str):
    """A replacement like ``r"\\1 placeholder "``: the group is kept, the rest is new."""
    return lambda match: [(None, match.start(group), match.end(group)), text]


def _instead(text_of):
    """A replacement that stands for the whole match."""
    return lambda match: [(text_of(match), match.start(), match.end())]


def _strip_html(t: _Tracked) -> _Tracked:
    if not cleaning._HTML_HINT.search(t.text):
        return t
    t = t.sub(cleaning._HTML_DROP, _inserted(" "))
    t = t.sub(cleaning._HTML_BLOCKQUOTE, _inserted(" "))
    t = t.sub(cleaning._HTML_BREAK, _inserted("\n"))
    t = t.sub(cleaning._HTML_TAG, _inserted(" "))
    if "&" not in t.text:
        return t
    return t.sub(_CHARREF, _instead(lambda match: html.unescape(match.group(0))))


def _strip_inline_closing(t: _Tracked) -> _Tracked:
    match = cleaning._SIG_INLINE.search(t.text, max(0, len(t.text) - 120))
    return t.slice(0, match.start()) if match else t


def _strip_quoted_and_signature(t: _Tracked) -> _Tracked:
    original = t
    match = cleaning._QUOTE_START.search(t.text)
    if match:
        t = t.slice(0, match.start())
    t = t.sub(cleaning._QUOTED_LINE, _removed)
    match = cleaning._SIG_DELIMITER.search(t.text)
    if match:
        t = t.slice(0, match.start())
    t = t.sub(cleaning._SENT_FROM, _removed).rstrip()
    without_closing = t.append_nothing("\n").sub(cleaning._SIG_BLOCK, _removed)
    without_closing = _strip_inline_closing(without_closing.rstrip())
    if without_closing.text.strip():
        t = without_closing
    if not t.text.strip():
        t = original.sub(_QUOTE_MARKERS, _removed)
    return t


def _strip_greeting(t: _Tracked) -> _Tracked:
    match = cleaning._GREETING.match(t.text)
    if match and t.text[match.end() :].strip():
        return t.slice(match.end())
    return t


def _fold_and_lower(t: _Tracked) -> _Tracked:
    # fold_accents works character by character (NFKD only reorders the combining marks it
    # then drops), so each non-ASCII character is folded on its own and keeps its origin.
    if cleaning._NON_ASCII.search(t.text):
        t = t.sub(cleaning._NON_ASCII, _instead(lambda match: cleaning.fold_accents(match[0])))
    lowered = t.text.lower()
    if len(lowered) == len(t.text):
        return _Tracked(lowered, t.starts, t.ends)
    # A character whose lower case is longer (rare once folded): lower them one by one.
    return t.sub(_ANY_CHARACTER, _instead(lambda match: match[0].lower()))


def _mask_identifiers(t: _Tracked) -> _Tracked:
    if "@" in t.text:
        t = t.sub(cleaning._EMAIL, _inserted(" emailaddr "))
    if cleaning._URL_HINT.search(t.text):
        t = t.sub(cleaning._URL, _inserted(" urladdr "))
    if not cleaning._DIGIT.search(t.text):
        return t
    t = t.sub(cleaning._DATE, _inserted(" datenum "))
    t = t.sub(cleaning._TRACKING_CTX, _group_then(1, " trackingnum "))
    t = t.sub(cleaning._TRACKING, _inserted(" trackingnum "))
    t = t.sub(cleaning._AMOUNT, _inserted(" amount "))
    t = t.sub(cleaning._ORDER_CTX, _group_then(1, " ordernum "))
    return t.sub(cleaning._ORDER_BARE, _inserted(" ordernum "))


def _expand_synonym(match: re.Match[str]) -> list:
    # The paraphrase keeps its own characters; the added word stands for the paraphrase.
    phrase = match.group(0)
    added = f" {cleaning._SYNONYM_LOOKUP[phrase]}"
    return [(None, match.start(), match.end()), (added, match.start(), match.end())]


def _normalise_whitespace(t: _Tracked) -> _Tracked:
    t = t.sub(_WHITESPACE, _inserted(" "))
    start = len(t.text) - len(t.text.lstrip(" "))
    return t.slice(start, len(t.text.rstrip(" ")))


def clean_text_with_origins(text: str) -> CleanedText:
    """:func:`~intents.text_cleaning.clean_text` of ``text``, with the raw range each
    character of the result stands for (see the module docstring)."""
    t = _Tracked.raw(text or "")
    if not text:
        return CleanedText("", t.starts, t.ends)
    t = _strip_html(t)
    if "\n" in t.text or ">" in t.text:
        t = _strip_quoted_and_signature(t)
    else:
        stripped = _strip_inline_closing(t)
        t = stripped if stripped.text.strip() else t
    t = _fold_and_lower(_strip_greeting(t))
    if any(marker in t.text for marker in ("from my", "de mon", "desde mi", "gesendet")):
        stripped = t.sub(cleaning._SENT_FROM_ANY, _removed)
        t = stripped if stripped.text.strip() else t
    if cleaning._NON_ASCII.search(t.text):
        t = t.sub(cleaning._SYMBOLS, _inserted(" "))
    if any(run in t.text for run in ("!!", "??", "..", "?!", "!?")):
        t = t.sub(cleaning._REPEATED_PUNCT, lambda m: [(None, m.start(1), m.end(1))])
    t = _mask_identifiers(t)
    t = t.sub(
        cleaning._GLOSSARY_RE, _instead(lambda match: cleaning._GLOSSARY_LOOKUP[match.group(0)])
    )
    t = t.sub(cleaning._SYNONYM_RE, _expand_synonym)
    t = _normalise_whitespace(t)
    return CleanedText(t.text, t.starts, t.ends)
