"""Measure how well the bundled text-to-image model follows its prompt (the figures in its model card).

    python scripts/eval_tiny_diffusion.py                       # 90 prompts + 10 unseen paraphrases, grid.png, eval.json
    python scripts/eval_tiny_diffusion.py --limit 12 --no-write # a quick look

Each prompt gets a fixed seed (1000 + its index; all of its noise comes from it) and 50 DDPM steps with
classifier-free guidance 3.
Every image is judged by gen_viz.scenes.judge:
  colour    the majority palette colour of the object's pixels (pixels far from the white background);
  position  the object's centroid falls nearest the named place's anchor;
  shape     the best-fitting ideal shape (circle / square / triangle, IoU over radii) is the named one;
  white     mean deviation from white outside the (dilated) object is below 6 levels out of 255 (strict:
            a faint flat tint fails it);
  grain-free  the standard deviation of those background pixels is below 4 levels (no leftover noise).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gen_viz import diffusion, scenes  # noqa: E402

DEFAULT_MODEL = ROOT / "assets" / "models" / "tiny-diffusion"
SEED_BASE = 1000
STEPS = 50
GUIDANCE = 3.0
SAMPLER = "DDPM"


def run_prompts(model, examples: list[scenes.Example], steps: int, guidance: float, seed_base: int = SEED_BASE,
                chunk: int = 16, sampler: str = SAMPLER) -> list[dict]:
    rows = []
    for start in range(0, len(examples), chunk):
        part = examples[start:start + chunk]
        seeds = [seed_base + start + i for i in range(len(part))]
        images = diffusion.generate_batch(model, [e.prompt for e in part], seeds, steps=steps, sampler=sampler,
                                           guidance=guidance)
        for ex, seed, img in zip(part, seeds, images):
            j = scenes.judge(img, ex)
            rows.append({"prompt": ex.prompt, "seed": seed, "expected": asdict(ex), "judged": asdict(j),
                         "all_ok": j.all_ok, "image": img})
    return rows


def summarise(rows: list[dict]) -> dict:
    n = len(rows)
    j = [r["judged"] for r in rows]
    sized = [x for x in j if x["size_ok"] is not None]
    return {
        "n": n,
        "colour": sum(x["colour_ok"] for x in j) / n,
        "position": sum(x["position_ok"] for x in j) / n,
        "shape": sum(x["shape_ok"] for x in j) / n,
        "all_three": sum(r["all_ok"] for r in rows) / n,
        "size": (sum(x["size_ok"] for x in sized) / len(sized)) if sized else None,
        "clean": sum(x["clean"] for x in j) / n,
        "background_dev_mean": float(np.mean([x["background_dev"] for x in j])),
        "grain_free": sum(x["background_std"] < scenes.GRAIN_STD for x in j) / n,
        "background_std_mean": float(np.mean([x["background_std"] for x in j])),
        "shape_iou_mean": float(np.mean([x["shape_iou"] for x in j])),
    }


def grid(rows: list[dict], cols: int = 6, scale: int = 4, path: Path | None = None) -> Image.Image:
    """Prompt -> sample grid with the prompt written under each picture (marked x when judged wrong)."""
    cell, text_h = 32 * scale, 30
    n_rows = (len(rows) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * (cell + 8) + 8, n_rows * (cell + text_h + 8) + 8), (245, 245, 245))
    draw = ImageDraw.Draw(sheet)
    for k, r in enumerate(rows):
        x, y = 8 + (k % cols) * (cell + 8), 8 + (k // cols) * (cell + text_h + 8)
        sheet.paste(Image.fromarray(r["image"]).resize((cell, cell), Image.Resampling.NEAREST), (x, y))
        words = r["prompt"] if r["all_ok"] else "x " + r["prompt"]
        lines, line = [], ""
        for w in words.split():
            if len(line) + len(w) + 1 > 21:
                lines.append(line)
                line = w
            else:
                line = f"{line} {w}".strip()
        lines.append(line)
        for i, ln in enumerate(lines[:3]):
            draw.text((x, y + cell + 1 + 9 * i), ln, fill=(0, 0, 0) if r["all_ok"] else (190, 0, 0))
    if path:
        sheet.save(path)
    return sheet


def evaluate(model_dir: Path = DEFAULT_MODEL, limit: int | None = None, steps: int = STEPS, guidance: float = GUIDANCE,
             unseen: bool = True) -> dict:
    model = diffusion.load_pipeline(model_dir)
    examples = scenes.eval_prompts()[:limit] if limit else scenes.eval_prompts()
    t0 = time.perf_counter()
    rows = run_prompts(model, examples, steps, guidance)
    seconds = time.perf_counter() - t0
    result = {"steps": steps, "guidance": guidance, "sampler": SAMPLER, "seed_base": SEED_BASE,
              "seconds_per_image": seconds / len(rows), "threads": torch.get_num_threads(),
              "prompts": summarise(rows), "rows": rows}
    if unseen:
        urows = run_prompts(model, list(scenes.UNSEEN_PARAPHRASES), steps, guidance, seed_base=SEED_BASE + 500)
        result["unseen"] = summarise(urows)
        result["unseen_rows"] = urows
    return result


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--guidance", type=float, default=GUIDANCE)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-write", action="store_true", help="print only; do not write eval.json / grid.png")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    res = evaluate(args.model, args.limit, args.steps, args.guidance)
    for name in ("prompts", "unseen"):
        if name in res:
            s = res[name]
            print(f"{name:8s} n={s['n']:3d} colour {s['colour']:.0%} position {s['position']:.0%} shape {s['shape']:.0%} "
                  f"all three {s['all_three']:.0%} size {s['size'] if s['size'] is None else format(s['size'], '.0%')} "
                  f"white {s['clean']:.0%} (mean deviation {s['background_dev_mean']:.1f}/255) "
                  f"grain-free {s['grain_free']:.0%} (background std {s['background_std_mean']:.1f}/255)")
    print(f"{res['seconds_per_image']:.2f} s/image ({args.steps} {SAMPLER} steps, guidance {args.guidance}, "
          f"{args.threads} thread(s))")
    if not args.no_write:
        rows = res["rows"]
        grid([rows[i] for i in range(0, len(rows), max(1, len(rows) // 24))][:24] + res.get("unseen_rows", [])[:6],
             path=args.model / "grid.png")
        slim = {k: v for k, v in res.items() if k not in ("rows", "unseen_rows")}
        slim["per_prompt"] = [{k: r[k] for k in ("prompt", "seed", "all_ok")} | {"judged": r["judged"]}
                              for r in res["rows"] + res.get("unseen_rows", [])]
        (args.model / "eval.json").write_text(json.dumps(slim, indent=1) + "\n")
        print(f"wrote {args.model / 'eval.json'} and grid.png")
    return res


if __name__ == "__main__":
    main()
