"""Streamlit glue for the embeddings lesson: cached tables and projections, and the page's sections.

Caching (GUIDE section 3):
* the embedding table of each source (raw + unit rows, read-only numpy) lives in
  ``st.cache_resource``: read once per server from the loaded model, never mutated;
* word look-ups, projections, neighbour lists and analogies live in ``st.cache_data``
  keyed by plain arguments (source, word tuple, method, seed). t-SNE and UMAP run only
  when the learner picks them (the default view is PCA, instant), then come from cache.
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from gen_viz import embeddings as emb
from gen_viz import models
from gen_viz import word_sets as ws
from gen_viz.plots import embeddings as plots
from gen_viz.safe_text import clean_text
from gen_viz.ui import loaders, query

SOURCES = ("minilm", "gpt2", "genviz-tiny-gpt2")
DEFAULT_SOURCE = "minilm"
MAX_MAP_WORDS = 150  # beyond this the labels of a map are unreadable
MAX_INPUT_CHARS = 2000
HEATMAP_MAX = 40
BACKGROUND_CHOICES = (0, 1000, 5000)
HOVER_NEIGHBOURS = 5
YOUR_WORDS = "Your words"

# widget keys (also the session-state keys seeded from a shared link)
K_SOURCE, K_SETS, K_WORDS, K_METHOD, K_BG, K_SEED = "emb_source", "emb_sets", "emb_words", "emb_method", "emb_bg", "emb_seed"
K_NN, K_NN_K, K_A, K_B, K_C, K_INCL = "emb_nn", "emb_nn_k", "emb_a", "emb_b", "emb_c", "emb_incl"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """A learner's word made inert inside Streamlit markdown (no links, bold, LaTeX, :colour[] or tags)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def quoted(words) -> str:
    return ", ".join(f"“{md(w)}”" for w in words)


# ---------------------------------------------------------------------------------------------
# Cached data
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Reading the embedding table (once per server)…", max_entries=4)
def _table(source: str, allow_download: bool) -> emb.EmbeddingTable:
    tm, reason = loaders.try_text_model(source, allow_download)
    if tm is None:
        raise models.ModelUnavailable(reason)
    return emb.table_from_model(tm)


def table(source: str, allow_download: bool = False) -> tuple[emb.EmbeddingTable | None, str | None]:
    """(table, None) or (None, one-line reason); failures are not cached (the model may appear later)."""
    try:
        return _table(source, allow_download), None
    except models.ModelUnavailable as err:
        return None, str(err)


@st.cache_data(show_spinner=False, max_entries=256)
def lookup(source: str, words: tuple[str, ...], _table: emb.EmbeddingTable) -> list[emb.WordVector]:
    return emb.lookup(_table, words)


@st.cache_data(show_spinner=False, max_entries=64)
def hover_neighbours(source: str, words: tuple[str, ...], _table: emb.EmbeddingTable) -> list[list[str]]:
    found = lookup(source, words, _table)
    return [[f"{n.word} {n.cosine:.2f}" for n in row]
            for row in emb.neighbours_many(_table, found, HOVER_NEIGHBOURS)]


@st.cache_data(show_spinner=False, max_entries=32)
def projection(source: str, words: tuple[str, ...], method: str, seed: int, background: int,
               _x: np.ndarray) -> emb.Projection:
    """Keyed by (source, word set, method, seed, background size): ``_x`` follows from those."""
    return emb.project(_x, method, seed)


@st.cache_data(show_spinner=False, max_entries=64)
def analogy(source: str, a: str, b: str, c: str, k: int, include: bool, _table: emb.EmbeddingTable):
    wa, wb, wc = lookup(source, (a, b, c), _table)
    if not (wa.found and wb.found and wc.found):
        return None
    return emb.analogy(_table, wa, wb, wc, k, include)


# ---------------------------------------------------------------------------------------------
# 0. Source of the vectors
# ---------------------------------------------------------------------------------------------


