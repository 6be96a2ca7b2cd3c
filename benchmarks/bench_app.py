"""App-level figures: cold start to first page served, and peak memory with every bundled model loaded.

    python -m benchmarks.bench_app
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from benchmarks.common import Row

# VmHWM (this process image's peak RSS), not ru_maxrss: ru_maxrss survives exec, so a child started by a
# big parent (benchmarks.run, after the embedding benchmarks) would report the parent's size
LOAD_ALL = """
import json, time
def peak_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
start = time.perf_counter()
from gen_viz import models
base = peak_kb()
loaded, missing = [], {}
for key in ["genviz-tiny-gpt2", "minilm", "genviz-tiny-diffusion"]:
    try:
        models.load(key); loaded.append(key)
    except models.ModelUnavailable as err:
        missing[key] = str(err)
models.load_gpt2_tokenizer()
print(json.dumps({"peak_mb": peak_kb() / 1024,
                  "import_mb": base / 1024, "loaded": loaded, "missing": missing,
                  "seconds": time.perf_counter() - start}))
"""


def peak_memory() -> Row:
    out = subprocess.run([sys.executable, "-c", LOAD_ALL], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    note = f"loaded {', '.join(data['loaded'])} + GPT-2 tokenizer in {data['seconds']:.1f}s"
    if data["missing"]:
        note += f"; missing: {', '.join(data['missing'])}"
    return Row("app", "peak RSS, all bundled models loaded (MB)", ours_s=round(data["peak_mb"], 1),
               target="< 1536 MB", note=note)


def cold_start() -> list[Row]:
    """`streamlit run` to health, and to the home page drawn in Chromium (models load on first render)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, start_streamlit, wait_healthy

    import psutil

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = start_streamlit(port)
    try:
        healthy = wait_healthy(url, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            page.get_by_text("GenViz: watch generative AI work, live").wait_for(timeout=120_000)
            page.get_by_text("About this model", exact=False).first.wait_for(timeout=120_000)
            first_page = time.perf_counter() - start
            rss = psutil.Process(proc.pid).memory_info().rss / 2**20
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return [
        Row("app", "cold start: streamlit run -> server healthy (s)", ours_s=round(healthy, 2)),
        Row("app", "cold start: streamlit run -> home page drawn with models (s)", ours_s=round(first_page, 2),
            target="< 15 s"),
        Row("app", "server RSS after the first page (MB)", ours_s=round(rss, 1)),
    ]


def run(quick: bool = False) -> list[Row]:
    return [peak_memory(), *cold_start()]


if __name__ == "__main__":
    for row in run():
        print(row)
