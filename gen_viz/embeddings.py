"""Embeddings: the "GPS coordinates for words" lesson, as plain numpy.

Every text model starts with a lookup table, its *input embeddings*: one row of
numbers per vocabulary token (MiniLM: 30,522 rows x 384 numbers; GPT-2 small:
50,257 x 768). Those rows are context-free coordinates: the same row for
"bank" in "river bank" and "bank account". This module

1. reads that table from a loaded model (``table_from_model``),
2. turns learner words into vectors, openly averaging the pieces of words the
   tokenizer splits (``lookup``),
3. finds nearest neighbours by cosine similarity over the whole vocabulary,
   showing whole words only (no ``##ing`` pieces, punctuation or byte junk),
4. does analogy arithmetic a - b + c (``analogy``), and
5. flattens vectors to 2D with PCA, t-SNE or UMAP (``project``), saying how
   much the flattening distorts.

No Streamlit here: the page caches these results (``gen_viz.ui.embeddings``).
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

METHODS = ("pca", "tsne", "umap")
METHOD_LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
# the fewest points each projection can work with (t-SNE: perplexity must stay below n; UMAP: a k-NN graph)
MIN_POINTS = {"pca": 2, "tsne": 5, "umap": 6}
MAX_WORD_CHARS = 40

# a displayable vocabulary entry: letters (any script), optionally joined by ' or -, or a number
_WORD_RE = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|[0-9]+")
_GPT2_WORD_RE = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|[0-9]+")  # byte-level BPE: non-ASCII bytes are mapped chars


# ---------------------------------------------------------------------------------------------
# 1. The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddingTable:
    """A model's input embeddings, read-only, with what the lesson needs to show them.

    ``vectors`` are the raw rows, ``unit`` the same rows scaled to length 1 (so a dot
    product is a cosine similarity). ``display[i]`` is token i as a learner would read it,
    and ``is_word[i]`` says whether it is a whole word worth listing as a neighbour.
    """

    source: str
    label: str
    vectors: np.ndarray  # (V, D) float32, read-only
    unit: np.ndarray  # (V, D) float32, read-only, rows of length 1
    display: tuple[str, ...]  # (V,)
    is_word: np.ndarray  # (V,) bool
    style: str  # "wordpiece" | "bytelevel" | "other"
    encode: Callable[[str], list[int]] = field(repr=False, compare=False)  # word -> token ids (thread-safe)
    piece_text: Callable[[int], str] = field(repr=False, compare=False)  # token id -> readable piece
    unk_id: int | None = None  # the tokenizer's "unknown" token, if it has one (WordPiece: [UNK])

    @property
    def vocab_size(self) -> int:
        return self.vectors.shape[0]

    @property
    def dims(self) -> int:
        return self.vectors.shape[1]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _tokenizer_style(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    model_name = type(backend.model).__name__ if backend is not None else ""
    pre = repr(backend.pre_tokenizer) if backend is not None and backend.pre_tokenizer is not None else ""
    if model_name == "WordPiece":
        return "wordpiece"
    if model_name == "BPE" and "ByteLevel" in pre:
        return "bytelevel"
    return "other"


def _display_forms(tokens: Sequence[str], style: str, special: set[str]) -> tuple[list[str], np.ndarray]:
    """How each token reads, and whether it is a whole word (the neighbour lists show only these)."""
    display, ok = [], np.zeros(len(tokens), dtype=bool)
    for i, tok in enumerate(tokens):
        tok = tok or ""
        if style == "wordpiece":
            text, word = tok, not tok.startswith("##") and tok not in special and not tok.startswith("[")
            word = word and bool(_WORD_RE.fullmatch(tok)) and (len(tok) > 1 or tok in "0123456789ai")
        elif style == "bytelevel":
            # "Ġcat" is " cat" (a word start); "cat" without Ġ is a piece glued to what came before
            text = tok[1:] if tok.startswith("Ġ") else tok
            word = tok.startswith("Ġ") and bool(_GPT2_WORD_RE.fullmatch(text)) and (len(text) > 1 or text in "aAI")
        else:
            text = tok.lstrip("▁Ġ")
            word = tok not in special and bool(_WORD_RE.fullmatch(text)) and len(text) > 1
        display.append(text)
        ok[i] = word
    return display, ok


def table_from_model(tm) -> EmbeddingTable:
    """Read a loaded ``models.TextModel``'s input embedding table (under its lock).

    Works for any transformers model through ``get_input_embeddings()``: MiniLM's
    ``embeddings.word_embeddings``, GPT-2's ``transformer.wte``.
    """
    with tm.lock:
        weight = tm.model.get_input_embeddings().weight.detach().cpu().float()
        vectors = weight.numpy().view()  # (V, D): a read-only view of the weights, no copy (GPT-2: 154 MB)
        tokenizer = tm.tokenizer
        tokens = tokenizer.convert_ids_to_tokens(list(range(vectors.shape[0])))
        special = set(getattr(tokenizer, "all_special_tokens", []) or [])
        style = _tokenizer_style(tokenizer)
        unk = getattr(tokenizer, "unk_token_id", None)
    display, is_word = _display_forms(tokens, style, special)
    lock: threading.RLock = tm.lock

    def encode(word: str) -> list[int]:
        text = " " + word if style == "bytelevel" else word  # GPT-2: a word inside a sentence has its space
        with lock:  # pitfall 2: a fast tokenizer shared between sessions
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        return [i for i in ids if 0 <= i < vectors.shape[0]]

    def piece_text(i: int) -> str:
        tok = tokens[i] or ""
        return "␣" + tok[1:] if style == "bytelevel" and tok.startswith("Ġ") else tok

    return EmbeddingTable(
        source=tm.spec.key,
        label=tm.spec.label,
        vectors=_readonly(vectors),
        unit=_readonly(_unit_rows(vectors)),
        display=tuple(display),
        is_word=_readonly(is_word),
        style=style,
        encode=encode,
        piece_text=piece_text,
        unk_id=unk if style == "wordpiece" else None,  # byte-level BPE knows every byte
    )


# ---------------------------------------------------------------------------------------------
# 2. Words -> vectors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedWords:
    words: tuple[str, ...]
    duplicates: tuple[str, ...] = ()
    dropped: int = 0  # beyond max_words
    shortened: tuple[str, ...] = ()  # entries cut to MAX_WORD_CHARS


def parse_words(text: str, max_words: int) -> ParsedWords:
    """Split a learner's list on commas, semicolons and new lines; drop empties and repeats; cap it."""
    words, seen, dups, shortened = [], set(), [], []
    for raw in re.split(r"[,;\n\r\t]+", text or ""):
        word = " ".join(raw.split())  # inner runs of spaces -> one (multi-word entries stay, e.g. "new york")
        if not word:
            continue
        if len(word) > MAX_WORD_CHARS:
            shortened.append(word[:MAX_WORD_CHARS])
            word = word[:MAX_WORD_CHARS].rstrip()
        key = word.casefold()
        if key in seen:
            dups.append(word)
            continue
        seen.add(key)
        words.append(word)
    dropped = max(0, len(words) - max_words)
    return ParsedWords(tuple(words[:max_words]), tuple(dups), dropped, tuple(shortened))


