"""Embeddings lesson: PCA / t-SNE / UMAP of 1k and 5k words, ours vs the bare library call.

    .venv/bin/python -m benchmarks.bench_embeddings            # full (several minutes on 2 cores)
    .venv/bin/python -m benchmarks.bench_embeddings --quick    # one repetition of the slow ones

The input is real: the unit vectors of MiniLM's first 1,000 / 5,000 whole words (vocabulary
order, i.e. the most common words). "Ours" is ``gen_viz.embeddings.project`` (what the page
runs, inside ``st.cache_data``); "bare" is scikit-learn / umap-learn called directly with their
defaults (seeded), in the same run, interleaved. One difference: our UMAP starts from PCA instead
of a spectral layout (robust for tiny word lists). UMAP's first call compiles numba code (and again
for more than 4,096 points): that one-off cost is reported separately, the timed calls are warm. The page also caches every
t-SNE / UMAP result per (source, word set, method, seed), so a repeat view costs nothing.
Other figures: the table read (once per server) and the map's hover neighbours for 150 words.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from benchmarks.common import Row, measure, measure_pair, ratio_row

PCA_TARGET = "< 0.5 s"  # "instant": well under the half second a learner notices


def _bare(method: str, x: np.ndarray, seed: int = 0) -> Callable[[], np.ndarray]:
    """The library's own defaults, as a notebook would call it (seeded for t-SNE / UMAP)."""
    if method == "pca":
        from sklearn.decomposition import PCA

        return lambda: PCA(n_components=2).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        return lambda: TSNE(n_components=2, random_state=seed).fit_transform(x)
    import umap

    return lambda: umap.UMAP(n_components=2, random_state=seed).fit_transform(x)


def run(quick: bool = False) -> list[Row]:
    import torch

    torch.set_num_threads(1)
    from gen_viz import embeddings as emb
    from gen_viz import models, word_sets

    rows: list[Row] = []
    start = time.perf_counter()
    tm = models.load_text_model("minilm")
    load_s = time.perf_counter() - start
    table_stats = measure(lambda: emb.table_from_model(tm), reps=1 if quick else 3, warmup=0)
    table = emb.table_from_model(tm)
    rows.append(Row("embeddings", "read MiniLM's table (30,522 x 384, once per server)", ours_s=table_stats.median,
                    spread=table_stats.spread, note=f"model load before it {load_s:.1f}s (shared with other pages)"))

    words = [w for ws_ in word_sets.WORD_SETS.values() for w in ws_]
    words = (words * 2)[:150]
    vectors = emb.lookup(table, words)
    hover = measure(lambda: emb.neighbours_many(table, vectors, 5), reps=3 if quick else 7)
    rows.append(Row("embeddings", "hover neighbours, 150 words x 30,522-token vocabulary", ours_s=hover.median,
                    spread=hover.spread))

    # UMAP's numba compilation: a one-off per server process, paid the first time a learner picks UMAP
    small = table.unit[emb.background_ids(table, 60)]
    t0 = time.perf_counter()
    emb.project(small, "umap")
    umap_first = time.perf_counter() - t0

    for n in (1000, 5000):
        x = np.ascontiguousarray(table.unit[emb.background_ids(table, n)])  # (n, 384)
        for method in emb.METHODS:
            slow = method != "pca"
            reps = (1 if n == 5000 else 2) if quick and slow else (2 if n == 5000 else 3) if slow else (3 if quick else 7)
            # warm-up for PCA and UMAP: UMAP compiles numba code again at its first call above 4,096 points
            # (pynndescent's approximate neighbours); t-SNE has nothing to warm up and is too slow to repeat
            ours, bare = measure_pair(lambda: emb.project(x, method, 0), _bare(method, x), reps, warmup=method != "tsne")
            label = emb.METHOD_LABELS[method]
            note = "first UMAP call in a process adds numba compilation: %.1fs" % umap_first if method == "umap" else ""
            row = ratio_row("embeddings", f"{label} of {n:,} words to 2D (s)", ours, bare,
                            target=PCA_TARGET if method == "pca" else "", note=note)
            rows.append(row)
            print(f"  {row.measure}: ours {ours.median:.3f}s, bare {bare.median:.3f}s, ratio {row.ratio:.2f}",
                  flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = run(quick=args.quick)
    print("\n| measure | ours (s) | bare (s) | ratio | target | ok | spread / note |\n|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        bare = f"{r.bare_s:.4g}" if r.bare_s is not None else ""
        ok = {True: "yes", False: "**no**", None: ""}[r.ok]
        print(f"| {r.measure} | {r.ours_s:.4g} | {bare} | {ratio} | {r.target} | {ok} | "
              f"{'; '.join(x for x in (r.spread, r.note) if x)} |")


if __name__ == "__main__":
    main()
