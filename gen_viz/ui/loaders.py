"""Models loaded once per process (``st.cache_resource``), never mutated by pages.

Failures are not cached: a missing optional model answers in well under a
second offline, and the learner may add it to the cache later.
"""

from __future__ import annotations

import streamlit as st

from gen_viz import models


@st.cache_resource(show_spinner="Loading the model (once per server)…", max_entries=6)
def _text_model(key: str, allow_download: bool) -> models.TextModel:
    return models.load_text_model(key, allow_download=allow_download)


@st.cache_resource(show_spinner="Loading the diffusion model (once per server)…", max_entries=3)
def _diffusion_model(key: str, allow_download: bool):
    return models.load_diffusion_model(key, allow_download=allow_download)


@st.cache_resource(show_spinner=False)
def gpt2_tokenizer():
    """GPT-2's real tokenizer (bundled asset). Use under ``gpt2_tokenizer_lock()`` (pitfall 2)."""
    return models.load_gpt2_tokenizer()


@st.cache_resource(show_spinner=False)
def gpt2_tokenizer_lock():
    import threading

    return threading.RLock()


@st.cache_data(show_spinner=False, max_entries=32)
def _describe_text_model(key: str, allow_download: bool) -> models.ModelInfo:
    return models.describe_text_model(key, allow_download=allow_download)


def try_describe_text_model(key: str, allow_download: bool = False) -> tuple[models.ModelInfo | None, str | None]:
    """The sidebar's card without loading weights: (info, None) or (None, one-line reason)."""
    try:
        return _describe_text_model(key, allow_download), None
    except models.ModelUnavailable as err:
        return None, str(err)


def try_text_model(key: str, allow_download: bool = False) -> tuple[models.TextModel | None, str | None]:
    """(model, None) or (None, one-line reason). Never raises for an unavailable model."""
    try:
        return _text_model(key, allow_download), None
    except models.ModelUnavailable as err:
        return None, str(err)


def try_diffusion_model(key: str, allow_download: bool = False):
    try:
        return _diffusion_model(key, allow_download), None
    except models.ModelUnavailable as err:
        return None, str(err)


def text_model(key: str, allow_download: bool = False) -> models.TextModel | None:
    """The loaded model, or None after showing the reason on the page."""
    tm, reason = try_text_model(key, allow_download)
    if tm is None:
        st.error(reason)
    return tm


def diffusion_model(key: str, allow_download: bool = False):
    dm, reason = try_diffusion_model(key, allow_download)
    if dm is None:
        st.error(reason)
    return dm
