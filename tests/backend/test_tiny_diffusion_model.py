"""The bundled text-to-image model (issue 4): it loads offline, draws what the prompt says, and the training
script runs end to end in smoke mode."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gen_viz import diffusion as D
from gen_viz import scenes

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "assets" / "models" / "tiny-diffusion"


@pytest.fixture(scope="module")
def model():
    return D.load_pipeline(MODEL)


def test_layout_and_size():
    for rel in ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json",
                "README.md", "grid.png", "eval.json", D.GENVIZ_META):
        assert (MODEL / rel).is_file(), rel
    assert (MODEL / "unet/diffusion_pytorch_model.safetensors").stat().st_size <= 40 * 2**20
    from diffusers import DDPMScheduler, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(MODEL / "unet", local_files_only=True)  # diffusers' own loader
    assert unet.config.cross_attention_dim == D.TEXT_DIM
    assert DDPMScheduler.from_pretrained(MODEL / "scheduler").config.num_train_timesteps == 1000


def test_loads_offline_and_generates_in_a_few_steps(model):
    assert model.conditional and model.info.image_size == 32 and model.info.kind == "text-to-image"
    tr = D.generate(model, "a large red circle on the left", seed=0, steps=8, guidance=3.0)
    assert tr.frames.shape == (9, 32, 32, 3)
    j = scenes.judge(tr.image, scenes.Example("", "circle", "red", "left", "large"))
    assert j.colour == "red" and j.position == "left"


def test_adherence_matches_the_model_card(model):
    """Re-run the card's first 12 prompts (same seeds, steps, guidance): the verdicts agree with eval.json."""
    import sys

    sys.path.insert(0, str(ROOT))
    from scripts import eval_tiny_diffusion as E

    card = json.loads((MODEL / "eval.json").read_text())
    examples = scenes.eval_prompts()[:12]
    rows = E.run_prompts(model, examples, card["steps"], card["guidance"], seed_base=card["seed_base"])
    recorded = {r["prompt"]: r for r in card["per_prompt"]}
    agree = sum(r["all_ok"] == recorded[r["prompt"]]["all_ok"] for r in rows)
    assert agree >= 11, [(r["prompt"], r["judged"]) for r in rows]
    s = E.summarise(rows)
    for key in ("colour", "position", "shape", "grain_free"):
        assert abs(s[key] - card["prompts"][key]) <= 0.15, (key, s[key], card["prompts"][key])
    assert s["colour"] >= 0.9 and s["position"] >= 0.85 and s["shape"] >= 0.75  # issue 4's bar, on this subset


def test_training_smoke_mode(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT))
    from scripts import train_tiny_diffusion as T

    out = tmp_path / "model"
    res = T.main(["--smoke", "--out", str(out)])
    assert res["steps"] == 3 and np.isfinite(res["loss"])
    m = D.load_pipeline(out)
    assert D.generate(m, "a red circle", seed=0, steps=2).frames.shape == (3, 32, 32, 3)
    # resumable: a second call with --resume continues from the checkpoint to the new step count
    res2 = T.main(["--smoke", "--out", str(out), "--resume", "--steps", "4"])
    assert res2["steps"] == 4
