"""The registry: bundled specs load offline, optional ones fail fast and clearly, local paths work."""

import json
import time

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from gen_viz import models


def test_minilm_loads_offline_with_attentions():
    tm = models.load_text_model("minilm")
    assert tm.info.n_layers == 6 and tm.info.n_heads == 12 and tm.info.hidden_size == 384
    assert tm.info.vocab_size == 30522 and not tm.info.is_causal
    assert 22_000_000 < tm.info.n_params < 23_000_000
    enc = tm.tokenizer("The animal didn't cross the street", return_tensors="pt")
    with torch.no_grad():
        out = tm.model(**enc, output_attentions=True)
    assert len(out.attentions) == 6 and out.attentions[0].shape[1] == 12


@pytest.mark.parametrize("key", ["gpt2", "distilgpt2", "ddpm-cifar10"])
def test_optional_model_absent_is_clear_and_fast(key, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache
    start = time.perf_counter()
    with pytest.raises(models.ModelUnavailable, match="not in the local Hugging Face cache"):
        models.load(key)
    assert time.perf_counter() - start < 5


def test_download_opt_in_with_unreachable_hub_is_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("GENVIZ_ALLOW_DOWNLOAD", "1")
    monkeypatch.setattr(models.offline, "HUB_HOST", "hub.invalid")  # resolves nowhere, like this machine's network
    start = time.perf_counter()
    with pytest.raises(models.ModelUnavailable, match="unreachable"):
        models.load_text_model("gpt2", allow_download=True)
    assert time.perf_counter() - start < 5


def _tiny_gpt2(path):
    cfg = GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=50257)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(cfg)
    model.save_pretrained(path)  # safetensors by default
    models.load_gpt2_tokenizer().save_pretrained(path)
    return model


def test_local_path_route_reports_parameter_count(tmp_path):
    model = _tiny_gpt2(tmp_path)
    tm = models.load_text_model(str(tmp_path))
    assert tm.spec.source == "local"
    assert tm.info.n_params == sum(p.numel() for p in model.parameters())
    assert tm.info.n_layers == 2 and tm.info.context_length == 64 and tm.info.is_causal
    assert isinstance(tm.tokenizer, PreTrainedTokenizerFast)
    assert tm.model.config._attn_implementation == "eager"


def test_local_path_refuses_pickles_and_remote_code(tmp_path):
    _tiny_gpt2(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "auto_map": {"AutoModelForCausalLM": "evil.Model"}}))
    with pytest.raises(models.ModelUnavailable, match="custom code"):
        models.load_text_model(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "model.safetensors").rename(tmp_path / "pytorch_model.bin")
    with pytest.raises(models.ModelUnavailable, match="safetensors"):
        models.load_text_model(str(tmp_path))


def test_truncated_weights_give_a_clear_message(tmp_path):
    _tiny_gpt2(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(models.ModelUnavailable, match="could not be loaded"):
        models.load_text_model(str(tmp_path))


@pytest.mark.parametrize("bad", ["https://evil.example/model", "openai-community/gpt2", "../assets", "relative/dir", ""])
def test_only_registry_keys_or_absolute_local_dirs(bad):
    with pytest.raises(models.ModelUnavailable, match="Unknown model"):
        models.get_spec(bad)


@pytest.mark.parametrize("key", ["minilm", "genviz-tiny-gpt2"])
def test_static_card_matches_the_loaded_model(key):
    """The sidebar's card (no weights loaded) reports what the loaded model reports."""
    assert models.describe_text_model(key) == models.load_text_model(key).info


def test_static_card_refuses_like_the_loader(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(models.ModelUnavailable, match="not in the local Hugging Face cache"):
        models.describe_text_model("gpt2")
