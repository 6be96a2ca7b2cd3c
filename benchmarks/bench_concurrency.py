"""Many learners on one server: concurrent browser sessions doing mixed lesson actions.

    python -m benchmarks.bench_concurrency              # full run: 2 waves of 24 sessions
    python -m benchmarks.bench_concurrency --quick      # 1 wave of 20 sessions, fewer actions
    python -m benchmarks.bench_concurrency --sessions 30 --waves 3 --json result.json

One ``streamlit run app.py`` on 127.0.0.1 (loopback only), one headless Chromium, one browser context
(= one Streamlit session) per learner, all driven at once with Playwright's asyncio API. Learner i
opens lesson i mod 5, types a sentence carrying its own marker word, nudges the page's first slider
(or presses its first button), then does the same on the next lesson, and finally re-reads both
pages. Every learner checks that it sees its own marker and none of the other learners' markers.

Reported: sessions, actions, wall time, throughput (actions/s), median / p95 / slowest action (and
which), errors, cross-session leaks, server RSS before / peak / after each wave's sessions closed.
Memory is "bounded" when the RSS left after the last wave is within a margin of the RSS left after
the first wave (a per-session leak would grow it wave after wave).

``run(quick)`` returns rows for benchmarks/run.py; ``main()`` prints a table and returns a dict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TEXT_BOXES, _free_port, stop_process, wait_healthy  # noqa: E402

LESSONS = [re.sub(r"^\d+_", "", p.stem) for p in sorted((ROOT / "pages").glob("[0-9]_*.py"))]
# the diffusion prompt goes to a text encoder; it is not necessarily shown back as text
ECHOES = {name for name in LESSONS if name != "Diffusion"}
MAIN = "[data-testid='stMain']"
# marker words: made up, so no page shows one unless a session typed it (real words such as "rabbit" or
# "heron" are on the embeddings map and in its neighbour lists); letters only, so every tokenizer keeps
# them readable once the chips are joined; all "qz" + two syllables + "x", so none is part of another
_SYLLABLES = ["ba", "ke", "mi", "no", "pu", "ra", "si", "tu"]
MARKERS = [f"qz{a}{b}x" for a in _SYLLABLES for b in _SYLLABLES if a != b]
MEMORY_MARGIN_MB = 300.0
# does the main area's text (letters only, lower case, as _squash) contain the learner's marker?
SHOWS_MARKER = """marker => (document.querySelector("[data-testid='stMain']")?.textContent || '')
    .toLowerCase().replace(/[^a-z]+/g, '').includes(marker)"""


def _squash(text: str) -> str:
    """Letters only, lower case: token chips split words and may show ids and space markers."""
    return re.sub(r"[^a-z]+", "", text.lower())


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         # closed sessions are dropped after 5 s instead of 120 s, so memory after close is observable
         "--server.disconnectedSessionTTL", "5"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def rss_mb(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
    except Exception:
        return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process and its descendants."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    except psutil.Error:
        return float("nan")
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self._halt = pid, every, 0.0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._halt.wait(self.every)

    def stop(self) -> float:
        self._halt.set()
        self.join(timeout=5)
        return self.peak


class _ClientCpu(threading.Thread):
    """CPU used by this process's descendants other than the server (Playwright's driver and Chromium),
    sampled while they live: the browsers exit before the wave ends, so their final counts are taken from
    the last sample."""

    def __init__(self, me: int, server: int, every: float = 1.0):
        super().__init__(daemon=True)
        self.me, self.server, self.every, self._halt = me, server, every, threading.Event()
        self.seen: dict[int, float] = {}

    def _sample(self) -> None:
        import psutil

        skip = {self.server}
        try:
            skip |= {c.pid for c in psutil.Process(self.server).children(recursive=True)}
            kids = psutil.Process(self.me).children(recursive=True)
        except psutil.Error:
            return
        for p in kids:
            if p.pid in skip:
                continue
            try:
                t = p.cpu_times()
                self.seen[p.pid] = max(self.seen.get(p.pid, 0.0), t.user + t.system)
            except psutil.Error:
                pass

    def run(self) -> None:
        while not self._halt.is_set():
            self._sample()
            self._halt.wait(self.every)

    def stop(self) -> float:
        self._halt.set()
        self.join(timeout=5)
        return sum(self.seen.values())


def session_count(url: str) -> int | None:
    """Active sessions according to Streamlit's own metrics endpoint (None if it does not say)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(("session_count", "active_sessions", "streamlit_sessions")) and " " in line:
            try:
                return int(float(line.rsplit(" ", 1)[1]))
            except ValueError:
                return None
    return None


