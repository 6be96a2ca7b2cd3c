"""Attention lesson: our path (gen_viz.attention.compute_attention) vs a bare
``model(**tokenizer(text), output_attentions=True)`` call on the same 64-token text,
and how attention time grows with the sequence length.

    python -m benchmarks.bench_attention [--quick]

Our path adds: counting the tokens before truncation, offsets and special-token masks,
stacking the layers into one numpy array and building the labels. Target: <= 1.2x.
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.common import Row, available_text_models, measure, measure_pair, ratio_row
from gen_viz import attention, models

MODELS = ["minilm", "genviz-tiny-gpt2", "gpt2"]
BASE = ("The animal didn't cross the street because it was too tired, so it lay down on the warm "
        "pavement and watched the cars go by while the people on the corner talked about the weather ")


def text_of(tm: models.TextModel, n_tokens: int) -> str:
    """A text that tokenizes to exactly ``n_tokens`` tokens (special tokens included) under ``tm``."""
    n_special = len(tm.tokenizer("a")["input_ids"]) - len(tm.tokenizer("a", add_special_tokens=False)["input_ids"])
    ids = tm.tokenizer(BASE * (1 + n_tokens // 20), add_special_tokens=False)["input_ids"][: n_tokens - n_special]
    return tm.tokenizer.decode(ids)


def _bare(tm: models.TextModel, text: str):
    def call():
        with tm.lock:
            enc = tm.tokenizer(text, return_tensors="pt")
            with torch.inference_mode():
                return tm.model(**enc, output_attentions=True).attentions
    return call


def run(quick: bool = False) -> list[Row]:
    torch.set_num_threads(1)
    reps = 7 if quick else 31
    rows = []
    for tm in available_text_models(MODELS):
        text = text_of(tm, 64)
        n = attention.compute_attention(tm, text).n_tokens
        ours, bare = measure_pair(lambda: attention.compute_attention(tm, text), _bare(tm, text), reps=reps)
        rows.append(ratio_row("attention", f"{n}-token text, all layers, {tm.spec.key} (s)", ours, bare,
                              target="<=1.2x", note=f"{tm.info.n_layers}x{tm.info.n_heads} heads, 1 torch thread"))
    return rows


def curves(quick: bool = False) -> dict:
    torch.set_num_threads(1)
    out = {}
    lengths = [8, 16, 32, 64, 128, 256]
    for tm in available_text_models(MODELS):
        xs = [n for n in lengths if n <= tm.info.context_length]
        ys = [measure(lambda: attention.compute_attention(tm, text_of(tm, n), max_tokens=n), reps=3 if quick else 9).median
              * 1000 for n in xs]
        out[f"attention time vs length, {tm.spec.key}"] = (xs, ys, "tokens", "ms per forward pass")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    for r in run(args.quick):
        print(f"{r.measure}: ours {r.ours_s * 1000:.2f} ms, bare {r.bare_s * 1000:.2f} ms, "
              f"ratio {r.ratio:.3f}x (target {r.target}, {'ok' if r.ok else 'MISSED'}); {r.spread}")
    for name, (xs, ys, _, unit) in curves(args.quick).items():
        print(name + ": " + ", ".join(f"{x} -> {y:.2f} {unit.split()[0]}" for x, y in zip(xs, ys)))


if __name__ == "__main__":
    main()
