"""Shareable lesson links: a page's main inputs mirrored in the URL query string.

Values read from the URL are validated and capped: a bad or hostile value
falls back to the default, never raises. Model choice from the URL is accepted
only as a registry key (never a path). Pages seed their widgets once per
session with ``seed(state_key, value)`` and call ``sync(...)`` after reading the
widgets so the address bar always holds a link to the current lesson state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from gen_viz.safe_text import clean_text

MAX_URL_TEXT = 2000


def _raw(name: str) -> str | None:
    try:
        value = st.query_params.get(name)
    except Exception:  # a malformed query string must never break a page
        return None
    return None if value is None else str(value)


def text(name: str, default: str, max_len: int = MAX_URL_TEXT) -> str:
    raw = _raw(name)
    return default if raw is None else clean_text(raw, max_len).text


def integer(name: str, default: int, lo: int, hi: int) -> int:
    raw = _raw(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if lo <= value <= hi else default


def number(name: str, default: float, lo: float, hi: float) -> float:
    raw = _raw(name)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return value if math.isfinite(value) and lo <= value <= hi else default


def choice(name: str, default: str, options: Sequence[str]) -> str:
    raw = _raw(name)
    return raw if raw in options else default


def seed(state_key: str, value: object) -> None:
    """Give a widget its first value (from the URL) once per session; later the widget owns it."""
    st.session_state.setdefault(state_key, value)


def sync(**values: object) -> None:
    """Mirror the current inputs in the URL (capped; empty values removed)."""
    for name, value in values.items():
        text_value = "" if value is None else str(value)[:MAX_URL_TEXT]
        try:
            if not text_value:
                if name in st.query_params:
                    del st.query_params[name]
            elif st.query_params.get(name) != text_value:
                st.query_params[name] = text_value
        except Exception:
            pass  # the URL is a convenience: never fail a page over it
