"""The shared sidebar: which text and diffusion model are in use, and an "about this model" card.

The choice lives in ``st.session_state`` under plain keys (not widget keys), so it
survives page switches; each page re-seeds its widgets from it. The text model
can also arrive in a shared link (``?model=gpt2``), accepted only as a registry key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from gen_viz import models, offline
from gen_viz.ui import loaders, query

TEXT_KEY, DIFF_KEY, DL_KEY, LOCAL_KEY = "text_model", "diffusion_model", "allow_download", "local_model_dir"


NAV = [
    ("pages/1_Tokens.py", "Tokens", "🧩"),
    ("pages/2_Attention.py", "Attention", "🔦"),
    ("pages/3_Generation.py", "Generation", "✍️"),
    ("pages/4_Diffusion.py", "Diffusion", "🌫️"),
    ("pages/5_Embeddings.py", "Embeddings", "🗺️"),
]


@dataclass(frozen=True)
class Selection:
    text_model: str
    diffusion_model: str
    allow_download: bool


def _persisted_select(label: str, state_key: str, options: list[str], fmt, help_text: str) -> str:
    widget_key = f"_w_{state_key}"
    if st.session_state[state_key] not in options:
        st.session_state[state_key] = options[0]
    st.session_state[widget_key] = st.session_state[state_key]  # re-seed the widget on every page

    def _keep() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    return st.selectbox(label, options, key=widget_key, format_func=fmt, on_change=_keep, help=help_text)


def _label(key: str) -> str:
    return models.REGISTRY[key].label if key in models.REGISTRY else f"Local: {Path(key).name}"


def _fmt_params(n: int) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n:,}"


def about_card(info: models.ModelInfo) -> None:
    st.markdown(
        f"- **Parameters**: {_fmt_params(info.n_params)} ({info.n_params:,})\n"
        f"- **Layers x heads**: {info.n_layers} x {info.n_heads}, width {info.hidden_size}\n"
        f"- **Vocabulary**: {info.vocab_size:,} tokens\n"
        f"- **Context**: {info.context_length:,} tokens\n"
        f"- **Attention**: {'causal (looks back only)' if info.is_causal else 'bidirectional'}\n"
        f"- **Weights**: {info.size_mb} MB, {info.architecture}\n"
        f"- **From**: {info.origin}"
    )


def _generic_card(info: object) -> None:
    items = dataclasses.asdict(info) if dataclasses.is_dataclass(info) else dict(info or {})
    st.markdown("\n".join(f"- **{k.replace('_', ' ')}**: {v}" for k, v in items.items()))


def render(load_diffusion: bool = False) -> Selection:
    """Draw the sidebar (call once at the top of every page) and return the current choice.

    ``load_diffusion=True`` (the diffusion lesson) loads the diffusion model for its card and falls
    back to the bundled one when an optional model is unavailable; other pages skip that cost.
    """
    st.session_state.setdefault(TEXT_KEY, query.choice("model", models.DEFAULT_TEXT_MODEL, models.text_model_keys()))
    st.session_state.setdefault(DIFF_KEY, models.DEFAULT_DIFFUSION_MODEL)
    st.session_state.setdefault(DL_KEY, False)
    st.session_state.setdefault(LOCAL_KEY, "")

    with st.sidebar:
        st.page_link("app.py", label="Home", icon="🏠")
        for page, label, icon in NAV:
            st.page_link(page, label=label, icon=icon)
        st.header("Models")
        text_options = models.text_model_keys()
        if st.session_state[TEXT_KEY] not in text_options and Path(st.session_state[TEXT_KEY]).is_dir():
            text_options.append(st.session_state[TEXT_KEY])
        _persisted_select("Text model", TEXT_KEY, text_options, _label,
                          "Used by the tokens, attention, generation and embeddings lessons.")
        _persisted_select("Diffusion model", DIFF_KEY, models.diffusion_model_keys(), _label,
                          "Used by the diffusion lesson.")
        env_ok = offline.downloads_enabled_by_env()
        st.session_state["_w_" + DL_KEY] = st.session_state[DL_KEY] and env_ok
        st.toggle("Allow downloads of optional models", key="_w_" + DL_KEY, disabled=not env_ok,
                  on_change=lambda: st.session_state.update({DL_KEY: st.session_state["_w_" + DL_KEY]}),
                  help="Off by default: GenViz runs on its bundled models. Needs the server started with "
                  "GENVIZ_ALLOW_DOWNLOAD=1." if not env_ok else "Fetch GPT-2 / DistilGPT-2 / DDPM from the "
                  "Hugging Face Hub when they are not cached.")
        with st.expander("Use a local model directory"):
            path = st.text_input("Absolute path to a transformers causal LM (safetensors)", key="_w_" + LOCAL_KEY,
                                 value=st.session_state[LOCAL_KEY], max_chars=500)
            if st.button("Use this directory", disabled=not path):
                st.session_state[LOCAL_KEY] = path
                tm, reason = loaders.try_text_model(path)
                if tm is None:
                    st.warning(reason)
                else:
                    st.session_state[TEXT_KEY] = path
                    st.rerun()

        allow = bool(st.session_state[DL_KEY] and env_ok)
        # the card reads config + safetensors headers only: no page waits for weights it does not use
        text_key, info, reason = _chosen_or_bundled(TEXT_KEY, models.DEFAULT_TEXT_MODEL,
                                                    loaders.try_describe_text_model, allow)
        with st.expander(f"About this model: {_label(text_key)}", expanded=False):
            if info is None:
                st.error(reason)
            else:
                st.caption(models.get_spec(text_key).description)
                about_card(info)

        diff_key = st.session_state[DIFF_KEY]
        if load_diffusion:
            diff_key, dm, dreason = _chosen_or_bundled(DIFF_KEY, models.DEFAULT_DIFFUSION_MODEL,
                                                       loaders.try_diffusion_model, allow)
            with st.expander(f"About this model: {_label(diff_key)}", expanded=False):
                if dm is None:
                    st.error(dreason)
                else:
                    st.caption(models.REGISTRY[diff_key].description if diff_key in models.REGISTRY else diff_key)
                    _generic_card(getattr(dm, "info", None))
        else:  # loading the diffusion model costs seconds: only the diffusion lesson does it
            st.caption(f"{_label(diff_key)}: loaded when you open the Diffusion lesson.")
        st.caption("GenViz runs offline: no data leaves this machine.")

    # shareable links carry a non-default registry model (never a local path)
    query.sync(model=text_key if text_key in models.REGISTRY and text_key != models.DEFAULT_TEXT_MODEL else None)

    return Selection(text_model=text_key, diffusion_model=diff_key, allow_download=allow)


def _chosen_or_bundled(state_key: str, bundled: str, try_load, allow: bool):
    """(key, loaded, reason) for the session's chosen model; when it is unavailable, say why once and fall
    back to the bundled model (remembered, so other pages do not ask again)."""
    key = st.session_state[state_key]
    loaded, reason = try_load(key, allow)
    if loaded is None and key != bundled:
        st.warning(f"{reason} Staying on the bundled model.")
        key = st.session_state[state_key] = bundled
        loaded, reason = try_load(key)
    return key, loaded, reason
