"""Generation lesson: our recorded loop (gen_viz.generation.generate, key/value cache, every step's
top-10 alternatives, probabilities, rank and entropy recorded) vs a bare ``model.generate`` with the
same settings on the same model, 64 new tokens.

    python -m benchmarks.bench_generation [--quick]

Target: <= 1.25x. Also reports tokens per second for each available model, and the cost of
turning a knob (reshaping cached logits, no model call).
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.common import Row, available_text_models, measure, measure_pair, ratio_row
from gen_viz import generation as G
from gen_viz import models, sampling

MODELS = ["genviz-tiny-gpt2", "gpt2", "distilgpt2"]
PROMPT = "The animal didn't cross the street because"
N_NEW = 64


def _pair(tm: models.TextModel, knobs: sampling.Knobs, seed: int = 0):
    """(ours, bare) callables generating exactly N_NEW tokens (the end token does not stop either)."""
    prompt = G.prepare_prompt(tm.tokenizer, PROMPT, tm.info.context_length, reserve=N_NEW)
    ids = torch.tensor([prompt.ids])
    mask = torch.ones_like(ids)
    do_sample = not knobs.greedy
    extra = dict(temperature=knobs.temperature, top_k=knobs.top_k or None, top_p=knobs.top_p) if do_sample else {}

    def ours():
        with tm.lock:
            steps = list(G.iter_steps(tm.model, tm.tokenizer, prompt, N_NEW, knobs, seed, stop_at_end=False))
        assert len(steps) == N_NEW
        return steps

    def bare():
        with tm.lock, torch.inference_mode():
            out = tm.model.generate(ids, attention_mask=mask, max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                                    do_sample=do_sample, pad_token_id=tm.tokenizer.eos_token_id, **extra)
        assert out.shape[1] == ids.shape[1] + N_NEW
        return out

    return ours, bare


def run(quick: bool = False) -> list[Row]:
    torch.set_num_threads(1)
    reps = 5 if quick else 15
    rows: list[Row] = []
    for tm in available_text_models(MODELS):
        for label, knobs in (("greedy", sampling.Knobs(0.0, 0, 1.0)),
                             ("sampling T=0.8 top-k 40", sampling.Knobs(0.8, 40, 1.0))):
            ours, bare = _pair(tm, knobs)
            t_ours, t_bare = measure_pair(ours, bare, reps=reps)
            rows.append(ratio_row("generation", f"{N_NEW} tokens, {label}, recording every step, {tm.spec.key} (s)",
                                  t_ours, t_bare, target="<=1.25x",
                                  note=f"ours {N_NEW / t_ours.median:.0f} tok/s, generate {N_NEW / t_bare.median:.0f} "
                                       "tok/s, 1 torch thread"))
        prompt = G.prepare_prompt(tm.tokenizer, PROMPT, tm.info.context_length, reserve=1)
        logits = G.next_token_logits(tm.model, prompt.ids)
        knob = measure(lambda: G.next_token_view(tm.tokenizer, logits, sampling.Knobs(0.7, 40, 0.9)), reps=reps)
        forward = measure(lambda: G.next_token_logits(tm.model, prompt.ids), reps=reps)
        rows.append(Row("generation", f"turn a knob (reshape cached logits) vs one forward pass, {tm.spec.key} (s)",
                        knob.median, forward.median, knob.median / forward.median, "",
                        f"knob {knob.spread} / forward {forward.spread} s",
                        "knobs never rerun the model"))
    return rows


def curves(quick: bool = False) -> dict:
    """How cost grows: recorded-loop time per generated token vs prompt length (16 to the context length)."""
    torch.set_num_threads(1)
    knobs, n_new, out = sampling.Knobs(temperature=0.0), 16, {}
    for tm in available_text_models(MODELS):
        ctx = tm.info.context_length
        xs = [n for n in (16, 32, 64, 128, 256, 512, 1024) if n + n_new <= ctx] + [ctx - n_new]
        filler = tm.tokenizer.encode(" the animal crossed the street" * ctx)

        def per_token(n: int) -> float:
            prompt = G.Prompt(filler[:n], "")

            def once():
                with tm.lock:
                    list(G.iter_steps(tm.model, tm.tokenizer, prompt, n_new, knobs, 0, stop_at_end=False))
            return measure(once, reps=2 if quick else 5).median / n_new * 1000

        out[f"generation time per token vs prompt length, {tm.spec.key}"] = (
            xs, [per_token(n) for n in xs], "prompt tokens", "ms per generated token (KV cache)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    for r in run(args.quick):
        status = "" if r.ok is None else (" ok" if r.ok else " MISSED")
        print(f"{r.measure}: ours {r.ours_s * 1000:.1f} ms, bare {r.bare_s * 1000:.1f} ms, ratio {r.ratio:.3f}x "
              f"(target {r.target or '-'}{status}); {r.note}; {r.spread}")


if __name__ == "__main__":
    main()