@dataclass(frozen=True)
class WordVector:
    """One word's place in the table: its token pieces and the vector the lesson uses for it."""

    word: str
    ids: tuple[int, ...]
    pieces: tuple[str, ...]
    vector: np.ndarray | None  # (D,) mean of the pieces' rows; None when unknown
    unit: np.ndarray | None  # (D,) the same, length 1
    problem: str = ""  # why it has no vector ("" when found)

    @property
    def found(self) -> bool:
        return self.vector is not None

    @property
    def multi(self) -> bool:
        return len(self.ids) > 1


def lookup(table: EmbeddingTable, words: Sequence[str]) -> list[WordVector]:
    """Each word's vector: its single row, or the mean of its pieces' rows (flagged by ``multi``)."""
    unk = table.unk_id
    out = []
    for word in words:
        ids = tuple(table.encode(word)) if word.strip() else ()
        pieces = tuple(table.piece_text(i) for i in ids)
        if not ids:
            out.append(WordVector(word, ids, pieces, None, None, "no tokens (empty after the tokenizer's clean-up)"))
            continue
        if unk is not None and unk in ids:
            out.append(WordVector(word, ids, pieces, None, None,
                                  "the tokenizer does not know some of its characters ([UNK])"))
            continue
        vector = table.vectors[list(ids)].mean(axis=0)  # (D,) one row, or the mean of the pieces' rows
        out.append(WordVector(word, ids, pieces, vector, _unit_rows(vector)))
    return out


def dedupe_by_tokens(vectors: Sequence[WordVector]) -> tuple[list[WordVector], list[tuple[str, str]]]:
    """Keep one word per token sequence (MiniLM lowercases: "Cat" and "cat" are the same row)."""
    kept, seen, dups = [], {}, []
    for wv in vectors:
        if wv.ids in seen:
            dups.append((wv.word, seen[wv.ids]))
            continue
        seen[wv.ids] = wv.word
        kept.append(wv)
    return kept, dups


