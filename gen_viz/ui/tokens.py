"""Streamlit glue for the tokens lesson: cached tokenizers and tokenizations, and the chip HTML.

Every user-derived string (token pieces included) goes through ``html.esc`` before it reaches the
markup, and the markup is shown with ``st.html`` (no JavaScript runs): a ``<script>`` typed into the
box is shown as the literal pieces ``<``, ``script``, ``>``.

Chips carry stable hooks for tests: ``.gv-chip`` (one per token, ``data-token-id``,
``data-token-index``) inside ``.gv-chips[data-gv-chips=...]`` ("main", "compare-<tokenizer>", "reverse"), with ``data-shown``/``data-total``.
"""

from __future__ import annotations

import streamlit as st

from gen_viz import models
from gen_viz import tokens as T
from gen_viz.ui import loaders
from gen_viz.ui.html import esc

N_COLOURS = 6

CSS = """
<style>
.gv-chips{direction:ltr;line-height:1.2;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
  font-size:0.95rem;display:flex;flex-wrap:wrap;align-items:flex-start;gap:3px 2px;}
.gv-chip{display:inline-flex;flex-direction:column;align-items:center;border-radius:4px;padding:1px 3px;
  border:1px solid rgba(0,0,0,.12);unicode-bidi:isolate;white-space:pre;}
.gv-chip .gv-piece{unicode-bidi:isolate;}
.gv-chip .gv-id{font-size:0.68rem;color:#555;}
.gv-c0{background:#fde2e4}.gv-c1{background:#e2f0cb}.gv-c2{background:#cde7f0}
.gv-c3{background:#fff1c1}.gv-c4{background:#e4daf5}.gv-c5{background:#d7f2e3}
.gv-chip.gv-partial{border:1px dashed #b45309;}
.gv-chip.gv-unk{border:2px solid #c0392b;}
.gv-chip.gv-special{border:2px solid #6c4ab6;}
.gv-group{display:inline-flex;flex-direction:column;align-items:center;border-bottom:2px solid #b45309;
  padding-bottom:1px;}
.gv-group-chips{display:inline-flex;gap:1px;}
.gv-group-text{font-size:0.8rem;color:#7c2d12;unicode-bidi:isolate;}
.gv-gap{color:#999;white-space:pre;align-self:center;}
.gv-break{flex-basis:100%;height:0;}
.gv-more{color:#666;font-style:italic;align-self:center;}
</style>
"""


# ---------------------------------------------------------------------------------------------
# Cached tokenizers and results
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=8)
def _handle(name: str, allow_download: bool) -> T.TokenizerHandle:
    """One private tokenizer copy per name per server (failures are not cached: retried next run)."""
    spec = models.REGISTRY.get(name)
    if name == T.GPT2_BPE or (spec is not None and spec.source == "bundled"):
        return T.load_tokenizer(name)
    tm, reason = loaders.try_text_model(name, allow_download)  # hub or local: the model brings it
    if tm is None:
        raise models.ModelUnavailable(reason or f"{name} is unavailable.")
    with tm.lock:
        return T.handle_from_hf(tm.tokenizer, name, T.default_label(name))


def tokenizer(name: str, allow_download: bool = False) -> tuple[T.TokenizerHandle | None, str | None]:
    """(handle, None) or (None, one-line reason). Never raises for a missing tokenizer."""
    try:
        return _handle(name, allow_download), None
    except models.ModelUnavailable as err:
        return None, str(err)


@st.cache_data(show_spinner=False, max_entries=64)
def tokenize(name: str, text: str, allow_download: bool = False) -> T.Tokenization:
    """Cached by (tokenizer name, text): a rerun with the same text costs a dictionary lookup."""
    return T.tokenize(_handle(name, allow_download), text)


@st.cache_data(show_spinner=False, max_entries=64)
def chips_markup(name: str, text: str, limit: int, show_ids: bool, hook: str = "main",
                 allow_download: bool = False) -> str:
    tok = tokenize(name, text, allow_download)
    return chips_html(tok, _handle(name, allow_download), limit, show_ids, hook)