def source_picker(sel) -> emb.EmbeddingTable:
    """Which model's table the lesson reads; falls back to MiniLM with a message (or stops)."""
    options = list(SOURCES)
    if sel.text_model not in models.REGISTRY and sel.text_model not in options:
        options.append(sel.text_model)  # a local model directory chosen in the sidebar
    query.seed(K_SOURCE, query.choice("src", DEFAULT_SOURCE, SOURCES))
    if st.session_state[K_SOURCE] not in options:
        st.session_state[K_SOURCE] = DEFAULT_SOURCE

    def label(key: str) -> str:
        return models.REGISTRY[key].label if key in models.REGISTRY else f"Local model: {key}"

    source = st.selectbox("Whose coordinates?", options, key=K_SOURCE, format_func=label,
                          help="Each model learned its own table of word vectors. MiniLM is bundled and always "
                          "here; GPT-2 small is used when it is in the local Hugging Face cache.")
    tab, reason = table(source, sel.allow_download)
    if tab is None and source != DEFAULT_SOURCE:
        hint = " (the bundled tiny GPT-2 may still be training)" if source == "genviz-tiny-gpt2" else ""
        st.warning(f"{reason}{hint} Showing MiniLM's embeddings instead.")
        source = DEFAULT_SOURCE
        tab, reason = table(source)
    if tab is None:
        st.error(reason)
        st.stop()
    query.sync(src=source if source in SOURCES and source != DEFAULT_SOURCE else None)
    kind = "WordPiece" if tab.style == "wordpiece" else "byte-level BPE" if tab.style == "bytelevel" else "tokenizer"
    st.caption(
        f"**{tab.label}**: its input embedding table has **{tab.vocab_size:,} rows** (one per {kind} token) of "
        f"**{tab.dims} numbers** each. These are the coordinates the model starts from, before any attention: "
        "the same row for *bank* in *river bank* and in *bank account*.")
    return tab


# ---------------------------------------------------------------------------------------------
# 1. The map
# ---------------------------------------------------------------------------------------------


def _seed_map_state() -> None:
    url_sets = [ws.SET_IDS[s] for s in query.text("sets", "", 200).split(",") if s.strip() in ws.SET_IDS]
    query.seed(K_SETS, url_sets if "sets" in st.query_params else list(ws.DEFAULT_SETS))
    query.seed(K_WORDS, query.text("words", "", MAX_INPUT_CHARS))
    query.seed(K_METHOD, query.choice("proj", "pca", emb.METHODS))
    query.seed(K_BG, 0)
    query.seed(K_SEED, 0)


def _collect_words(tab: emb.EmbeddingTable, sets: list[str], own_text: str):
    """(vectors, groups, notices, warnings) for the map: the learner's words first, then the sets, capped."""
    notices, warnings = [], []
    cleaned = clean_text(own_text, MAX_INPUT_CHARS)
    notices += cleaned.notices
    parsed = emb.parse_words(cleaned.text, MAX_MAP_WORDS)
    if parsed.duplicates:
        notices.append(f"Repeated words shown once: {quoted(parsed.duplicates[:10])}.")
    if parsed.shortened:
        notices.append(f"Entries longer than {emb.MAX_WORD_CHARS} characters were cut: {quoted(parsed.shortened[:3])}.")
    entries = [(w, YOUR_WORDS) for w in parsed.words]
    entries += [(w, name) for name in sets for w in ws.WORD_SETS[name]]
    total = len(entries) + parsed.dropped
    if total > MAX_MAP_WORDS:
        notices.append(f"{total} words asked for; a readable map shows at most {MAX_MAP_WORDS}, so the first "
                       f"{MAX_MAP_WORDS} are drawn (your own words come first).")
        entries = entries[:MAX_MAP_WORDS]
    source = tab.source
    vectors = lookup(source, tuple(w for w, _ in entries), tab)
    kept, groups, seen = [], [], {}
    unknown, dups = [], []
    for wv, (_, group) in zip(vectors, entries):
        if not wv.found:
            unknown.append(f"“{md(wv.word)}” ({wv.problem})")
            continue
        if wv.ids in seen:
            dups.append((wv.word, seen[wv.ids]))
            continue
        seen[wv.ids] = wv.word
        kept.append(wv)
        groups.append(group)
    if unknown:
        warnings.append("Not on the map: " + "; ".join(unknown[:10]) + ".")
    if dups:
        same = [f"“{md(w)}”" if w.casefold() == first.casefold() else f"“{md(w)}” = “{md(first)}”"
                for w, first in dups[:8]]
        notices.append("Already on the map, shown once (same tokens, so the same point): " + ", ".join(same) + ".")
    return kept, groups, notices, warnings


