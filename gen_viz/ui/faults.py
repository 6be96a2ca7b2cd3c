"""A model call that fails mid-computation becomes a one-line message on the page, never a traceback."""

from __future__ import annotations

import streamlit as st


def report(what: str, err: BaseException) -> None:
    """Say it once, on this run."""
    st.error(_message(what, err))


def _message(what: str, err: BaseException) -> str:
    return (f"{what} failed: {type(err).__name__}: {str(err)[:200]}. The rest of the page still works: "
            "try again, or pick another model in the sidebar.")


def remember(slot: str, what: str, err: BaseException) -> None:
    """Keep the message for this session until the next successful call (``clear``), shown by ``show``."""
    st.session_state[f"_fault_{slot}"] = _message(what, err)


def clear(slot: str) -> None:
    st.session_state.pop(f"_fault_{slot}", None)


def show(slot: str) -> None:
    message = st.session_state.get(f"_fault_{slot}")
    if message:
        st.error(message)