@dataclass
class Learner:
    index: int
    marker: str
    actions: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)


async def _settle(pg, timeout_ms: int) -> None:
    await pg.wait_for_timeout(300)
    await pg.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    await pg.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
        " === 'notRunning'", timeout=timeout_ms)


async def _timed(learner: Learner, name: str, coro) -> bool:
    start = time.perf_counter()
    try:
        await coro
        return True
    except Exception as err:
        learner.errors.append(f"{name}: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
        return False
    finally:
        learner.actions.append((name, time.perf_counter() - start))


async def _check(pg, learner: Learner, lesson: str, all_markers: list[str]) -> None:
    shown = await pg.locator("[data-testid='stException']").count()
    if shown:
        learner.errors.append(f"{lesson}: the page shows an exception")
    if lesson.replace("recheck ", "") not in ECHOES:
        return
    # textContent, not innerText: chart labels are SVG text and hidden tabs still belong to the session
    text = _squash(await pg.locator(MAIN).evaluate("e => e.textContent"))
    if learner.marker not in text:
        learner.errors.append(f"{lesson}: own text ({learner.marker}) not shown")
    for other in all_markers:
        if other != learner.marker and other in text:
            learner.leaks.append(f"{lesson}: learner {learner.index} ({learner.marker}) sees {other!r}")


async def _lesson(pg, url: str, learner: Learner, lesson: str, all_markers: list[str], timeout_ms: int,
                  nudge: bool) -> None:
    async def open_page():
        await pg.goto(f"{url}/{lesson}", wait_until="domcontentloaded", timeout=timeout_ms)
        await _settle(pg, timeout_ms)

    if not await _timed(learner, f"open {lesson}", open_page()):
        return

    async def type_text():
        box = pg.locator(TEXT_BOXES).first
        await box.wait_for(state="visible", timeout=timeout_ms)
        is_area = await box.evaluate("e => e.tagName") == "TEXTAREA"
        await box.fill(f"The {learner.marker} didn't cross the street because it was too tired")
        await box.press("Control+Enter" if is_area else "Enter")
        await _settle(pg, timeout_ms)
        if lesson in ECHOES:
            # under load the rerun can start after the settle's grace period: the action ends when the
            # learner's own text is drawn; never drawn within the limit is one error (recorded by _timed,
            # which then skips the page check) that says what the box held
            try:
                await pg.wait_for_function(SHOWS_MARKER, arg=learner.marker, timeout=timeout_ms)
            except Exception:
                held = (await box.input_value())[:60]
                raise RuntimeError(f"own text ({learner.marker}) never drawn within {timeout_ms // 1000} s; "
                                   f"the box holds {held!r}") from None

    if await _timed(learner, f"type {lesson}", type_text()):
        await _check(pg, learner, lesson, all_markers)

    if nudge:
        async def scrub_or_click():
            sliders = pg.locator(f"{MAIN} [data-testid='stSlider'] [role='slider']:visible")
            buttons = pg.locator(f"{MAIN} [data-testid='stBaseButton-primary']:visible")
            if await sliders.count():
                await sliders.first.focus()
                await sliders.first.press("ArrowRight")
            elif await buttons.count():
                await buttons.first.click()
            else:
                return
            await _settle(pg, timeout_ms)

        if await _timed(learner, f"scrub/click {lesson}", scrub_or_click()):
            await _check(pg, learner, lesson, all_markers)


async def _learner(browser, url: str, learner: Learner, all_markers: list[str], start_gate: asyncio.Event,
                   recheck_gate: asyncio.Barrier, timeout_ms: int, quick: bool) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    pg, last = None, None
    try:
        pg = await context.new_page()
        pg.set_default_timeout(timeout_ms)
        await start_gate.wait()
        last = LESSONS[learner.index % len(LESSONS)]
        await _lesson(pg, url, learner, last, all_markers, timeout_ms, nudge=True)
        if not quick:
            last = LESSONS[(learner.index + 1) % len(LESSONS)]
            await _lesson(pg, url, learner, last, all_markers, timeout_ms, nudge=False)
    except Exception as err:
        learner.errors.append(f"session: {type(err).__name__}: {str(err)[:200]}")
    try:
        # every learner reaches this point exactly once: then all have typed, and a leak would show
        await asyncio.wait_for(recheck_gate.wait(), timeout=timeout_ms / 1000 * 4)
        if pg is not None and last is not None:
            await _check(pg, learner, f"recheck {last}" if last in ECHOES else last, all_markers)
    except Exception as err:
        learner.errors.append(f"recheck: {type(err).__name__}: {str(err)[:200]}")
    finally:
        await context.close()


async def _wave(url: str, n: int, wave: int, timeout_ms: int, quick: bool) -> list[Learner]:
    from playwright.async_api import async_playwright

    offset = (wave * n) % len(MARKERS)
    learners = [Learner(i, MARKERS[(offset + i) % len(MARKERS)]) for i in range(n)]
    markers = [lr.marker for lr in learners]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        gate, barrier = asyncio.Event(), asyncio.Barrier(n)

        tasks = [asyncio.create_task(_learner(browser, url, lr, markers, gate, barrier, timeout_ms, quick))
                 for lr in learners]
        await asyncio.sleep(1.0)  # contexts created; now start together
        gate.set()
        await asyncio.gather(*tasks)
        await browser.close()
    return learners


def warm_up(url: str, timeout_ms: int) -> float:
    """One learner visits every lesson first, so models are loaded before the crowd arrives."""
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pg = browser.new_page()
        pg.set_default_timeout(timeout_ms)
        for lesson in ["", *LESSONS]:
            pg.goto(f"{url}/{lesson}", wait_until="domcontentloaded", timeout=timeout_ms)
            pg.wait_for_timeout(300)
            pg.wait_for_function(
                "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
                " === 'notRunning'", timeout=timeout_ms)
        browser.close()
    return time.perf_counter() - start


def measure(sessions: int = 24, waves: int = 2, quick: bool = False, timeout_s: float = 300) -> dict:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    timeout_ms = int(timeout_s * 1000)
    result: dict = {"sessions": sessions, "waves": waves, "lessons": LESSONS, "quick": quick}
    try:
        wait_healthy(url, proc, timeout=180)
        result["warm_up_s"] = round(warm_up(url, timeout_ms), 1)
        time.sleep(6)  # the warm-up session expires (TTL 5 s)
        result["rss_before_mb"] = round(rss_mb(proc.pid), 1)
        all_actions, errors, leaks, wave_rows = [], [], [], []
        wall_total = 0.0
        for wave in range(waves):
            sampler = PeakSampler(proc.pid)
            sampler.start()
            start = time.perf_counter()
            server_cpu0 = cpu_seconds(proc.pid)
            clients = _ClientCpu(os.getpid(), proc.pid)
            clients.start()
            learners = asyncio.run(_wave(url, sessions, wave, timeout_ms, quick))
            wall = time.perf_counter() - start
            server_cpu = cpu_seconds(proc.pid) - server_cpu0
            browser_cpu = clients.stop()
            peak = sampler.stop()
            time.sleep(8)  # websockets closed; sessions dropped after the 5 s TTL
            after = rss_mb(proc.pid)
            wall_total += wall
            acts = [a for lr in learners for a in lr.actions]
            all_actions.extend(acts)
            errors.extend(f"wave {wave} learner {lr.index}: {e}" for lr in learners for e in lr.errors)
            leaks.extend(f"wave {wave}: {x}" for lr in learners for x in lr.leaks)
            wave_rows.append({"wave": wave, "wall_s": round(wall, 1), "actions": len(acts),
                              "peak_rss_mb": round(peak, 1), "rss_after_close_mb": round(after, 1),
                              "server_cpu_s": round(server_cpu, 1), "browser_cpu_s": round(browser_cpu, 1),
                              "sessions_after_close": session_count(url)})
        durations = sorted(d for _, d in all_actions)
        slowest = max(all_actions, key=lambda a: a[1]) if all_actions else ("none", 0.0)
        result.update({
            "waves_detail": wave_rows,
            "actions": len(all_actions),
            "wall_s": round(wall_total, 1),
            "throughput_actions_per_s": round(len(all_actions) / wall_total, 3) if wall_total else 0.0,
            "median_action_s": round(statistics.median(durations), 2) if durations else None,
            "p95_action_s": round(durations[int(0.95 * (len(durations) - 1))], 2) if durations else None,
            "slowest_action": slowest[0],
            "slowest_action_s": round(slowest[1], 2),
            "errors": errors,
            "leaks": leaks,
            "peak_rss_mb": max(w["peak_rss_mb"] for w in wave_rows),
            "rss_after_mb": wave_rows[-1]["rss_after_close_mb"],
        })
        growth = wave_rows[-1]["rss_after_close_mb"] - wave_rows[0]["rss_after_close_mb"]
        result["rss_growth_between_waves_mb"] = round(growth, 1)
        result["memory_bounded"] = bool(growth <= MEMORY_MARGIN_MB and
                                        wave_rows[-1]["rss_after_close_mb"] <= result["peak_rss_mb"] + 1)
        by_kind: dict[str, list[float]] = {}
        for name, d in all_actions:
            by_kind.setdefault(name.split(" ")[0], []).append(d)
        result["by_kind"] = {k: {"n": len(v), "median_s": round(statistics.median(v), 2), "max_s": round(max(v), 2)}
                             for k, v in sorted(by_kind.items())}
    finally:
        stop_process(proc)
    return result


def table(r: dict) -> str:
    lines = [f"Concurrency: {r['sessions']} sessions x {r['waves']} wave(s) on one server, lessons {', '.join(r['lessons'])}",
             "| measure | value |", "|---|---|"]
    for key in ("warm_up_s", "actions", "wall_s", "throughput_actions_per_s", "median_action_s", "p95_action_s",
                "slowest_action", "slowest_action_s", "rss_before_mb", "peak_rss_mb", "rss_after_mb",
                "rss_growth_between_waves_mb", "memory_bounded"):
        lines.append(f"| {key} | {r.get(key)} |")
    lines.append(f"| errors | {len(r.get('errors', []))} |")
    lines.append(f"| cross-session leaks | {len(r.get('leaks', []))} |")
    for w in r.get("waves_detail", []):
        lines.append(f"| wave {w['wave']} | {w['actions']} actions in {w['wall_s']} s, peak {w['peak_rss_mb']} MB, "
                     f"{w['rss_after_close_mb']} MB after close; CPU: server {w['server_cpu_s']} s, "
                     f"the {r['sessions']} browsers {w['browser_cpu_s']} s |")
    for kind, v in r.get("by_kind", {}).items():
        lines.append(f"| {kind} actions | n={v['n']}, median {v['median_s']} s, max {v['max_s']} s |")
    for e in (r.get("errors", []) + r.get("leaks", []))[:15]:
        lines.append(f"| problem | {e[:160].replace('|', '/')} |")
    return "\n".join(lines)


def run(quick: bool = False):
    """Rows for benchmarks/run.py (absolute figures: there is no bare-library counterpart to a classroom)."""
    from benchmarks.common import Row

    r = measure(sessions=20 if quick else 24, waves=1 if quick else 2, quick=quick)
    note = f"{r['sessions']} sessions x {r['waves']} waves; errors {len(r['errors'])}, leaks {len(r['leaks'])}"
    return [
        Row("concurrency", "throughput (actions/s)", ours_s=r["throughput_actions_per_s"], note=note),
        Row("concurrency", "median action (s)", ours_s=r["median_action_s"], note=note),
        Row("concurrency", "slowest action (s)", ours_s=r["slowest_action_s"], note=r["slowest_action"]),
        Row("concurrency", "server peak RSS (MB)", ours_s=r["peak_rss_mb"], note=f"before {r['rss_before_mb']} MB"),
        Row("concurrency", "server RSS after sessions closed (MB)", ours_s=r["rss_after_mb"],
            target=f"growth <= {MEMORY_MARGIN_MB:.0f} MB", note=f"growth between waves {r['rss_growth_between_waves_mb']} MB"),
    ]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=None)
    ap.add_argument("--waves", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--timeout", type=float, default=300, help="seconds one action may take")
    ap.add_argument("--json", type=Path, default=None, help="also write the full result to this file")
    args = ap.parse_args(argv)
    sessions = args.sessions or (20 if args.quick else 24)
    waves = args.waves or (1 if args.quick else 2)
    r = measure(sessions=sessions, waves=waves, quick=args.quick, timeout_s=args.timeout)
    print(table(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return r


if __name__ == "__main__":
    main()
