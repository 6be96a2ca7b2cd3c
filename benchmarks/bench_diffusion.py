"""Diffusion lesson benchmarks (issue 8), ratios measured in one run:

* recorded loop (every frame, predicted noise and clean image kept) vs the same loop without recording,
  target <= 1.15x;
* our bare loop vs the plain diffusers-style loop (UNet + scheduler.step, nothing else);
* scrubbing: re-rendering a stored frame (enlarge + PNG encode) vs one UNet call, no model touched;
* seconds per image at 50 DDPM steps with guidance for the bundled model.

    .venv/bin/python -m benchmarks.bench_diffusion [--quick]
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.common import Row, measure, measure_pair, ratio_row
from gen_viz import diffusion as D
from gen_viz import models

PROMPT = "a large red circle on the left"


def load():
    return models.load_diffusion_model(models.DEFAULT_DIFFUSION_MODEL)


def plain_loop(m: D.DiffusionModel, steps: int, guidance: float, seed: int = 0) -> torch.Tensor:
    """The textbook loop with nothing recorded: the baseline every ratio is against."""
    sched = D.make_scheduler(m.scheduler_config, "DDIM")
    sched.set_timesteps(steps)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad(), m.lock:
        both = D.encode_prompts(m, ["", PROMPT])
        x = torch.randn((1, *m.info.sample_shape), generator=gen)
        for t in sched.timesteps:
            eps_u, eps_c = D.predict_noise(m, torch.cat([x, x]), t, both).chunk(2)
            x = sched.step(eps_u + guidance * (eps_c - eps_u), t, x, use_clipped_model_output=True).prev_sample
    return x


def timings(steps: int = 30, reps: int = 3, guidance: float = 3.0) -> dict:
    """Plain numbers (seconds, medians) for the report and for run()."""
    torch.set_num_threads(1)
    m = load()
    rec, bare = measure_pair(lambda: D.generate(m, PROMPT, 0, steps, "DDIM", guidance, record=True),
                             lambda: D.generate(m, PROMPT, 0, steps, "DDIM", guidance, record=False), reps=reps)
    ours_bare, plain = measure_pair(lambda: D.generate(m, PROMPT, 0, steps, "DDIM", guidance, record=False),
                                    lambda: plain_loop(m, steps, guidance), reps=reps)
    traj = D.generate(m, PROMPT, 0, steps, "DDIM", guidance)
    scrub = measure(lambda: D.png_bytes(D.upscale(traj.frames[steps // 2], 224)), reps=20)
    unet_call = measure(lambda: plain_loop(m, 1, guidance), reps=5)
    s50 = measure(lambda: D.generate(m, PROMPT, 0, 50, "DDPM", guidance, record=False), reps=max(1, reps - 1))
    return {
        "steps": steps, "recorded_s": rec.median, "unrecorded_s": bare.median, "record_ratio": rec.median / bare.median,
        "ours_bare_s": ours_bare.median, "plain_loop_s": plain.median, "loop_ratio": ours_bare.median / plain.median,
        "scrub_frame_s": scrub.median, "one_step_s": unet_call.median, "s_per_image_50_steps": s50.median,
        "_stats": (rec, bare, ours_bare, plain, scrub, unet_call, s50),
    }


def run(quick: bool = False) -> list[Row]:
    t = timings(steps=20 if quick else 30, reps=2 if quick else 5)
    rec, bare, ours_bare, plain, scrub, unet_call, s50 = t["_stats"]
    return [
        ratio_row("diffusion", f"recorded loop vs unrecorded ({t['steps']} DDIM steps, CFG)", rec, bare, "<=1.15x"),
        ratio_row("diffusion", "our unrecorded loop vs plain UNet+scheduler loop", ours_bare, plain, "<=1.15x"),
        Row("diffusion", "scrub: show a stored frame (enlarge + PNG), no model call", scrub.median, unet_call.median,
            scrub.median / unet_call.median, "", scrub.spread, "bare = one guided UNet step"),
        Row("diffusion", "seconds per image, 50 DDPM steps, guidance 3, 1 thread", s50.median, None, None, "",
            s50.spread, "bundled tiny model"),
    ]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    start = time.perf_counter()
    for r in run(args.quick):
        ratio = f"{r.ratio:.3f}x" if r.ratio is not None else ""
        print(f"{r.measure}: ours {r.ours_s:.4g} s, bare {r.bare_s if r.bare_s is None else format(r.bare_s, '.4g')} s"
              f" {ratio} {r.target} {'' if r.ok is None else ('ok' if r.ok else 'NOT MET')} ({r.spread}) {r.note}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
