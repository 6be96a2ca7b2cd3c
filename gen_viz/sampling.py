"""The mixing board's three sampling knobs, applied to one logits vector.

    logits --(1. temperature)--> --(2. top-k)--> --(3. top-p)--> renormalise --> pick

The order is the one ``transformers``' ``generate`` uses (temperature, then
top-k, then top-p). Everything here works on a 1-D torch tensor of logits for
a single position: the model is never called, so a page that caches the
logits can turn the knobs for free (Transformer Explainer's rule: cheap knobs
reuse expensive results).

* ``Knobs.clamped(...)`` turns whatever the learner typed into valid knobs plus
  notices (temperature 0 means greedy; negative, NaN or absurd values are
  clamped, top-k above the vocabulary is capped).
* ``reshape(logits, knobs)`` returns the distribution before and after, and
  which tokens each knob cut.
* ``pick(dist, generator)`` chooses a token: argmax when greedy, else a draw
  from a per-request ``torch.Generator`` (never the process-global seed,
  GUIDE pitfall 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

MAX_TEMPERATURE = 5.0  # beyond this every distribution is flat noise; the slider stops here
DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_K = 40
DEFAULT_TOP_P = 0.95


@dataclass(frozen=True)
class Knobs:
    temperature: float = DEFAULT_TEMPERATURE  # 0 = greedy (always the most likely token)
    top_k: int = 0  # 0 = off; else keep the k most likely tokens
    top_p: float = 1.0  # 1 = off; else keep the smallest set whose probability reaches p

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    @classmethod
    def clamped(cls, temperature: object, top_k: object, top_p: object,
                vocab_size: int) -> tuple["Knobs", list[str]]:
        """Valid knobs from any input, with one notice per value that had to change."""
        notices: list[str] = []
        t = _as_float(temperature, DEFAULT_TEMPERATURE)
        if t is None or not math.isfinite(t):
            notices.append(f"Temperature {temperature!r} is not a number: using {DEFAULT_TEMPERATURE}.")
            t = DEFAULT_TEMPERATURE
        elif t < 0:
            notices.append(f"Temperature cannot be negative ({t:g}): using 0, which means greedy.")
            t = 0.0
        elif t > MAX_TEMPERATURE:
            notices.append(f"Temperature {t:g} is beyond {MAX_TEMPERATURE:g} (pure noise): clamped to "
                           f"{MAX_TEMPERATURE:g}.")
            t = MAX_TEMPERATURE
        k = _as_float(top_k, 0)
        if k is None or not math.isfinite(k):
            notices.append(f"Top-k {top_k!r} is not a number: top-k is off.")
            k = 0
        k = int(k)
        if k < 0:
            notices.append(f"Top-k cannot be negative ({k}): top-k is off.")
            k = 0
        elif k > vocab_size:
            notices.append(f"Top-k {k:,} is more than the vocabulary ({vocab_size:,} tokens): keeping all tokens.")
            k = vocab_size
        p = _as_float(top_p, 1.0)
        if p is None or not math.isfinite(p):
            notices.append(f"Top-p {top_p!r} is not a number: top-p is off.")
            p = 1.0
        elif p > 1:
            notices.append(f"Top-p is a probability, at most 1 ({p:g}): top-p is off.")
            p = 1.0
        elif p <= 0:
            notices.append(f"Top-p must be above 0 ({p:g}): keeping only the most likely token.")
            p = 1e-9
        return cls(float(t), k, float(p)), notices


def _as_float(value: object, default: float) -> float | None:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Distribution:
    """One position's next-token distribution, before and after the knobs (all float64, length V)."""

    before: torch.Tensor  # softmax(logits): the model's own distribution (temperature 1, nothing cut)
    after: torch.Tensor  # what we sample from: temperature, top-k, top-p, renormalised
    cut_by_k: torch.Tensor  # bool: removed by top-k
    cut_by_p: torch.Tensor  # bool: removed by top-p (among those top-k kept)
    knobs: Knobs
    notices: list[str] = field(default_factory=list)

    @property
    def kept(self) -> torch.Tensor:
        return self.after > 0

    @property
    def n_kept(self) -> int:
        return int(self.kept.sum())


def reshape(logits: torch.Tensor, knobs: Knobs) -> Distribution:
    """Apply the knobs to a (V,) logits vector. Probabilities of `after` sum to 1."""
    logits = logits.detach().to(torch.float64).reshape(-1)  # (V,)
    before = torch.softmax(logits, dim=-1)
    vocab = logits.shape[0]
    none = torch.zeros(vocab, dtype=torch.bool)
    if knobs.greedy:
        # temperature 0: all the mass on the argmax (the same argmax generate() takes)
        after = torch.zeros_like(before)
        after[int(torch.argmax(logits))] = 1.0
        return Distribution(before, after, none.clone(), none.clone(), knobs)
    # 1. temperature: divide the logits; < 1 sharpens, > 1 flattens
    scaled = torch.softmax(logits / knobs.temperature, dim=-1)  # (V,)
    needs_order = 0 < knobs.top_k < vocab or knobs.top_p < 1.0
    order = torch.argsort(scaled, descending=True, stable=True) if needs_order else None  # most likely first
    # 2. top-k: keep exactly the k most likely (ties broken by token id)
    cut_by_k = none.clone()
    if 0 < knobs.top_k < vocab:
        cut_by_k[order[knobs.top_k:]] = True
    probs = scaled.masked_fill(cut_by_k, 0.0)
    probs = probs / probs.sum()
    # 3. top-p: the smallest most-likely-first set whose probability reaches p
    cut_by_p = none.clone()
    if knobs.top_p < 1.0:
        sorted_probs = probs[order]
        cum = torch.cumsum(sorted_probs, dim=0)
        n_keep = int(torch.searchsorted(cum, torch.tensor(knobs.top_p - 1e-12, dtype=cum.dtype))) + 1
        n_keep = max(1, min(n_keep, int((sorted_probs > 0).sum())))
        cut_by_p[order[n_keep:]] = True
        cut_by_p &= ~cut_by_k
        probs = probs.masked_fill(cut_by_p, 0.0)
    after = probs / probs.sum()
    return Distribution(before, after, cut_by_k, cut_by_p, knobs)


def pick(dist: Distribution, generator: torch.Generator | None) -> int:
    """The chosen token id: argmax when greedy, else one draw with the request's own generator."""
    if dist.knobs.greedy:
        return int(torch.argmax(dist.after))
    return int(torch.multinomial(dist.after, 1, generator=generator))


def make_generator(seed: int) -> torch.Generator:
    """A fresh, private random stream for one request: same seed, same draws, whoever else is sampling."""
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    return g


def entropy_bits(probs: torch.Tensor) -> float:
    """How spread out a distribution is: 0 bits = certain, log2(V) = uniform."""
    p = probs[probs > 0].to(torch.float64)
    return float(-(p * torch.log2(p)).sum())


def top_table(dist: Distribution, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ids, before, after, kept) for the n tokens most likely *before* the knobs, most likely first."""
    n = max(1, min(n, dist.before.shape[0]))
    vals, ids = torch.topk(dist.before, n)
    return (ids.numpy(), vals.numpy(), dist.after[ids].numpy(), dist.kept[ids].numpy())