def map_section(tab: emb.EmbeddingTable) -> tuple[list[emb.WordVector], list[str]]:
    st.header("🗺️ The map: similar words sit close together")
    _seed_map_state()
    st.pills("Word sets (click to add or remove)", list(ws.WORD_SETS), selection_mode="multi", key=K_SETS)
    st.text_input("Your own words (comma separated)", key=K_WORDS, max_chars=MAX_INPUT_CHARS,
                  placeholder="e.g. pizza, pasta, sushi, guitar, violin")
    c1, c2, c3 = st.columns([2, 2, 1])
    method = c1.radio("Flatten to 2D with", emb.METHODS, key=K_METHOD, horizontal=True,
                      format_func=emb.METHOD_LABELS.get,
                      help="PCA: a straight projection, instant. t-SNE and UMAP: keep neighbourhoods, bend "
                      "distances; they take seconds the first time and are then remembered.")
    background = c2.selectbox("Context: common words in grey", BACKGROUND_CHOICES, key=K_BG,
                              format_func=lambda n: "none" if n == 0 else f"{n:,} most common words")
    seed = c3.number_input("Seed", 0, 9999, key=K_SEED, help="t-SNE and UMAP start from random positions.")

    sets = [s for s in st.session_state.get(K_SETS) or [] if s in ws.WORD_SETS]
    own = st.session_state.get(K_WORDS) or ""
    ids = ",".join(i for i, name in ws.SET_IDS.items() if name in sets)
    default_ids = ",".join(i for i, name in ws.SET_IDS.items() if name in ws.DEFAULT_SETS)
    query.sync(sets=None if ids == default_ids else ids or "none", words=own, proj=method if method != "pca" else None)

    vectors, groups, notices, warnings = _collect_words(tab, sets, own)
    for w in warnings:
        st.warning(w)
    for n in notices:
        st.info(n)
    if not vectors:
        st.info("Pick a word set above or type some words to draw the map.")
        return [], []

    words = tuple(wv.word for wv in vectors)
    x = np.stack([wv.unit for wv in vectors])  # (n, D)
    bg_ids = emb.background_ids(tab, int(background), skip=[wv.ids[0] for wv in vectors if len(wv.ids) == 1])
    x_all = np.concatenate([x, tab.unit[bg_ids]]) if len(bg_ids) else x  # (n + bg, D)
    if method != "pca":
        spin = (f"Running {emb.METHOD_LABELS[method]} on {len(x_all):,} points: a few seconds, up to a minute or "
                "two for thousands of words (once; then it is remembered)…")
    else:
        spin = "Projecting…"
    with st.spinner(spin):
        proj = projection(tab.source, words, method, int(seed), int(background), x_all)
    if proj.notice:
        st.warning(proj.notice)
    pts, bg_pts = proj.points[: len(words)], proj.points[len(words):]
    hovers = hover_neighbours(tab.source, words, tab)
    flagged = [wv.multi for wv in vectors]
    name = emb.METHOD_LABELS[proj.method]
    axes = ("PCA axis 1", "PCA axis 2") if proj.method == "pca" else (f"{name} 1", f"{name} 2")
    fig = plots.map_figure(pts, words, groups, hovers, flagged, bg_pts,
                           [tab.display[i] for i in bg_ids], title=f"{len(words)} words, {tab.dims} dimensions "
                           f"flattened to 2 with {name}", axis_titles=axes)
    st.plotly_chart(fig, key="emb_map", width="stretch")
    _distortion_caption(proj, x_all, tab.dims)
    if any(flagged):
        multi = [f"“{md(wv.word)}” = " + " + ".join(md(p) for p in wv.pieces) for wv in vectors if wv.multi]
        st.info("Marked with * : not one row of the table. The tokenizer splits these into pieces and the map uses "
                "the **mean of the pieces' vectors**, a rough stand-in: " + "; ".join(multi[:8]) + ".")
        if sum(flagged) >= len(flagged) / 3:
            st.info(f"{sum(flagged)} of these {len(flagged)} words are not in this model's {tab.vocab_size:,}-token "
                    "vocabulary as whole words, so its map is much rougher than MiniLM's: a small vocabulary and "
                    "little training data give poorer coordinates.")
    _export(tab, proj, vectors, groups, pts)
    return vectors, groups


