"""The generation loop, surprise and parameter breakdown (issue 7).

Most tests use a tiny randomly initialised GPT-2 (GPT-2's real tokenizer, 2 layers x 32 wide), built in
memory; one checks the bundled model against ``model.generate``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from gen_viz import generation as G
from gen_viz import models, sampling
from gen_viz.sampling import Knobs

torch.set_num_threads(1)
GREEDY = Knobs(0.0, 0, 1.0)


@pytest.fixture(scope="module")
def tok():
    return models.load_gpt2_tokenizer()


@pytest.fixture(scope="module")
def tiny(tok):
    torch.manual_seed(0)  # test set-up only: the code under test uses its own generators
    cfg = GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=48, vocab_size=len(tok),
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    return GPT2LMHeadModel(cfg).eval()


def _prompt(tok, model, text="The animal didn't cross the street because", reserve=16):
    return G.prepare_prompt(tok, text, G.context_length(model), reserve=reserve)


def _generate_ref(model, ids, n):
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=n, do_sample=False, pad_token_id=model.config.eos_token_id)
    return out[0, len(ids):].tolist()


def test_greedy_matches_model_generate_token_for_token(tiny, tok):
    p = _prompt(tok, tiny)
    gen = G.generate(tiny, tok, p, 16, GREEDY)
    assert gen.new_ids == _generate_ref(tiny, p.ids, 16)
    assert all(s.rank == 1 and s.prob == 1.0 for s in gen.steps)


def test_greedy_matches_generate_on_the_bundled_model():
    tm = models.load_text_model("genviz-tiny-gpt2")
    p = G.prepare_prompt(tm.tokenizer, "Generative AI is", tm.info.context_length, reserve=64)
    gen = G.generate(tm.model, tm.tokenizer, p, 64, GREEDY)
    ref = _generate_ref(tm.model, p.ids, 64)
    assert gen.new_ids == ref[:len(gen.new_ids)]
    assert len(gen.new_ids) == 64 or gen.stop_reason == "end"


def test_loop_uses_the_kv_cache(tiny, tok):
    seen = []
    handle = tiny.transformer.register_forward_pre_hook(
        lambda mod, args, kwargs: seen.append((args[0] if args else kwargs["input_ids"]).shape[1]), with_kwargs=True)
    try:
        p = _prompt(tok, tiny)
        G.generate(tiny, tok, p, 5, GREEDY)
    finally:
        handle.remove()
    assert seen == [len(p.ids), 1, 1, 1, 1]  # the prompt once, then one new token per step


def test_recorded_step_matches_a_full_forward_pass(tiny, tok):
    p = _prompt(tok, tiny)
    gen = G.generate(tiny, tok, p, 6, Knobs(1.0, 0, 1.0), seed=3)
    ids = gen.ids
    with torch.no_grad():
        full = torch.softmax(tiny(torch.tensor([ids])).logits[0].double(), -1)  # (T, V)
    for s in gen.steps:
        pos = len(p.ids) + s.index - 1
        assert math.isclose(s.prob_model, float(full[pos, s.token_id]), rel_tol=1e-4)
        assert s.alt_ids[0] == int(full[pos].argmax())
        assert s.rank == int((full[pos] > full[pos, s.token_id] + 1e-12).sum()) + 1 or s.rank >= 1
        assert 0 <= s.entropy <= math.log2(len(tok)) + 1e-6


def test_same_seed_same_text_other_seed_other_text(tiny, tok):
    p = _prompt(tok, tiny)
    knobs = Knobs(1.0, 50, 0.95)
    torch.manual_seed(123)
    a = G.generate(tiny, tok, p, 12, knobs, seed=7).new_ids
    torch.manual_seed(456)  # the global seed must not matter
    b = G.generate(tiny, tok, p, 12, knobs, seed=7).new_ids
    c = G.generate(tiny, tok, p, 12, knobs, seed=8).new_ids
    assert a == b
    assert a != c


def test_iter_steps_streams_the_same_steps(tiny, tok):
    p = _prompt(tok, tiny)
    streamed = [s.token_id for s in G.iter_steps(tiny, tok, p, 8, Knobs(0.9, 0, 1.0), seed=1)]
    assert streamed == G.generate(tiny, tok, p, 8, Knobs(0.9, 0, 1.0), seed=1).new_ids


def test_stops_at_the_end_token(tiny, tok):
    p = _prompt(tok, tiny)
    gen = G.generate(tiny, tok, p, 10, GREEDY, forced=[tok.eos_token_id])
    assert len(gen.steps) == 1 and gen.stop_reason == "end" and gen.steps[0].forced


def test_stops_when_the_context_is_full(tiny, tok):
    p = G.prepare_prompt(tok, "word " * 100, G.context_length(tiny), reserve=5)
    assert len(p.ids) == 43 and p.n_dropped > 0 and "last 43" in p.notices[0]
    gen = G.generate(tiny, tok, p, 50, GREEDY)
    assert len(gen.steps) <= 5
    assert gen.stop_reason in ("context", "end")


def test_empty_prompt_starts_from_the_begin_token(tiny, tok):
    p = G.prepare_prompt(tok, "", G.context_length(tiny))
    assert p.ids == [tok.eos_token_id] and p.started_from_bos
    assert "empty" in p.notices[0]
    assert len(G.generate(tiny, tok, p, 3, GREEDY).steps) >= 1


def test_long_prompt_keeps_its_last_part(tok):
    p = G.prepare_prompt(tok, "one two three four five six", context=4, reserve=0)
    assert tok.decode(p.ids) == " three four five six"
    assert p.n_dropped == 2


def test_branch_keeps_the_prefix_and_takes_the_alternative(tiny, tok):
    p = _prompt(tok, tiny)
    gen = G.generate(tiny, tok, p, 8, GREEDY)
    alt = int(gen.steps[3].alt_ids[2])
    fork = G.branch(tiny, tok, gen, 3, alt, max_new_tokens=4)
    assert fork.new_ids[:3] == gen.new_ids[:3]
    assert fork.new_ids[3] == alt and fork.steps[3].forced and fork.steps[3].rank == 3
    assert len(fork.steps) <= 8
    assert math.isclose(fork.steps[3].prob_model, float(gen.steps[3].alt_probs[2]), rel_tol=1e-5)


def test_surprise_matches_a_direct_computation(tiny, tok):
    text = "The animal didn't cross the street because it was too tired."
    s = G.surprise(tiny, tok, text)
    ids = tok(text)["input_ids"]
    with torch.no_grad():
        logits = tiny(torch.tensor([[tok.eos_token_id] + ids])).logits[0, :-1]  # (N, V)
    direct = torch.log_softmax(logits.double(), -1)[torch.arange(len(ids)), torch.tensor(ids)]
    assert s.ids.tolist() == ids
    np.testing.assert_allclose(s.logprobs, direct.numpy(), rtol=1e-4, atol=1e-5)
    assert math.isclose(s.perplexity, math.exp(-direct.mean().item()), rel_tol=1e-4)
    assert "".join(s.texts) == text


def test_surprise_of_long_text_is_truncated_with_a_notice(tiny, tok):
    s = G.surprise(tiny, tok, "word " * 200)
    assert len(s.ids) == G.context_length(tiny) - 1 and s.notices


def test_surprise_of_empty_text_is_a_clear_error(tiny, tok):
    with pytest.raises(ValueError, match="Type some text"):
        G.surprise(tiny, tok, "")


def test_next_token_view_reuses_logits_and_accounts_for_all_mass(tiny, tok):
    logits = G.next_token_logits(tiny, _prompt(tok, tiny).ids)
    for knobs in (Knobs(1.0, 0, 1.0), Knobs(0.5, 5, 1.0), Knobs(1.0, 0, 0.5), GREEDY):
        v = G.next_token_view(tok, logits, knobs, top=12)
        assert math.isclose(sum(c.prob_before for c in v.candidates) + v.other_before, 1.0, abs_tol=1e-6)
        assert math.isclose(sum(c.prob_after for c in v.candidates) + v.other_after, 1.0, abs_tol=1e-6)
        assert all((c.prob_after == 0) == (not c.kept) for c in v.candidates)
    v = G.next_token_view(tok, logits, Knobs(1.0, 5, 1.0))
    assert v.n_kept == 5 and [c.cut_by for c in v.candidates[5:]] == ["top-k"] * 7


def test_html_in_tokens_stays_plain_text(tiny, tok):
    p = G.prepare_prompt(tok, "<script>alert(1)</script>", 48, reserve=4)
    gen = G.generate(tiny, tok, p, 2, GREEDY)
    assert gen.text(tok).startswith("<script>alert(1)</script>")  # escaping is the page's job (html.esc)


def test_parameter_breakdown_counts_every_parameter_once(tiny):
    b = G.parameter_breakdown(tiny)
    assert b.total == sum(p.numel() for p in tiny.parameters())
    assert b.tied_head and b.counts["output head"] == 0 and b.counts["other"] == 0
    cfg = tiny.config
    assert b.counts == G.gpt2_breakdown(cfg.n_layer, cfg.n_embd, cfg.vocab_size, cfg.n_positions, "x").counts


def test_gpt2_small_is_124m():
    assert G.GPT2_SMALL.total == 124_439_808
    assert G.GPT2_SMALL.counts["token embeddings"] == 50257 * 768
