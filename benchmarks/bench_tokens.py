"""Tokens lesson: our tokenization path vs the bare ``tokenizers`` call on 100,000 characters, and
the AppTest rerun time of a keystroke on a 1,000-word text.

    python -m benchmarks.bench_tokens [--quick]

Our path (``gen_viz.tokens.tokenize``) = the same Rust ``encode`` call + ids and offsets copied into
numpy arrays under the tokenizer's lock. The bare call is ``tokenizers.Tokenizer.from_file(...)
.encode(text)`` on the same tokenizer file. Target: <= 1.5x.

The page path adds what a learner's keystroke costs around it: ``clean_text`` (a pass over every
character), the counters, and the chips of the first 600 tokens (segmentation + escaped HTML).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import Row, measure, measure_pair, ratio_row
from gen_viz import models
from gen_viz import tokens as T
from gen_viz.safe_text import clean_text

SEED = sorted((Path(__file__).resolve().parents[2] / "shared" / "seed").glob("*.txt"))
FALLBACK = ("Think of tokens like breaking a sentence into puzzle pieces. The AI doesn't read whole sentences "
            "like you do — it breaks everything into tiny chunks (tokens) and works with those chunks. 🧩 ")
CHIP_LIMIT = 600


def article_text(n_chars: int) -> str:
    """The seed article (emoji, code and all) repeated to ``n_chars`` characters."""
    base = SEED[0].read_text(encoding="utf-8") if SEED else FALLBACK
    return (base * (1 + n_chars // len(base)))[:n_chars]


def _bare_tokenizer(name: str):
    """The plain library object: the tokenizer file read by ``tokenizers`` itself, padding/truncation off."""
    from tokenizers import Tokenizer

    path = models.GPT2_TOKENIZER_DIR if name == T.GPT2_BPE else models.get_spec(name).path
    bare = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    bare.no_padding()  # MiniLM's file pads/truncates to 128: the fair bare call tokenizes everything
    bare.no_truncation()
    return bare


def tokenize_100k(reps: int = 9) -> list[Row]:
    text = article_text(T.MAX_TEXT_CHARS)
    rows = []
    for name in (T.GPT2_BPE, T.MINILM, T.TINY):
        try:
            handle = T.load_tokenizer(name)
        except models.ModelUnavailable as err:
            rows.append(Row("tokens", f"100k chars, {name}", note=str(err)))
            continue
        bare = _bare_tokenizer(name)
        n = T.tokenize(handle, text).n_tokens
        assert n == len(bare.encode(text, add_special_tokens=False).ids), "same tokenizer, same count"
        ours, plain = measure_pair(lambda: T.tokenize(handle, text),
                                   lambda: bare.encode(text, add_special_tokens=False), reps=reps)
        rows.append(ratio_row("tokens", f"tokenize 100k chars, {handle.info.label} (s)", ours, plain,
                              target="<=1.5x", note=f"{n:,} tokens; ids + offsets as numpy"))
        if name == T.GPT2_BPE:
            from gen_viz.ui.tokens import chips_html  # the page's chip builder (pure; Streamlit imported, unused)

            def page_path():
                clean = clean_text(text, T.MAX_TEXT_CHARS).text
                tok = T.tokenize(handle, clean)
                T.count(clean, tok.n_tokens)
                return chips_html(tok, handle, CHIP_LIMIT)

            ours, plain = measure_pair(page_path, lambda: bare.encode(text, add_special_tokens=False), reps=reps)
            rows.append(ratio_row("tokens", "page path, 100k chars: clean + tokenize + counters + 600 chips (s)",
                                  ours, plain, note="uncached; the page caches by (tokenizer, text)"))
    return rows


def keystroke_rerun(reps: int = 7, words: int = 1_000, n_chars: int | None = None) -> list[Row]:
    """AppTest: rerun time after one keystroke on a 1,000-word text (every keystroke is a new text),
    then the same text rerun from the caches. ``n_chars`` instead measures a pasted text of that size."""
    from tests.apptest import app_test

    if n_chars:
        base, what = article_text(n_chars), f"{n_chars:,}-character"
    else:
        base, what = " ".join(article_text(20_000).split()[:words]), f"{words:,}-word"
    base = base[:-reps]  # room for the keystrokes below
    at = app_test()
    at.run()
    at.switch_page("pages/1_Tokens.py").run()
    at.toggle(key="tok_live").set_value(False).run()  # the multi-line box, as for a pasted text
    at.text_area(key="_w_tok_area").input(base).run()
    assert not at.exception, at.exception
    times, same = [], []
    for i in range(reps):
        start = time.perf_counter()
        at.text_area(key="_w_tok_area").input(base + "x" * (i + 1)).run()  # a new character: cache miss
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    for _ in range(reps):
        start = time.perf_counter()
        at.run()  # the same text again: everything from the caches
        same.append(time.perf_counter() - start)
    times.sort()
    same.sort()
    n_tokens = next(m.value for m in at.metric if m.label == "Tokens")
    return [
        Row("tokens", f"AppTest rerun, keystroke on a {what} text (s)", ours_s=round(times[reps // 2], 4),
            target="< 1 s", spread=f"{times[0]:.3g}-{times[-1]:.3g} s, n={reps}",
            note=f"{n_tokens} GPT-2 tokens; 3 tokenizers, counters, chips, comparison; sidebar included"),
        Row("tokens", f"AppTest rerun, same {what} text, cached (s)", ours_s=round(same[reps // 2], 4),
            spread=f"{same[0]:.3g}-{same[-1]:.3g} s, n={reps}"),
    ]


def run(quick: bool = False) -> list[Row]:
    reps = 5 if quick else 15
    return [*tokenize_100k(reps), *keystroke_rerun(5 if quick else 9),
            *keystroke_rerun(3 if quick else 5, n_chars=T.MAX_TEXT_CHARS)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = run(args.quick)
    print(f"{'measure':<72} {'ours':>9} {'bare':>9} {'ratio':>7} {'target':>8}  note")
    for r in rows:
        fmt = lambda v: "" if v is None else f"{v:.4g}"  # noqa: E731
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        ok = {True: "ok", False: "MISS", None: ""}[r.ok]
        print(f"{r.measure:<72} {fmt(r.ours_s):>9} {fmt(r.bare_s):>9} {ratio:>7} {r.target:>8} {ok:>4}  "
              f"{'; '.join(x for x in (r.spread, r.note) if x)}")


if __name__ == "__main__":
    main()
