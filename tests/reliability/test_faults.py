"""Faults: a missing or corrupt model, an unreachable hub, a model call that raises mid-generation.

In every case the learner gets a one-line message saying what happened, quickly, and the rest of the
app keeps working (the same page on the next run, the other pages, the bundled model).
"""

from __future__ import annotations

import json
import time

import pytest
import streamlit as st

from gen_viz import models, offline
from gen_viz.ui import loaders
from tests.reliability.apptest_fuzz import LESSON_PAGES, exceptions, messages, new_app

TEXT_PAGES = [p for p in LESSON_PAGES if "Diffusion" not in p]
# the pages that run the language model's forward pass; Tokens only tokenizes and Embeddings reads the input
# embedding table (tensors, no forward), so a failing forward pass cannot reach them
FORWARD_PAGES = [p for p in TEXT_PAGES if "Attention" in p or "Generation" in p]
FAST_S = 15  # generous for a loaded 2-core machine; an unavailable model must never hang


# ------------------------------------------------------------------------------------------------
# corrupt model directories, straight through the loader
# ------------------------------------------------------------------------------------------------


def _truncate(d):
    w = d / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 3])


def _zero(d):
    (d / "model.safetensors").write_bytes(b"")


def _garbage_header(d):
    w = d / "model.safetensors"
    data = w.read_bytes()
    w.write_bytes((2**40).to_bytes(8, "little") + b"{not json" + data[20:])


def _bad_config(d):
    (d / "config.json").write_text("{ this is not json")


def _no_config(d):
    (d / "config.json").unlink()


def _bad_tokenizer(d):
    (d / "tokenizer.json").write_text('{"truncated": ')


def _wrong_shapes(d):
    cfg = json.loads((d / "config.json").read_text())
    cfg["n_embd"] = 64  # the weights are 32 wide
    (d / "config.json").write_text(json.dumps(cfg))


def _no_weights(d):
    (d / "model.safetensors").unlink()


CORRUPTIONS = {f.__name__.strip("_"): f for f in
               (_truncate, _zero, _garbage_header, _bad_config, _no_config, _bad_tokenizer, _wrong_shapes, _no_weights)}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_local_model_fails_fast_and_clearly(name, tiny_gpt2_dir):
    CORRUPTIONS[name](tiny_gpt2_dir)
    start = time.perf_counter()
    with pytest.raises(models.ModelUnavailable) as err:
        models.load_text_model(str(tiny_gpt2_dir))
    assert time.perf_counter() - start < FAST_S
    msg = str(err.value)
    assert msg and "\n" not in msg.strip() and len(msg) < 400, f"not a one-line message: {msg!r}"


