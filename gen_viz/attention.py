"""Attention maps: which earlier (or any) words each word looks at, read straight from the model.

The article's speed reader flips back to any page of the book to connect ideas;
a transformer does the same with *attention*. For every layer and every head the
model computes, for each token, a probability distribution over the tokens it may
look at. This module runs the model once per (model, text) and returns those
distributions as plain numpy arrays, plus small helpers that every view reuses:

* ``compute_attention``   one forward pass with ``output_attentions=True``;
* ``merge_subwords``      sub-word pieces merged into words (sum over the pieces);
* ``rank_heads``          every layer/head ranked by attention from one token to another;
* ``find_token`` / ``average_heads`` / ``matrix_csv``: small, exact helpers.

No Streamlit here: pages cache ``compute_attention`` (keyed by model key + text)
and pass the result to ``gen_viz.plots.attention`` and ``gen_viz.bertviz_offline``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

DEFAULT_SENTENCE = "The animal didn't cross the street because it was too tired."
PAIR_SENTENCE = "The animal didn't cross the street because it was too wide."
DEFAULT_FOCUS = "it"
DEFAULT_TARGET = "animal"
# Beyond this a heatmap's labels stop being readable (and the layer x head grid gets heavy to send).
MAX_READABLE_TOKENS = 64
# The layer x head grid sends every value it shows; above this many it shows one layer.
MAX_GRID_VALUES = 120_000


@dataclass(frozen=True)
class Attention:
    """Every attention distribution of one forward pass.

    ``weights[l, h, i, j]`` is how much token ``i`` (the one being updated, "from")
    attends to token ``j`` ("to") in layer ``l``, head ``h``. Each row sums to 1.
    """

    weights: np.ndarray  # (layers, heads, T, T) float32
    labels: list[str]  # what to show for each position (from the text itself, special tokens as themselves)
    tokens: list[str]  # the tokenizer's own strings ("Ġit", "##ing", "[CLS]")
    token_ids: list[int]
    special: list[bool]  # [CLS]/[SEP]/<|endoftext|>: added by the tokenizer, not typed by the learner
    word_ids: list[int | None]  # which typed word each token belongs to (None for special tokens)
    is_causal: bool  # GPT-2 style: a token may only look back (upper triangle is exactly 0)
    n_dropped: int = 0  # tokens cut off to fit the model's context or a readable heatmap
    limit: int = 0  # the token limit that applied
    limit_reason: str = ""  # "context" or "readable"
    merged: bool = False  # True once sub-word pieces were merged into words

    @property
    def n_layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_tokens(self) -> int:
        return int(self.weights.shape[2])

    @property
    def n_content(self) -> int:
        """Tokens that come from the learner's text (special tokens excluded)."""
        return sum(not s for s in self.special)


def _label(text: str, token: str, span: tuple[int, int], is_special: bool) -> str:
    """A readable label: the characters of the text a token covers; special tokens show as themselves."""
    if is_special:
        return token
    start, end = span
    piece = text[start:end].strip()
    if not piece:
        return token.replace("Ġ", "").replace("Ċ", "⏎") or token
    if token.startswith("##"):  # WordPiece continuation: keep the marker so pieces are visible as pieces
        return "##" + piece
    return piece


def _truncate(special: list[bool], limit: int) -> list[int]:
    """Positions to keep so that at most ``limit`` remain: the tokenizer's leading and trailing
    special tokens ([CLS] ... [SEP]) stay, the text itself is cut at the end (as ``truncation=True``)."""
    n = len(special)
    if n <= limit:
        return list(range(n))
    lead = next((i for i, s in enumerate(special) if not s), n)
    trail = next((i for i, s in enumerate(reversed(special)) if not s), 0)
    lead, trail = min(lead, limit), min(trail, max(0, limit - lead))
    body = max(0, limit - lead - trail)
    return [*range(lead), *range(lead, lead + body), *range(n - trail, n)]