def _distortion_caption(proj: emb.Projection, x: np.ndarray, dims: int) -> None:
    kept = emb.neighbourhood_kept(x[: min(len(x), 600)], proj.points[: min(len(x), 600)], 5)
    kept_txt = f" Of each word's 5 nearest neighbours in {dims} dimensions, **{kept:.0%}** are still among its 5 " \
               "nearest on this flat map." if kept is not None else ""
    if proj.method == "pca":
        ev = proj.explained or (0.0, 0.0)
        st.caption(f"**PCA** (principal component analysis): the two straight directions along which these "
                   f"words differ most. They keep **{ev[0] + ev[1]:.0%}** of the spread ({ev[0]:.0%} + {ev[1]:.0%}); "
                   f"the other {dims - 2} directions are flattened away, so words that look close may not be."
                   + kept_txt)
    else:
        name = emb.METHOD_LABELS[proj.method]
        st.caption(f"**{name}** keeps each word's close neighbours close, but bends everything else: gaps between "
                   f"clusters and the axes mean nothing, and another seed draws another map." + kept_txt)
    st.caption("2D always distorts: trust the neighbour lists below (computed in all dimensions) over distances "
               "on the map. Hover a point to see its true nearest words.")


def _export(tab: emb.EmbeddingTable, proj: emb.Projection, vectors, groups, pts: np.ndarray) -> None:
    rows = [{"word": wv.word, "group": g, "x": round(float(p[0]), 5), "y": round(float(p[1]), 5),
             "projection": emb.METHOD_LABELS[proj.method], "source": tab.source,
             "tokens": " ".join(wv.pieces), "n_tokens": len(wv.ids)}
            for wv, g, p in zip(vectors, groups, pts)]
    st.download_button("Download these points (CSV)", emb.points_csv(rows), file_name="genviz-embedding-map.csv",
                       mime="text/csv", key="emb_csv")


# ---------------------------------------------------------------------------------------------
# 2. Neighbours and the raw numbers
# ---------------------------------------------------------------------------------------------