# ---------------------------------------------------------------------------------------------
# Chip HTML (pure given the segments; escaped)
# ---------------------------------------------------------------------------------------------


def _chip(piece: T.Piece, text: str, show_ids: bool) -> str:
    classes = ["gv-chip", f"gv-c{piece.index % N_COLOURS}"]
    if piece.partial:
        classes.append("gv-partial")
    if piece.unknown:
        classes.append("gv-unk")
    if piece.special:
        classes.append("gv-special")
    title = f"token #{piece.index + 1} · id {piece.id} · vocabulary entry {piece.token!r}"
    if piece.partial:
        title += " · a byte piece: only together with its neighbours does it form a character"
    elif piece.unknown:
        title += f" · unknown: this tokenizer has no piece for {text!r}"
    elif piece.special:
        title += " · a special token: typed literally, it became the control token"
    ids = f'<span class="gv-id">{piece.id}</span>' if show_ids else ""
    return (f'<span class="{" ".join(classes)}" data-token-index="{piece.index}" data-token-id="{piece.id}" '
            f'title="{esc(title)}"><span class="gv-piece">{esc(piece.label)}</span>{ids}</span>')


def _segment_html(seg: T.Segment, show_ids: bool) -> str:
    if seg.is_gap:
        out = f'<span class="gv-gap" title="not part of any token">{esc(T.visible(seg.text))}</span>'
    elif seg.merged:
        chips = "".join(_chip(p, seg.text, show_ids) for p in seg.pieces)
        note = (f"{len(seg.pieces)} tokens that are byte pieces: only together do they spell "
                f"{seg.text!r} ({len(seg.text.encode('utf-8'))} UTF-8 bytes)")
        out = (f'<span class="gv-group" title="{esc(note)}"><span class="gv-group-chips">{chips}</span>'
               f'<span class="gv-group-text">= {esc(T.visible(seg.text))}</span></span>')
    else:
        out = "".join(_chip(p, seg.text, show_ids) for p in seg.pieces)
    if seg.text.endswith("\n"):
        out += '<span class="gv-break"></span>'  # the chips break the line where the text does
    return out


def chips_html(tok: T.Tokenization, handle: T.TokenizerHandle, limit: int, show_ids: bool = True,
               hook: str = "main") -> str:
    """The first ``limit`` tokens as chips, in reading order (escaped markup, CSS included)."""
    segments = T.segment(tok, handle, limit)
    shown = min(limit, tok.n_tokens)
    body = "".join(_segment_html(s, show_ids) for s in segments)
    if shown < tok.n_tokens:
        body += f'<span class="gv-more">… {tok.n_tokens - shown:,} more tokens not drawn</span>'
    if not tok.n_tokens:
        body += '<span class="gv-more">(no tokens)</span>'
    return (f'{CSS}<div class="gv-chips" data-gv-chips="{esc(hook)}" data-tokenizer="{esc(tok.tokenizer)}" '
            f'data-shown="{shown}" '
            f'data-total="{tok.n_tokens}">{body}</div>')


def render_chips(name: str, text: str, limit: int, show_ids: bool = True, hook: str = "main",
                 allow_download: bool = False) -> None:
    st.html(chips_markup(name, text, limit, show_ids, hook, allow_download))


def pieces_html(labels: tuple[str, ...], ids: tuple[int, ...], hook: str = "reverse") -> str:
    """Chips for the reverse box: one per id, its piece above it."""
    body = "".join(
        f'<span class="gv-chip gv-c{i % N_COLOURS}" data-token-index="{i}" data-token-id="{tid}">'
        f'<span class="gv-piece">{esc(label)}</span><span class="gv-id">{tid}</span></span>'
        for i, (label, tid) in enumerate(zip(labels, ids))
    )
    return f'{CSS}<div class="gv-chips" data-gv-chips="{esc(hook)}" data-shown="{len(ids)}" ' \
           f'data-total="{len(ids)}">{body}</div>'