def test_corrupt_diffusion_model_fails_clearly(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "config.json").write_text("{}")
    (tmp_path / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00" * 100)
    (tmp_path / "model_index.json").write_text('{"_class_name": "DDPMPipeline"}')
    start = time.perf_counter()
    with pytest.raises(models.ModelUnavailable):
        models.load_diffusion_model(str(tmp_path))
    assert time.perf_counter() - start < FAST_S


def test_hub_unreachable_fails_fast(monkeypatch, tmp_path):
    """Downloads allowed, model not cached, hub unreachable (a refused loopback port, no traffic leaves)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("GENVIZ_ALLOW_DOWNLOAD", "1")
    monkeypatch.setattr(offline, "HUB_HOST", "127.0.0.1")
    for key in ("gpt2", "distilgpt2"):
        start = time.perf_counter()
        with pytest.raises(models.ModelUnavailable, match="unreachable"):
            models.load_text_model(key, allow_download=True)
        assert time.perf_counter() - start < FAST_S
    with pytest.raises(models.ModelUnavailable, match="unreachable"):
        models.load_diffusion_model("ddpm-cifar10", allow_download=True)


# ------------------------------------------------------------------------------------------------
# the same faults seen from the pages (AppTest)
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def clean_caches():
    """Models and derived results are cached per process: start and end each fault test with none."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("page", LESSON_PAGES)
def test_missing_optional_model_on_every_page(page, monkeypatch, tmp_path, clean_caches):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: GPT-2 small is not there
    at = new_app(page)
    assert not at.exception, exceptions(at)
    at.sidebar.selectbox(key="_w_text_model").set_value("gpt2").run()
    assert not at.exception, exceptions(at)
    said = " ".join(w.value for w in at.sidebar.warning)
    assert "not in the local Hugging Face cache" in said, f"{page}: no message about the missing model ({said!r})"
    assert at.session_state["text_model"] == models.DEFAULT_TEXT_MODEL
    at.run()  # and the page goes on working
    assert not at.exception, exceptions(at)


@pytest.mark.parametrize("how", ["truncate", "garbage_header", "bad_config"])
def test_corrupt_local_dir_in_the_sidebar(how, tiny_gpt2_dir, clean_caches):
    CORRUPTIONS[how](tiny_gpt2_dir)
    at = new_app(TEXT_PAGES[0])
    before = at.session_state["text_model"]
    at.sidebar.text_input(key="_w_local_model_dir").set_value(str(tiny_gpt2_dir)).run()
    [b for b in at.sidebar.button if b.label.startswith("Use this directory")][0].click().run()
    assert not at.exception, exceptions(at)
    said = " ".join(w.value for w in at.sidebar.warning)
    assert "could not be loaded" in said or "safetensors" in said or "Unreadable" in said, said
    assert at.session_state["text_model"] == before, "a corrupt directory must not become the model in use"
    for page in TEXT_PAGES:  # the rest of the app keeps working
        at.switch_page(page).run()
        assert not at.exception, f"{page}: {exceptions(at)}"


def test_hub_unreachable_from_the_sidebar(monkeypatch, tmp_path, clean_caches):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("GENVIZ_ALLOW_DOWNLOAD", "1")
    monkeypatch.setattr(offline, "HUB_HOST", "127.0.0.1")
    at = new_app(TEXT_PAGES[0])
    at.sidebar.toggle[0].set_value(True).run()
    start = time.perf_counter()
    at.sidebar.selectbox(key="_w_text_model").set_value("distilgpt2").run()
    assert time.perf_counter() - start < 60
    assert not at.exception, exceptions(at)
    said = " ".join(w.value for w in at.sidebar.warning)
    assert "unreachable" in said, said
    assert at.session_state["text_model"] == models.DEFAULT_TEXT_MODEL


# ------------------------------------------------------------------------------------------------
# a model call raising in the middle of a computation
# ------------------------------------------------------------------------------------------------


class Fuse:
    """A forward pre-hook that lets ``allow`` calls through once armed, then raises on every call."""

    def __init__(self):
        self.armed, self.allow, self.calls, self.blown = False, 1, 0, 0

    def __call__(self, module, args, kwargs=None):
        if not self.armed:
            return None
        self.calls += 1
        if self.calls > self.allow:
            self.blown += 1
            raise RuntimeError("simulated failure inside the model (test fault injection)")
        return None


@pytest.fixture
def fused_text_model(monkeypatch, tiny_gpt2_dir, clean_caches):
    """Every text model the app loads is the tiny test GPT-2 with a fuse on its forward pass."""
    fuse = Fuse()
    real = models.load_text_model

    def load(key, allow_download=False):
        tm = real(str(tiny_gpt2_dir))
        tm.model.register_forward_pre_hook(fuse)
        return tm

    monkeypatch.setattr(models, "load_text_model", load)
    return fuse


def _main_buttons(at):
    side = {b.id for b in at.sidebar.button}
    return [b.label for b in at.button if b.id not in side and not getattr(b.proto, "disabled", False)]


def test_every_forward_page_is_covered():
    assert len(FORWARD_PAGES) == 2, FORWARD_PAGES


@pytest.mark.parametrize("page", FORWARD_PAGES)
def test_model_raising_mid_computation(page, fused_text_model):
    at = new_app(page)
    assert not at.exception, exceptions(at)
    fused_text_model.armed, fused_text_model.calls = True, 0
    # a text the page has not computed yet, so its cached forward pass cannot answer instead of the model
    at.text_area[0].set_value("A sentence that no cache has seen before, about a tired animal.")
    at.run()
    for label in _main_buttons(at):
        match = [b for b in at.button if b.label == label]
        if match:
            match[0].click()
            at.run()
            assert not at.exception, f"{page}: after pressing {label!r} with a failing model: {exceptions(at)}"
    assert fused_text_model.blown, f"{page}: no forward pass ran after the text changed (cached?): {messages(at)[:300]}"
    assert not at.exception, exceptions(at)
    said = messages(at).lower()
    assert any(w in said for w in ("fail", "error", "could not", "went wrong", "simulated")), \
        f"{page}: the model failed {fused_text_model.blown} time(s) and the page said nothing: {said[:300]!r}"
    # the fault passes: the same session recovers, and the other pages work
    fused_text_model.armed = False
    at.run()
    assert not at.exception, exceptions(at)
    for other in LESSON_PAGES:
        at.switch_page(other).run()
        assert not at.exception, f"{other} after a model failure on {page}: {exceptions(at)}"


def test_diffusion_step_raising_mid_loop(monkeypatch, clean_caches):
    from gen_viz import diffusion

    page = next(p for p in LESSON_PAGES if "Diffusion" in p)
    real = diffusion.predict_noise
    state = {"armed": False, "calls": 0, "blown": 0}

    def predict(*args, **kwargs):
        if state["armed"]:
            state["calls"] += 1
            if state["calls"] > 2:  # two denoising steps go through, then the UNet "crashes"
                state["blown"] += 1
                raise RuntimeError("simulated failure inside the UNet (test fault injection)")
        return real(*args, **kwargs)

    monkeypatch.setattr(diffusion, "predict_noise", predict)
    at = new_app(page)
    assert not at.exception, exceptions(at)
    state["armed"] = True
    at.run()
    for label in _main_buttons(at):
        match = [b for b in at.button if b.label == label]
        if match:
            match[0].click()
            at.run()
            assert not at.exception, f"after pressing {label!r} with a failing UNet: {exceptions(at)}"
    if state["blown"] == 0:
        pytest.fail(f"{page}: no denoising step ran (no model, or no button that runs the loop?): {messages(at)[:300]}")
    said = messages(at).lower()
    assert any(w in said for w in ("fail", "error", "could not", "went wrong", "simulated")), \
        f"{page}: the UNet failed and the page said nothing"
    state["armed"] = False
    at.run()
    assert not at.exception, exceptions(at)
