"""Text that PostgreSQL can hold.

Its `text` type refuses NUL characters, and a lone UTF-16 surrogate cannot be encoded as UTF-8
at all; JSON and Python strings carry both without complaint.
"""

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def storable(text: str) -> str:
    """The text with what PostgreSQL cannot hold removed (NUL) or replaced (a lone surrogate)."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", text)
