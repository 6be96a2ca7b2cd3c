"""Safe HTML: every user-derived string (tokens included) is escaped before it goes into markup.

``st.html`` sanitises with DOMPurify and runs no JavaScript; escaping on top of it
means a token such as ``<img src=x onerror=...>`` is shown as the literal text
the learner typed (GUIDE pitfall 6).
"""

from __future__ import annotations

import html as _html

import streamlit as st


def esc(value: object) -> str:
    """Escape text for HTML element content and attribute values."""
    return _html.escape(str(value), quote=True)


def render(markup: str) -> None:
    """Show markup whose user-derived parts were escaped with ``esc``."""
    st.html(markup)