def compute_attention(tm: Any, text: str, max_tokens: int = MAX_READABLE_TOKENS) -> Attention:
    """Run the model once on ``text`` and return all of its attention maps.

    ``tm`` is a ``models.TextModel`` (eager attention, eval mode). Texts longer than
    the model's context or ``max_tokens`` are cut to fit; ``n_dropped`` says by how much.
    Raises ValueError for an empty text (the page says so before calling).
    """
    import torch

    if not text or not text.strip():
        raise ValueError("The text is empty: type a sentence to see its attention.")
    context = int(getattr(tm.info, "context_length", 0) or 0) or max_tokens
    limit = min(max_tokens, context)
    reason = "context" if context <= max_tokens else "readable"

    with tm.lock:  # one forward pass and tokenizer call at a time per model (pitfalls 2 and 5)
        # 1. tokenize once: ids, character spans, which tokens the tokenizer added ([CLS], [SEP])
        enc = tm.tokenizer(text, return_tensors="pt", return_offsets_mapping=True,
                           return_special_tokens_mask=True, verbose=False)
        word_ids = enc.word_ids()
        offsets = enc.pop("offset_mapping")[0].tolist()
        special = [bool(v) for v in enc.pop("special_tokens_mask")[0].tolist()]
        n_total = len(special)
        keep = _truncate(special, limit)  # positions kept: first tokens of the text, added tokens kept
        if len(keep) < n_total:
            enc = {name: tensor[:, keep] for name, tensor in enc.items()}  # (1, T) each
            word_ids, offsets, special = ([seq[i] for i in keep] for seq in (word_ids, offsets, special))
        ids = enc["input_ids"][0].tolist()
        tokens = tm.tokenizer.convert_ids_to_tokens(ids)
        # 2. the model's own attention probabilities: a tuple of layers, each (1, heads, T, T)
        with torch.inference_mode():
            out = tm.model(**enc, output_attentions=True)
    weights = torch.stack(out.attentions)[:, 0].float().numpy()  # (layers, heads, T, T)

    labels = [_label(text, t, span, s) for t, span, s in zip(tokens, offsets, special)]
    return Attention(
        weights=weights, labels=labels, tokens=list(tokens), token_ids=[int(i) for i in ids], special=special,
        word_ids=[None if s else w for w, s in zip(word_ids, special)], is_causal=bool(tm.info.is_causal),
        n_dropped=n_total - len(ids), limit=limit, limit_reason=reason,
    )


def merge_subwords(att: Attention) -> Attention:
    """Merge sub-word pieces ("un", "believ", "able") into one row/column per word.

    Attention *to* a word is the **sum** over its pieces (how much the word as a whole
    receives); attention *from* a word is the **mean** of its pieces' rows, so every
    row still sums to 1. Special tokens stay on their own. Words are the tokenizer's
    pre-tokenized words (``word_ids``): WordPiece splits punctuation off, GPT-2's BPE
    keeps a word with its leading space.
    """
    if att.merged:
        return att
    groups: list[list[int]] = []
    for i, w in enumerate(att.word_ids):
        if w is not None and groups and att.word_ids[groups[-1][0]] == w:
            groups[-1].append(i)
        else:
            groups.append([i])
    if len(groups) == att.n_tokens:
        return replace(att, merged=True)
    n = len(groups)
    to_word = np.zeros((att.n_tokens, n), dtype=np.float32)  # (T, W): sums columns within a word
    from_word = np.zeros((n, att.n_tokens), dtype=np.float32)  # (W, T): averages rows within a word
    for g, members in enumerate(groups):
        to_word[members, g] = 1.0
        from_word[g, members] = 1.0 / len(members)
    weights = from_word @ att.weights @ to_word  # (L, H, W, W)

    def join(members: list[int]) -> str:
        return "".join(att.labels[i].removeprefix("##") if k else att.labels[i] for k, i in enumerate(members))

    return replace(
        att,
        weights=weights.astype(np.float32),
        labels=[join(m) for m in groups],
        tokens=["".join(att.tokens[i] for i in m) for m in groups],
        token_ids=[att.token_ids[m[0]] for m in groups],
        special=[att.special[m[0]] for m in groups],
        word_ids=[att.word_ids[m[0]] for m in groups],
        merged=True,
    )


def average_heads(att: Attention, layer: int) -> np.ndarray:
    """The mean over all heads of one layer: (T, T), rows still sum to 1. Not a head the model has."""
    return att.weights[layer].mean(axis=0)


