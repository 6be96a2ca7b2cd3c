"""Run the whole performance suite and write the table.

    .venv/bin/python -m benchmarks.run            # full run (about 15-25 minutes on 2 cores)
    .venv/bin/python -m benchmarks.run --quick    # fewer repetitions, a smoke check
    .venv/bin/python -m benchmarks.run --only tokens attention

Each ``benchmarks/bench_<name>.py`` exposes ``run(quick) -> list[Row]``; modules that
also expose ``curves(quick) -> dict[name, (xs, ys, xlabel, ylabel)]`` get a plot
in ``benchmarks/results/<name>.png``. Results go to ``benchmarks/results/latest.{md,json}``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
import traceback
from pathlib import Path

from benchmarks.common import Row

SUITES = ["tokens", "attention", "generation", "diffusion", "embeddings", "app", "concurrency"]
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} torch threads, no GPU")


def fmt(v, digits=4):
    return "" if v is None else f"{v:.{digits}g}"


def to_markdown(rows: list[Row], header: str) -> str:
    lines = [header, "", "| lesson | measure | ours | bare library | ratio | target | ok | spread / note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ok = {True: "yes", False: "**no**", None: ""}[r.ok]
        note = "; ".join(x for x in (r.spread, r.note) if x).replace("|", "/")
        lines.append(f"| {r.lesson} | {r.measure} | {fmt(r.ours_s)} | {fmt(r.bare_s)} | "
                     f"{fmt(r.ratio, 3) + 'x' if r.ratio is not None else ''} | {r.target} | {ok} | {note} |")
    return "\n".join(lines) + "\n"


def plot_curves(name: str, curves: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
    for ax, (title, (xs, ys, xlabel, ylabel)) in zip(axes[0], curves.items()):
        ax.plot(xs, ys, marker="o")
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = RESULTS / f"{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description="GenViz performance suite")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*", choices=SUITES)
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    rows: list[Row] = []
    plots = []
    for name in args.only or SUITES:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            got = module.run(quick=args.quick)
            rows.extend(got)
            if hasattr(module, "curves"):
                plots.append(plot_curves(name, module.curves(quick=args.quick)))
        except Exception as err:  # one broken suite must not hide the others' figures
            traceback.print_exc()
            rows.append(Row(name, "suite failed", note=f"{type(err).__name__}: {err}"[:200]))
        print(f"[{name}] {time.perf_counter() - start:.1f}s", flush=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = f"Measured {stamp} on {machine()}{' (quick mode)' if args.quick else ''}."
    md = to_markdown(rows, header)
    if plots:
        md += "\n" + "\n".join(f"![{p.stem}]({p.name})" for p in plots) + "\n"
    (RESULTS / "latest.md").write_text(md)
    (RESULTS / "latest.json").write_text(json.dumps(
        {"measured": stamp, "machine": machine(), "quick": args.quick, "rows": [r.as_dict() for r in rows]},
        indent=2))
    print(md)


if __name__ == "__main__":
    main()
