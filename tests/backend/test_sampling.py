"""The sampling knobs (issue 7): exact expectations on small logits vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gen_viz import sampling
from gen_viz.sampling import Knobs

torch.set_num_threads(1)


@pytest.fixture
def logits() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(500, generator=g) * 3  # (V,)


KNOB_GRID = [Knobs(1.0, 0, 1.0), Knobs(0.5, 0, 1.0), Knobs(2.0, 0, 1.0), Knobs(1.0, 7, 1.0),
             Knobs(1.0, 0, 0.9), Knobs(0.7, 40, 0.95), Knobs(0.0, 0, 1.0), Knobs(3.0, 500, 0.01)]


@pytest.mark.parametrize("knobs", KNOB_GRID)
def test_probabilities_sum_to_one_after_every_knob(logits, knobs):
    dist = sampling.reshape(logits, knobs)
    assert math.isclose(float(dist.before.sum()), 1.0, abs_tol=1e-9)
    assert math.isclose(float(dist.after.sum()), 1.0, abs_tol=1e-9)
    assert bool((dist.after >= 0).all())
    assert not bool((dist.after[dist.cut_by_k | dist.cut_by_p] > 0).any())


def test_before_is_the_plain_softmax(logits):
    dist = sampling.reshape(logits, Knobs(0.3, 5, 0.5))
    assert torch.allclose(dist.before, torch.softmax(logits.double(), -1))


@pytest.mark.parametrize("k", [1, 2, 7, 100, 499])
def test_top_k_keeps_exactly_k(logits, k):
    dist = sampling.reshape(logits, Knobs(1.0, k, 1.0))
    assert dist.n_kept == k
    kept = set(torch.nonzero(dist.kept).flatten().tolist())
    assert kept == set(torch.topk(logits, k).indices.tolist())


def test_top_k_with_ties_still_keeps_exactly_k():
    dist = sampling.reshape(torch.zeros(10), Knobs(1.0, 3, 1.0))
    assert dist.n_kept == 3
    assert torch.allclose(dist.after[dist.kept], torch.full((3,), 1 / 3, dtype=torch.float64))


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9, 0.99])
def test_top_p_keeps_the_smallest_set_reaching_p(logits, p):
    dist = sampling.reshape(logits, Knobs(1.0, 0, p))
    probs = np.sort(torch.softmax(logits.double(), -1).numpy())[::-1]
    smallest = int(np.argmax(np.cumsum(probs) >= p)) + 1  # brute force
    assert dist.n_kept == smallest
    kept_mass = float(dist.before[dist.kept].sum())
    assert kept_mass >= p - 1e-12
    assert kept_mass - float(dist.before[dist.kept].min()) < p  # one fewer would not reach p


def test_temperature_scales_logits(logits):
    dist = sampling.reshape(logits, Knobs(0.5, 0, 1.0))
    assert torch.allclose(dist.after, torch.softmax(logits.double() / 0.5, -1))
    assert sampling.entropy_bits(dist.after) < sampling.entropy_bits(dist.before)
    hot = sampling.reshape(logits, Knobs(2.0, 0, 1.0))
    assert sampling.entropy_bits(hot.after) > sampling.entropy_bits(hot.before)


def test_temperature_zero_is_greedy(logits):
    dist = sampling.reshape(logits, Knobs(0.0, 0, 1.0))
    assert dist.knobs.greedy and dist.n_kept == 1
    assert sampling.pick(dist, sampling.make_generator(1)) == int(torch.argmax(logits))


def test_order_is_temperature_then_top_k_then_top_p():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64))
    dist = sampling.reshape(logits, Knobs(1.0, 3, 0.8))
    # top-k leaves [0.5, 0.3, 0.15] / 0.95 ; top-p 0.8 then needs the first two (0.526 + 0.316 >= 0.8)
    assert dist.kept.tolist() == [True, True, False, False]
    assert dist.cut_by_k.tolist() == [False, False, False, True]
    assert dist.cut_by_p.tolist() == [False, False, True, False]
    assert torch.allclose(dist.after, torch.tensor([0.625, 0.375, 0, 0], dtype=torch.float64))


def test_same_seed_same_draws_whatever_the_global_seed(logits):
    dist = sampling.reshape(logits, Knobs(1.5, 0, 1.0))
    torch.manual_seed(1)
    a = [sampling.pick(dist, g) for g in [sampling.make_generator(42)] for _ in range(20)]
    torch.manual_seed(999)
    g = sampling.make_generator(42)
    b = [sampling.pick(dist, g) for _ in range(20)]
    assert a == b
    g2 = sampling.make_generator(43)
    assert [sampling.pick(dist, g2) for _ in range(20)] != a


@pytest.mark.parametrize("raw, expect, fragment", [
    ((0, 0, 1), Knobs(0.0, 0, 1.0), None),
    ((-1, 0, 1), Knobs(0.0, 0, 1.0), "negative"),
    ((1e9, 0, 1), Knobs(sampling.MAX_TEMPERATURE, 0, 1.0), "clamped"),
    ((float("nan"), 0, 1), Knobs(sampling.DEFAULT_TEMPERATURE, 0, 1.0), "not a number"),
    (("abc", 0, 1), Knobs(sampling.DEFAULT_TEMPERATURE, 0, 1.0), "not a number"),
    ((1, 10**9, 1), Knobs(1.0, 500, 1.0), "vocabulary"),
    ((1, -5, 1), Knobs(1.0, 0, 1.0), "negative"),
    ((1, 0, 7), Knobs(1.0, 0, 1.0), "at most 1"),
    ((1, 0, -0.5), Knobs(1.0, 0, 1e-9), "above 0"),
])
def test_bad_knob_values_are_clamped_with_a_notice(raw, expect, fragment):
    knobs, notices = Knobs.clamped(*raw, vocab_size=500)
    assert knobs == expect
    if fragment is None:
        assert notices == []
    else:
        assert any(fragment in n for n in notices), notices


def test_tiny_top_p_keeps_one_token(logits):
    knobs, _ = Knobs.clamped(1.0, 0, 0.0, vocab_size=500)
    assert sampling.reshape(logits, knobs).n_kept == 1
