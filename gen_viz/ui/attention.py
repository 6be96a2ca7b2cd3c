"""Streamlit glue for the attention lesson: the cached forward pass, model fallback, BertViz iframe.

Attention is computed once per (model key, text) by ``attention_for`` and every
view (heatmap, grid, focus bars, ranking, minimal pair, BertViz, CSV) reuses it.
"""

from __future__ import annotations

import base64

import streamlit as st

from gen_viz import attention, bertviz_offline, models
from gen_viz.ui import faults, loaders

FALLBACK_MODEL = "minilm"
_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$&:")


def md(value: object) -> str:
    """Escape learner-derived text for st.markdown / st.info (no links, images, HTML or emphasis)."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(value))


def resolve_model(key: str, allow_download: bool) -> tuple[models.TextModel | None, str, str | None]:
    """(model, key, notice). An unavailable choice falls back to MiniLM with a notice saying why."""
    tm, reason = loaders.try_text_model(key, allow_download)
    if tm is not None:
        return tm, key, None
    if key != FALLBACK_MODEL:
        fb, fb_reason = loaders.try_text_model(FALLBACK_MODEL)
        if fb is not None:
            return fb, FALLBACK_MODEL, f"{reason} This lesson uses {fb.spec.label} meanwhile."
        reason = f"{reason} {fb_reason}"
    return None, key, reason


@st.cache_data(show_spinner="Running the model once for this text…", max_entries=64, ttl=3600)
def attention_for(model_key: str, allow_download: bool, text: str,
                  max_tokens: int = attention.MAX_READABLE_TOKENS) -> attention.Attention:
    """All attention maps of ``text`` under ``model_key`` (numpy arrays, cached per model + text)."""
    tm, reason = loaders.try_text_model(model_key, allow_download)
    if tm is None:
        raise models.ModelUnavailable(reason or f"{model_key} is unavailable")
    return attention.compute_attention(tm, text, max_tokens=max_tokens)


def attention_or_message(model_key: str, allow_download: bool, text: str) -> attention.Attention | None:
    """``attention_for``, or None after a one-line message when the model is unavailable or fails mid-call
    (nothing is cached for a failed call, so the next rerun tries again)."""
    try:
        return attention_for(model_key, allow_download, text)
    except models.ModelUnavailable as err:
        st.error(str(err))
    except Exception as err:  # a model raising mid-forward: a message, never a traceback
        faults.report("Running the model on this text", err)
    return None


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def _bertviz_html(view: str, model_key: str, allow_download: bool, text: str, merged: bool,
                  layers: tuple[int, ...], layer: int, heads: tuple[int, ...] | None) -> str:
    att = attention_for(model_key, allow_download, text)
    if merged:
        att = attention.merge_subwords(att)
    return bertviz_offline.build_html(view, att.weights, att.labels, layer=layer, include_layers=list(layers),
                                      heads=list(heads) if heads else None)


def bertviz(view: str, model_key: str, allow_download: bool, text: str, merged: bool,
            layers: list[int], layer: int, n_tokens: int, n_heads: int, heads: list[int] | None = None) -> None:
    """Render a BertViz view in an iframe, its JavaScript inline (no network).

    The page goes in as a ``data:`` URL, so it runs in an opaque origin: even a script
    that slipped past the escaping could not reach the Streamlit app or its session.
    """
    try:
        markup = _bertviz_html(view, model_key, allow_download, text, merged, tuple(layers), layer,
                               tuple(heads) if heads else None)
    except bertviz_offline.BertVizUnavailable as err:
        st.error(str(err))
        return
    height = bertviz_offline.estimated_height(view, n_tokens, len(layers), n_heads)
    url = "data:text/html;charset=utf-8;base64," + base64.b64encode(markup.encode("utf-8")).decode("ascii")
    st.iframe(url, height=min(height, 2400))