# ---------------------------------------------------------------------------------------------
# 3. Cosine similarity and nearest neighbours
# ---------------------------------------------------------------------------------------------


def cosine_matrix(units: np.ndarray) -> np.ndarray:
    """(n, n) cosine similarities of unit rows: symmetric, ones on the diagonal."""
    units = _unit_rows(np.asarray(units, dtype=np.float32))
    sims = units @ units.T  # (n, n)
    sims = (sims + sims.T) / 2  # exact symmetry despite float rounding
    np.fill_diagonal(sims, 1.0)
    return np.clip(sims, -1.0, 1.0)


@dataclass(frozen=True)
class Neighbour:
    word: str
    token_id: int
    cosine: float
    is_input: bool = False


def _pick(table: EmbeddingTable, sims: np.ndarray, k: int, banned: set[str], marked: set[str]) -> list[Neighbour]:
    """The k best entries of one row of similarities (non-words already at -inf), banned spellings skipped."""
    sims = np.where(table.is_word, sims, -np.inf)  # (V,) a fresh copy: whole words only
    size = sims.size
    m = min(size, k + 16 + 8 * len(banned))
    while True:
        top = np.argpartition(-sims, m - 1)[:m] if m < size else np.arange(size)
        out = []
        for i in top[np.argsort(-sims[top], kind="stable")]:
            if not np.isfinite(sims[i]) or len(out) == k:
                break
            word = table.display[i]
            if word.casefold() in banned:
                continue
            out.append(Neighbour(word, int(i), float(sims[i]), word.casefold() in marked))
        if len(out) == k or m == size:
            return out
        m = size  # rare: too many banned spellings near the top, look at everything


def neighbours(table: EmbeddingTable, unit: np.ndarray, k: int = 10, exclude_ids: Sequence[int] = (),
               exclude_words: Sequence[str] = (), mark_words: Sequence[str] = ()) -> list[Neighbour]:
    """The k whole-word vocabulary entries with the highest cosine similarity to ``unit``.

    ``exclude_*`` removes entries (by id, or by spelling, case-insensitively); ``mark_words``
    keeps them but flags them as inputs (the analogy toggle).
    """
    sims = table.unit @ np.asarray(unit, dtype=np.float32)  # (V,) cosine with every row
    if len(exclude_ids):
        sims[list(exclude_ids)] = -np.inf
    return _pick(table, sims, k, {w.casefold() for w in exclude_words}, {w.casefold() for w in mark_words})


def neighbours_many(table: EmbeddingTable, vectors: Sequence[WordVector], k: int = 5) -> list[list[Neighbour]]:
    """Hover text for the map: each word's k nearest whole words, itself excluded."""
    found = [wv for wv in vectors if wv.found]
    if not found:
        return [[] for _ in vectors]
    sims = np.stack([wv.unit for wv in found]) @ table.unit.T  # (n, V) all cosines in one product
    rows = iter(range(len(found)))
    out = []
    for wv in vectors:
        if not wv.found:
            out.append([])
            continue
        row = sims[next(rows)]
        if len(wv.ids) == 1:
            row[wv.ids[0]] = -np.inf
        out.append(_pick(table, row, k, {wv.word.casefold()}, set()))
    return out


# ---------------------------------------------------------------------------------------------
# 4. Analogies: a - b + c
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analogy:
    a: WordVector
    b: WordVector
    c: WordVector
    target: np.ndarray  # (D,) unit(a) - unit(b) + unit(c), scaled to length 1
    answers: list[Neighbour]
    input_cosines: dict[str, float]  # cosine of the target with a, b and c
    b_c_cosine: float  # how alike b and c are: the closer to 1, the more a - b + c stays near a
    include_inputs: bool


def analogy(table: EmbeddingTable, a: WordVector, b: WordVector, c: WordVector, k: int = 10,
            include_inputs: bool = False) -> Analogy:
    """3CosAdd (Mikolov et al. 2013): the words closest to unit(a) - unit(b) + unit(c).

    The input words are excluded by default, as in the literature: without that rule the
    answer is usually ``a`` itself, because b and c are similar and nearly cancel.
    """
    if not (a.found and b.found and c.found):
        raise ValueError("all three words need a vector")
    target = _unit_rows(a.unit - b.unit + c.unit)  # (D,)
    inputs = [a.word, b.word, c.word]
    if include_inputs:
        answers = neighbours(table, target, k, mark_words=inputs)
    else:
        ids = [wv.ids[0] for wv in (a, b, c) if len(wv.ids) == 1]
        answers = neighbours(table, target, k, exclude_ids=ids, exclude_words=inputs)
    cosines = {wv.word: float(np.dot(target, wv.unit)) for wv in (a, b, c)}
    return Analogy(a, b, c, target, answers, cosines, float(np.dot(b.unit, c.unit)), include_inputs)