def find_token(att: Attention, word: str, default: int | None = None) -> int | None:
    """Index of the first position whose label matches ``word`` (case-insensitive, ## ignored), else default."""
    want = word.strip().lower().removeprefix("##")
    if want:
        for i, label in enumerate(att.labels):
            if not att.special[i] and label.lower().removeprefix("##") == want:
                return i
    return default


def first_content(att: Attention) -> int:
    return next((i for i, s in enumerate(att.special) if not s), 0)


@dataclass(frozen=True)
class HeadScore:
    layer: int
    head: int
    weight: float  # attention from the source token to the target token in this head


def rank_heads(att: Attention, source: int, target: int) -> list[HeadScore]:
    """Every (layer, head), ranked by how much ``source`` attends to ``target``, highest first."""
    scores = att.weights[:, :, source, target]  # (L, H)
    order = np.argsort(-scores, axis=None, kind="stable")
    return [HeadScore(int(i // att.n_heads), int(i % att.n_heads), float(scores.flat[i])) for i in order]


def valid_index(value: object, lo: int, hi: int, default: int) -> int:
    """A widget value as an index in [lo, hi]; anything else (NaN, out of range, junk) gives ``default``."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return int(number) if number.is_integer() and lo <= number <= hi else default


def needs_merge(att: Attention, words: list[str]) -> bool:
    """True when some of ``words`` exist only as several pieces (e.g. "an" + "imal"): merged, they are found."""
    if att.merged:
        return False
    missing = [w for w in words if find_token(att, w) is None]
    merged = merge_subwords(att) if missing else att
    return any(find_token(merged, w) is not None for w in missing)


def default_head(att: Attention) -> HeadScore:
    """Where the lesson starts: the head that best links "it" to "animal" (or layer 0 head 0).

    Searched with sub-word pieces merged, so a tokenizer that splits "animal" still finds its head.
    """
    att = merge_subwords(att)
    src, dst = find_token(att, DEFAULT_FOCUS), find_token(att, DEFAULT_TARGET)
    if src is None or dst is None:
        return HeadScore(0, 0, 0.0)
    return rank_heads(att, src, dst)[0]


def top_targets(row: np.ndarray, labels: list[str], k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(-row, kind="stable")[:k]
    return [(labels[i], float(row[i])) for i in order]


def pair_text(text: str) -> str:
    """The minimal-pair partner: the default sentence with "tired" -> "wide"; other text unchanged."""
    if "tired" in text:
        return text.replace("tired", "wide", 1)
    return text


def _csv_safe(label: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: make such labels inert."""
    return "'" + label if label[:1] in ("=", "+", "-", "@", "\t", "\r") else label


def matrix_csv(matrix: np.ndarray, labels: list[str], decimals: int = 6) -> str:
    """One attention matrix as CSV: a row per "from" token, a column per "to" token."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    safe = [_csv_safe(lab) for lab in labels]
    writer.writerow(["from \\ to", *safe])
    for label, row in zip(safe, np.asarray(matrix)):
        writer.writerow([label, *(f"{v:.{decimals}f}" for v in row)])
    return buf.getvalue()


def without_special(att: Attention) -> tuple[Attention, float]:
    """Drop the rows and columns of special tokens ([CLS], [SEP]) *without* renormalising.

    Returns the reduced attention and the mean share of each remaining row that went to
    the dropped tokens (rows now sum to 1 minus that share: nothing is hidden silently).
    """
    keep = [i for i, s in enumerate(att.special) if not s]
    if len(keep) == att.n_tokens or not keep:
        return att, 0.0
    idx = np.asarray(keep)
    weights = att.weights[:, :, idx][:, :, :, idx]  # (L, H, K, K)
    lost = float(1.0 - weights.sum(axis=-1).mean())
    pick = lambda seq: [seq[i] for i in keep]  # noqa: E731
    return replace(att, weights=weights, labels=pick(att.labels), tokens=pick(att.tokens),
                   token_ids=pick(att.token_ids), special=pick(att.special), word_ids=pick(att.word_ids)), lost


def special_share(att: Attention, layer: int, head: int | None) -> float:
    """Mean share of attention that lands on special tokens in one head (or the head average)."""
    cols = [i for i, s in enumerate(att.special) if s]
    if not cols:
        return 0.0
    m = average_heads(att, layer) if head is None else att.weights[layer, head]
    return float(m[:, cols].sum(axis=-1).mean())
