"""Drive the whole app once and record every network attempt: run inside a loopback-only namespace.

    unshare --net -- sh -c 'ip link set lo up && python -m tests.reliability.offline_driver OUT_DIR'

Starts ``streamlit run app.py`` on 127.0.0.1 under a Python audit hook (audited_streamlit.py) and,
when available, strace (every connect() syscall of the server and its children, native code
included); opens the home page and every lesson page in Chromium, types into each main text box and
clicks each page's first button; records every request the browser makes (iframes included),
page errors, Streamlit exception boxes and what each page drew. Writes OUT_DIR/result.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TEXT_BOXES, _free_port, stop_process, wait_healthy  # noqa: E402
from tests.reliability.browser_helpers import LESSONS, MAIN, app_errors, settle  # noqa: E402

SENTENCE = "The animal didn't cross the street because it was too tired."


def start_server(out: Path, port: int, use_strace: bool) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "tests" / "reliability" / "audited_streamlit.py"), str(out / "audit.jsonl"),
           "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.headless", "true"]
    if use_strace:
        cmd = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg", "-e", "signal=none",
               "-o", str(out / "strace.log"), *cmd]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env.pop("GENVIZ_ALLOW_DOWNLOAD", None)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(out / "server.log", "wb"), stderr=subprocess.STDOUT)


def drive(url: str, progress: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    requests, page_errors, pages = [], [], {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.on("request", lambda r: requests.append(r.url))
        pg = context.new_page()
        pg.set_default_timeout(240_000)
        pg.on("pageerror", lambda e: page_errors.append(str(e)[:300]))
        for name in ["", *LESSONS]:
            label = name or "Home"
            info: dict = {}
            t0 = time.perf_counter()
            try:
                pg.goto(f"{url}/{name}", wait_until="domcontentloaded", timeout=240_000)
                settle(pg, timeout=180_000)
                box = pg.locator(TEXT_BOXES)
                if box.count():
                    first = box.first
                    first.click()
                    first.fill(SENTENCE)
                    first.press("Control+Enter" if first.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")
                    settle(pg, timeout=180_000)
                    info["typed"] = True
                buttons = pg.locator(f"{MAIN} [data-testid='stBaseButton-primary']:visible, "
                                     f"{MAIN} [data-testid='stBaseButton-secondary']:visible")
                if name and buttons.count():
                    buttons.first.click()
                    settle(pg, timeout=180_000)
                    info["clicked"] = True
                pg.wait_for_timeout(1500)  # let iframes (bertviz, components) load their scripts
                info["errors"] = app_errors(pg)
                info["alerts"] = [a[:200] for a in pg.locator(f"{MAIN} [data-testid='stAlertContentError']").all_inner_texts()]
                info["charts"] = pg.locator(f"{MAIN} .js-plotly-plot").count()
                info["images"] = pg.locator(f"{MAIN} img").count()
                iframes = []
                for frame in pg.frames[1:]:
                    try:
                        iframes.append(frame.evaluate(
                            "() => ({html: document.documentElement.outerHTML.length,"
                            " svg: document.querySelectorAll('svg').length,"
                            " text: (document.body ? document.body.innerText : '').slice(0, 200)})"))
                    except Exception as err:
                        iframes.append({"error": str(err)[:200]})
                info["iframes"] = iframes
                info["title"] = pg.locator(f"{MAIN} h1").first.inner_text() if pg.locator(f"{MAIN} h1").count() else ""
            except Exception as err:
                info["driver_error"] = f"{type(err).__name__}: {str(err)[:300]}"
            info["seconds"] = round(time.perf_counter() - t0, 1)
            pages[label] = info
            if progress is not None:  # partial results survive a timeout
                progress.write_text(json.dumps({"pages": pages, "page_errors": page_errors}, indent=1))
        context.close()
        browser.close()
    return {"requests": requests, "page_errors": page_errors, "pages": pages}


LOOPBACK = re.compile(r"^(127\.|::1$|::ffff:127\.|localhost$)")


def outbound_from_audit(path: Path) -> list[dict]:
    bad = []
    if not path.exists():
        return [{"event": "missing audit log"}]
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        ev, addr = rec["event"], rec.get("addr", "")
        if ev in ("socket.connect", "socket.sendto"):
            if rec.get("family") == 1:  # AF_UNIX
                continue
            m = re.match(r"^\('([^']*)'", addr)
            host = m.group(1) if m else addr
            if not LOOPBACK.match(host):
                bad.append(rec)
        elif ev in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            m = re.match(r"^\('([^']*)'|^\(b'([^']*)'", addr)
            host = (m.group(1) or m.group(2)) if m else addr
            if host and not LOOPBACK.match(host) and host not in ("0.0.0.0", "::", ""):
                bad.append(rec)  # a name lookup is the first step of an outbound connection
        elif ev in ("urllib.Request", "http.client.connect"):
            if "127.0.0.1" not in addr and "localhost" not in addr:
                bad.append(rec)
    return bad


def outbound_from_strace(path: Path) -> list[str]:
    if not path.exists():
        return []
    bad = []
    for line in path.read_text(errors="replace").splitlines():
        if "connect(" not in line and "sendto(" not in line and "sendmsg(" not in line:
            continue
        if "AF_UNIX" in line or "AF_NETLINK" in line:
            continue
        if ("AF_INET" not in line and "AF_INET6" not in line) or "sa_family" not in line:
            continue  # sendto on a connected socket: no address, already covered by its connect()
        if re.search(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"|inet_pton\(AF_INET6, "::ffff:127\.', line):
            continue
        bad.append(line.strip()[:300])
    return bad


def main() -> None:
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    use_strace = shutil.which("strace") is not None and os.environ.get("GENVIZ_NO_STRACE") != "1"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    result: dict = {"strace": use_strace, "url": url}
    proc = start_server(out, port, use_strace)
    try:
        result["healthy_s"] = round(wait_healthy(url, proc, timeout=180), 1)
        result.update(drive(url, out / "progress.json"))
    except Exception as err:
        result["driver_error"] = f"{type(err).__name__}: {err}"
    finally:
        stop_process(proc)
    audit = out / "audit.jsonl"
    result["audit_events"] = len(audit.read_text().splitlines()) if audit.exists() else 0
    result["outbound_python"] = outbound_from_audit(audit)
    result["outbound_syscalls"] = outbound_from_strace(out / "strace.log")
    result["external_requests"] = [u for u in result.get("requests", [])
                                   if not re.match(rf"^(https?://127\.0\.0\.1:{port}/|data:|blob:|about:)", u)]
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("outbound_python", "outbound_syscalls", "external_requests")}, indent=1))


if __name__ == "__main__":
    main()