# ---------------------------------------------------------------------------------------------
# 5. Flattening to 2D
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    points: np.ndarray  # (n, 2) float32
    method: str  # the method actually used
    requested: str
    notice: str = ""  # set when the requested method could not run (too few points)
    explained: tuple[float, float] | None = None  # PCA: share of the variance each axis keeps
    params: dict = field(default_factory=dict)


def project(x: np.ndarray, method: str = "pca", seed: int = 0) -> Projection:
    """Flatten (n, D) vectors to (n, 2). Deterministic for a given seed.

    PCA is linear (distances along its two axes are real, most of the rest is dropped);
    t-SNE and UMAP keep each point's neighbourhood and bend everything else.
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose from {METHODS}")
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    if n == 0:
        return Projection(np.zeros((0, 2), np.float32), method, method)
    if n < MIN_POINTS["pca"]:
        return Projection(np.zeros((n, 2), np.float32), "pca", method,
                          "One point cannot be flattened: it sits at the centre.")
    requested, notice = method, ""
    if n < MIN_POINTS[method]:
        notice = (f"{METHOD_LABELS[method]} needs at least {MIN_POINTS[method]} points and there are {n}: "
                  "showing PCA instead.")
        method = "pca"
    if method == "pca":
        from sklearn.decomposition import PCA

        # "auto": a full SVD for a few dozen words, a randomized one (seeded) for ~1,000, the D x D covariance's
        # eigenvectors for 5,000 x 384; measured 3-4x faster than always doing a full SVD (benchmarks/)
        pca = PCA(n_components=2, random_state=seed)
        pts = pca.fit_transform(x)  # (n, 2)
        ratio = pca.explained_variance_ratio_
        explained = (float(ratio[0]), float(ratio[1]) if len(ratio) > 1 else 0.0)
        return Projection(pts.astype(np.float32), "pca", requested, notice, explained, {"components": pca.components_})
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (n - 1) / 3)))  # must stay below n
        pts = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                   max_iter=1000 if n <= 2000 else 500).fit_transform(x)
        return Projection(pts.astype(np.float32), "tsne", requested, notice, None, {"perplexity": perplexity})
    import umap  # noqa: PLC0415  (slow import: only when asked for)

    n_neighbors = int(min(15, n - 1))
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=0.1, init="pca", random_state=seed,
                        n_jobs=1)
    pts = reducer.fit_transform(x)
    return Projection(np.asarray(pts, dtype=np.float32), "umap", requested, notice, None, {"n_neighbors": n_neighbors})


def neighbourhood_kept(x: np.ndarray, points: np.ndarray, k: int = 5) -> float | None:
    """How honest the flat map is: the share of each point's k nearest neighbours (cosine, full
    dimensions) that are still among its k nearest on the 2D map. 1.0 = none lost."""
    n = x.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return None
    units = _unit_rows(np.asarray(x, dtype=np.float32))
    high = -(units @ units.T)  # (n, n) smaller = closer
    low = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)  # (n, n) squared 2D distances
    np.fill_diagonal(high, np.inf)
    np.fill_diagonal(low, np.inf)
    nn_high = np.argsort(high, axis=1, kind="stable")[:, :k]
    nn_low = np.argsort(low, axis=1, kind="stable")[:, :k]
    kept = [len(set(h) & set(lo)) for h, lo in zip(nn_high.tolist(), nn_low.tolist())]
    return float(np.mean(kept) / k)


def background_ids(table: EmbeddingTable, n: int, skip: Sequence[int] = ()) -> np.ndarray:
    """The first n whole-word entries in vocabulary order (both vocabularies list common words first)."""
    skip_set = set(skip)
    ids = [i for i in np.flatnonzero(table.is_word).tolist() if i not in skip_set]
    return np.asarray(ids[:n], dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# 6. Export
# ---------------------------------------------------------------------------------------------


def _csv_cell(value: object) -> str:
    """Plain text for a spreadsheet: a leading = + - @ would be read as a formula, so quote it."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def points_csv(rows: Sequence[dict]) -> str:
    """CSV text of the projected points (one dict per point, same keys in each)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: v if isinstance(v, (int, float)) else _csv_cell(v) for k, v in row.items()})
    return buf.getvalue()
