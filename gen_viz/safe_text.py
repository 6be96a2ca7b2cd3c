"""Make arbitrary learner text safe to process: no NUL, no lone surrogates, bounded length.

Backend functions take ``str`` as given; pages pass user input through
``clean_text`` first so that hostile input (control characters, lone surrogates
from a URL, 10 MB pastes) becomes a clear notice instead of a traceback.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field


@dataclass
class CleanText:
    text: str
    notices: list[str] = field(default_factory=list)


def clean_text(raw: object, max_chars: int) -> CleanText:
    """Drop NUL and other C0 controls except tab/newline, repair lone surrogates, cap the length."""
    text = "" if raw is None else str(raw)
    notices = []
    repaired = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    if repaired != text:
        notices.append("Some characters could not be read (lone surrogates) and were replaced by '?'.")
    text = repaired
    kept = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")
    if len(kept) != len(text):
        notices.append(f"Removed {len(text) - len(kept)} invisible control character(s) (such as NUL).")
    text = kept
    if len(text) > max_chars:
        notices.append(f"The text was {len(text):,} characters; only the first {max_chars:,} are used.")
        text = text[:max_chars]
    return CleanText(text, notices)
