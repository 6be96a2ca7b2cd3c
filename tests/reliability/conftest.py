"""Reliability suite set-up: full error details in AppTest (the app itself redacts them for learners)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from streamlit import config  # noqa: E402

config.set_option("client.showErrorDetails", "full")

try:  # 2 cores shared by several suites: one torch thread in this process
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

import shutil  # noqa: E402

import pytest  # noqa: E402

# the real-browser fixtures (app_url, browser, page) come from tests/browser_support.py, suite-wide


@pytest.fixture
def live_server(app_url):
    return app_url


@pytest.fixture(scope="session")
def _tiny_gpt2_template(tmp_path_factory):
    """A 2-layer random GPT-2 with GPT-2's real tokenizer, saved as safetensors (seconds to build)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from gen_viz import models

    path = tmp_path_factory.mktemp("tiny-gpt2")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=50257)).save_pretrained(path)
    models.load_gpt2_tokenizer().save_pretrained(path)
    return path


@pytest.fixture
def tiny_gpt2_dir(_tiny_gpt2_template, tmp_path):
    """A private copy (tests may corrupt or plant files in it)."""
    dst = tmp_path / "model"
    shutil.copytree(_tiny_gpt2_template, dst)
    return dst
