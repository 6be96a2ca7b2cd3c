"""The bundled tiny GPT-2 (issue 3): loads offline, matches its card, trains end to end in smoke mode."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "assets" / "models" / "tiny-gpt2"
SAMPLE = ROOT / "tests" / "data" / "heldout_tiny_gpt2.txt"
LOSS_TOLERANCE = 0.02  # nats/token: same weights, same text; only float summation order may differ


def _eval_module():
    spec = importlib.util.spec_from_file_location("eval_tiny_gpt2", ROOT / "scripts" / "eval_tiny_gpt2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundled():
    torch.set_num_threads(1)
    return _eval_module().load(MODEL_DIR)


@pytest.fixture(scope="module")
def card() -> str:
    return (MODEL_DIR / "README.md").read_text(encoding="utf-8")


def test_asset_files_present_and_small():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "generation_config.json", "README.md"):
        assert (MODEL_DIR / name).is_file(), name
    assert (MODEL_DIR / "model.safetensors").stat().st_size <= 40 * 1024 * 1024
    assert not list(MODEL_DIR.glob("*.bin")), "weights ship as safetensors only"


def test_loads_offline_and_reports_param_count(bundled, card):
    model, tokenizer = bundled
    n_params = sum(p.numel() for p in model.parameters())
    stated = int(re.search(r"\| parameters \| ([\d,]+)", card).group(1).replace(",", ""))
    assert n_params == stated
    assert model.config.model_type == "gpt2"
    assert len(tokenizer) == model.config.vocab_size
    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert model.config.eos_token_id == eot == tokenizer.eos_token_id


def test_heldout_loss_matches_card(bundled, card):
    model, tokenizer = bundled
    stated = float(re.search(r"test-sample loss: ([\d.]+)", card).group(1))
    loss = _eval_module().mean_loss(model, tokenizer, SAMPLE.read_text(encoding="utf-8"))
    assert abs(loss - stated) < LOSS_TOLERANCE
    # and it is a trained model: far below the uniform guess ln(vocab)
    assert loss < 0.6 * torch.log(torch.tensor(float(model.config.vocab_size))).item()


def test_greedy_continuation_is_deterministic(bundled):
    model, tokenizer = bundled
    enc = tokenizer("The animal didn't cross the street because", return_tensors="pt")
    outs = [model.generate(**enc, max_new_tokens=12, do_sample=False)[0].tolist() for _ in range(2)]
    assert outs[0] == outs[1]
    assert len(outs[0]) == enc["input_ids"].shape[1] + 12 or outs[0][-1] == model.config.eos_token_id


def test_smoke_training_end_to_end(tmp_path):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    out = tmp_path / "model"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_tiny_gpt2.py"), "--smoke", "--text", str(SAMPLE),
         "--out", str(out), "--work", str(tmp_path / "work"), "--device", "cpu"],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "ETA" in proc.stdout and "loss" in proc.stdout
    assert (tmp_path / "work" / "ckpt.pt").is_file()
    model = GPT2LMHeadModel.from_pretrained(out, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(out, local_files_only=True)
    ids = tokenizer("The module", return_tensors="pt")
    gen = model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert gen.shape[1] == ids["input_ids"].shape[1] + 3
    # a second run resumes from the checkpoint and finishes immediately
    again = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_tiny_gpt2.py"), "--smoke", "--text", str(SAMPLE),
         "--out", str(out), "--work", str(tmp_path / "work"), "--device", "cpu"],
        capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert again.returncode == 0 and "resumed from" in again.stdout
