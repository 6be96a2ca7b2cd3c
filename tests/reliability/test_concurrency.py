"""Many users at once: nothing shared by mistake, no errors, no session sees another's text, memory bounded.

Fast in-process checks first (threads hammering the objects every session shares: the fast
tokenizer, a loaded language model, a diffusion model), then a bounded browser smoke run: 2 waves of
20 concurrent Chromium sessions doing mixed lesson actions against one ``streamlit run`` (the full run,
more actions per session, is ``python -m benchmarks.bench_concurrency``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gen_viz import models

THREADS = 12
ROOT = Path(__file__).resolve().parents[2]


def _hammer(fn, args_list):
    """Run fn(*args) for every args from THREADS threads released together; return results in order."""
    barrier = threading.Barrier(min(THREADS, len(args_list)))

    def call(args):
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        return fn(*args)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(call, args_list))


def test_shared_fast_tokenizer_from_many_threads():
    """One tokenizer for all sessions (pitfall 2: 'Already borrowed'): same ids as one at a time, no error."""
    from gen_viz import tokens

    handle = tokens.load_tokenizer(tokens.GPT2_BPE)
    texts = [f"Learner {i} types: the {w} didn't cross the street. " * (1 + i % 7)
             for i, w in enumerate(["zebra", "giraffe", "penguin", "walrus", "otter", "badger"] * 8)]
    expected = [tokens.tokenize(handle, t).ids.tolist() for t in texts]
    got = _hammer(lambda t: tokens.tokenize(handle, t).ids.tolist(), [(t,) for t in texts])
    assert got == expected


def test_generation_streams_interleaved_stay_private(tiny_gpt2_dir):
    """Sessions stream generations step by step, interleaved under the model lock, as pages do: each seed
    gives exactly the tokens it gives alone (a per-request generator, pitfall 4; no shared cache)."""
    from gen_viz import generation, sampling

    tm = models.load_text_model(str(tiny_gpt2_dir))
    knobs = sampling.Knobs(temperature=1.0, top_k=0, top_p=1.0)
    jobs = [(f"Prompt {i % 3} about a {w}", i % 4) for i, w in enumerate(["zebra", "otter", "panda"] * 4)]

    def alone(text, seed):
        with tm.lock:
            prompt = generation.prepare_prompt(tm.tokenizer, text, generation.context_length(tm.model), reserve=12)
            return [s.token_id for s in generation.generate(tm.model, tm.tokenizer, prompt, 12, knobs, seed=seed).steps]

    def streamed(text, seed):
        with tm.lock:
            prompt = generation.prepare_prompt(tm.tokenizer, text, generation.context_length(tm.model), reserve=12)
            steps = generation.iter_steps(tm.model, tm.tokenizer, prompt, 12, knobs, seed=seed)
        out = []
        while True:
            with tm.lock:  # one step at a time: other sessions' steps run in between
                step = next(steps, None)
            if step is None:
                return out
            out.append(step.token_id)

    expected = [alone(*j) for j in jobs]
    got = _hammer(streamed, jobs)
    assert got == expected


@pytest.fixture(scope="module")
def tiny_diffusion():
    """The bundled tiny diffusion model when it is there, else the same architecture with random weights."""
    import torch
    from diffusers import UNet2DConditionModel

    from gen_viz import diffusion

    try:
        return diffusion.load_pipeline(models.REGISTRY[models.DEFAULT_DIFFUSION_MODEL].path)
    except Exception:
        pass
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**diffusion.tiny_unet_config()).eval().requires_grad_(False)
    tokenizer, encoder = diffusion.load_minilm()
    cfg = diffusion.tiny_scheduler_config()
    info = diffusion._build_info("random-tiny", "text-to-image", "test", unet, cfg, encoder, "MiniLM", None, 0.0)
    return diffusion.DiffusionModel(unet, dict(cfg), encoder, tokenizer, info, pooled_projection=False)


def test_diffusion_runs_from_many_threads_are_private(tiny_diffusion):
    """Schedulers are stateful (pitfall 3) and seeds global unless private: concurrent runs = runs alone."""
    from gen_viz import diffusion

    jobs = [(p, s) for p in ("a red circle", "a blue square", "") for s in (0, 1)]
    run = lambda prompt, seed: diffusion.generate(tiny_diffusion, prompt, seed=seed, steps=3, sampler="DDPM",  # noqa: E731
                                                  guidance=2.0).frames[-1]
    expected = [run(*j) for j in jobs]
    got = _hammer(run, jobs * 2)
    for i, frame in enumerate(got):
        assert np.array_equal(frame, expected[i % len(jobs)]), f"run {jobs[i % len(jobs)]} differs under concurrency"


@pytest.mark.slow
def test_twenty_browser_sessions_on_one_server(tmp_path):
    """The bounded smoke version of benchmarks/bench_concurrency.py: 2 waves of 20 Chromium sessions against
    one ``streamlit run``, each opening a lesson, typing a sentence with its own marker word, scrubbing or
    clicking, and re-reading its page after every session has typed. No error, every session sees its own
    text and no other's, and the server's memory after the second wave closed is within the margin of the
    first (a per-session leak would grow it wave after wave)."""
    from benchmarks import bench_concurrency as bench

    # its own process: the suite's sync Playwright (tests/browser_support.py) owns this one's event loop
    out = tmp_path / "concurrency.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.bench_concurrency", "--sessions", "20", "--waves", "2",
                          "--quick", "--timeout", "300", "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    print("\n" + run.stdout)
    assert run.returncode == 0 and out.exists(), f"the benchmark did not finish: {run.stderr[-2000:]}"
    r = json.loads(out.read_text())
    assert r["actions"] == 2 * 20 * 3, f"sessions did not complete their actions: {r['actions']}"
    assert not r["errors"], f"{len(r['errors'])} errors, e.g. {r['errors'][:5]}"
    assert not r["leaks"], f"a session saw another's text: {r['leaks'][:5]}"
    assert r["memory_bounded"], (f"server memory grew {r['rss_growth_between_waves_mb']} MB between waves "
                                 f"(margin {bench.MEMORY_MARGIN_MB} MB): {r['waves_detail']}")