def neighbours_section(tab: emb.EmbeddingTable) -> None:
    st.header("📍 Nearest neighbours and the raw coordinates")
    query.seed(K_NN, query.text("nn", "cat", 100))
    query.seed(K_NN_K, 10)
    c1, c2 = st.columns([2, 1])
    raw = c1.text_input("A word", key=K_NN, max_chars=100)
    k = c2.slider("How many neighbours", 3, 30, key=K_NN_K)
    cleaned = clean_text(raw, emb.MAX_WORD_CHARS)
    for n in cleaned.notices:
        st.info(n)
    word = " ".join(cleaned.text.split())
    query.sync(nn=word if word != "cat" else None)
    if not word:
        st.info("Type a word to see its nearest neighbours.")
        return
    (wv,) = lookup(tab.source, (word,), tab)
    if not wv.found:
        st.warning(f"“{md(word)}” has no vector here: {wv.problem}.")
        return
    near = emb.neighbours(tab, wv.unit, int(k), exclude_ids=wv.ids if len(wv.ids) == 1 else (),
                          exclude_words=[word])
    if wv.multi:
        st.info(f"“{md(word)}” is not one token: it splits into {len(wv.ids)} pieces ("
                + " + ".join(f"“{md(p)}”" for p in wv.pieces) + "), so its vector is the **mean of the pieces**.")
    left, right = st.columns([3, 2])
    left.plotly_chart(plots.neighbours_figure(word, [n.word for n in near], [n.cosine for n in near]),
                      key="emb_nn_chart", width="stretch")
    right.markdown(
        f"Searched all **{int(tab.is_word.sum()):,} whole words** of the {tab.vocab_size:,}-token vocabulary "
        "(sub-word pieces such as `##ing`, punctuation and byte fragments are skipped). **Cosine similarity** "
        "compares directions: 1 = same direction, 0 = unrelated.")
    shown = ", ".join(f"{v:+.3f}" for v in wv.vector[:8])
    right.markdown(f"**The article's GPS coordinates, for real.** “{md(word)}” is a list of **{tab.dims} numbers** "
                   f"here. The first 8: `[{shown}, …]`; its length (norm) is {float(np.linalg.norm(wv.vector)):.3f}.")
    st.plotly_chart(plots.vector_figure(word, wv.vector), key="emb_vec", width="stretch")


# ---------------------------------------------------------------------------------------------
# 3. Similarity heatmap
# ---------------------------------------------------------------------------------------------


def heatmap_section(vectors: list[emb.WordVector]) -> None:
    st.header("🟩 How alike is every pair?")
    if len(vectors) < 2:
        st.info("The heatmap needs at least two words on the map.")
        return
    shown = vectors[:HEATMAP_MAX]
    if len(vectors) > HEATMAP_MAX:
        st.info(f"The map has {len(vectors)} words; the heatmap shows the first {HEATMAP_MAX} to stay readable.")
    sims = emb.cosine_matrix(np.stack([wv.unit for wv in shown]))
    st.plotly_chart(plots.heatmap_figure([wv.word for wv in shown], sims), key="emb_heat", width="stretch")
    st.caption("Each cell is the cosine similarity of two words' full vectors: the diagonal is 1 (a word with "
               "itself); bright blocks are neighbourhoods of meaning.")


# ---------------------------------------------------------------------------------------------
# 4. Analogy workbench
# ---------------------------------------------------------------------------------------------


def _set_preset(a: str, b: str, c: str) -> None:
    st.session_state.update({K_A: a, K_B: b, K_C: c})


def analogy_section(tab: emb.EmbeddingTable) -> None:
    st.header("🧮 Doing maths with meaning: a − b + c")
    parts = [p.strip() for p in query.text("analogy", "king,man,woman", 200).split(",")]
    a0, b0, c0 = parts if len(parts) == 3 and all(parts) else ("king", "man", "woman")
    query.seed(K_A, a0)
    query.seed(K_B, b0)
    query.seed(K_C, c0)
    query.seed(K_INCL, False)
    st.caption("Try one (a click fills the three boxes):")
    cols = st.columns(3)
    for i, (name, triple) in enumerate(ws.ANALOGY_PRESETS.items()):
        cols[i % 3].button(name, key=f"emb_preset_{i}", on_click=_set_preset, args=triple, width="stretch")
    c1, c2, c3 = st.columns(3)
    c1.text_input("a (start from)", key=K_A, max_chars=emb.MAX_WORD_CHARS)
    c2.text_input("− b (take away)", key=K_B, max_chars=emb.MAX_WORD_CHARS)
    c3.text_input("+ c (add)", key=K_C, max_chars=emb.MAX_WORD_CHARS)
    include = st.toggle("Include the input words among the answers", key=K_INCL,
                        help="The usual rule skips a, b and c. Switch it on to see why.")
    words = [" ".join(clean_text(st.session_state.get(k) or "", emb.MAX_WORD_CHARS).text.split())
             for k in (K_A, K_B, K_C)]
    query.sync(analogy=",".join(words) if words != ["king", "man", "woman"] else None)
    if not all(words):
        st.info("Fill in all three words: a − b + c.")
        return
    if len({w.casefold() for w in words}) < 3:
        st.info("Use three different words: with a repeat the arithmetic cancels out.")
        return
    a, b, c = words
    res = analogy(tab.source, a, b, c, 10, bool(include), tab)
    if res is None:
        missing = [wv for wv in lookup(tab.source, (a, b, c), tab) if not wv.found]
        st.warning("No vector for " + "; ".join(f"“{md(wv.word)}” ({wv.problem})" for wv in missing) + ".")
        return
    multi = [wv for wv in (res.a, res.b, res.c) if wv.multi]
    if multi:
        st.info("Averaged from several tokens: " + "; ".join(
            f"“{md(wv.word)}” = " + " + ".join(md(p) for p in wv.pieces) for wv in multi) + ".")
    if not res.answers:
        st.warning("No whole-word answer found in this vocabulary.")
        return
    best = res.answers[0]
    first_new = next((n for n in res.answers if not n.is_input), None)
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{md(a)} − {md(b)} + {md(c)} ≈ {md(best.word)}** (cosine {best.cosine:.2f})")
        rows = [{"rank": i + 1, "word": n.word, "cosine": round(n.cosine, 3),
                 "input word?": "yes" if n.is_input else ""} for i, n in enumerate(res.answers)]
        st.dataframe(rows, hide_index=True, width="stretch")
        cos = res.input_cosines
        st.caption(f"Cosine of a − b + c with the inputs: {md(a)} {cos[a]:.2f}, {md(b)} {cos[b]:.2f}, "
                   f"{md(c)} {cos[c]:.2f}.")
        if include and best.is_input:
            st.info(f"**Why “{md(best.word)}” wins when inputs count:** “{md(b)}” and “{md(c)}” are alike (cosine "
                    f"{res.b_c_cosine:.2f}), so − {md(b)} + {md(c)} is a small nudge, and the result stays closest "
                    f"to where it started. That is why analogy tests skip the input words.")
        elif not include:
            st.caption("Input words are skipped (the usual rule); switch the toggle on to see what wins otherwise.")
    with right:
        others = [n.word for n in res.answers if not n.is_input and n.word != (first_new.word if first_new else "")][:2]
        fig = _analogy_plot(tab, a, b, c, res, first_new.word if first_new else None, others)
        st.plotly_chart(fig, key="emb_analogy", width="stretch")
        ans = md(first_new.word) if first_new else "?"
        st.caption(f"The parallelogram, drawn with PCA of these words (linear, so straight lines stay straight). "
                   f"Orange: {md(b)} → {md(c)} and {md(a)} → {ans}, the same direction if the analogy holds; green: "
                   f"{md(b)} → {md(a)} and {md(c)} → {ans}. ✕ is where a − b + c itself lands, ◆ the nearest real "
                   f"word; grey dots are the runners-up. Flattened from {tab.dims} dimensions, the sides are only "
                   "roughly parallel.")


def _analogy_plot(tab, a, b, c, res: emb.Analogy, answer: str | None, others: list[str]):
    words = [a, b, c] + ([answer] if answer else []) + others
    vecs = lookup(tab.source, tuple(words), tab)
    units = np.stack([wv.unit if wv.found else res.target for wv in vecs])  # (m, D)
    proj = emb.project(units, "pca")
    pts = {w: p for w, p in zip(words, proj.points)}
    pa, pb, pc = pts[a], pts[b], pts[c]
    return plots.analogy_figure(pts, a, b, c, answer, others, target=pa - pb + pc)  # PCA is affine: exact
