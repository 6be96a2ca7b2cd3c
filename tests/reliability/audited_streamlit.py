"""``streamlit run`` with a Python audit hook that logs every network call the server process makes.

    python tests/reliability/audited_streamlit.py LOG.jsonl run app.py --server.port 8501 ...

Each ``socket.connect``, ``socket.sendto``, ``socket.getaddrinfo``, ``socket.gethostbyname``,
``socket.bind`` and ``urllib.Request`` event is appended to LOG.jsonl (one JSON object a line) with
its address, before the call happens: a connection that is attempted and fails is logged too.
Native code that opens sockets without Python (none is expected) is caught by strace in the tests.
"""

from __future__ import annotations

import json
import os
import sys
import threading

EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
          "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.bind", "urllib.Request", "http.client.connect"}


def _install(log_path: str) -> None:
    lock = threading.Lock()
    fh = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (lives as long as the process)

    def hook(event: str, args: tuple) -> None:
        if event not in EVENTS:
            return
        try:
            if event in ("socket.connect", "socket.sendto", "socket.bind"):
                sock, addr = args[0], args[-1]
                family = getattr(sock, "family", None)
                rec = {"event": event, "family": int(family) if family is not None else None, "addr": repr(addr)}
            elif event == "socket.sendmsg":
                rec = {"event": event, "addr": repr(args[-1]) if len(args) > 1 else ""}
            elif event == "urllib.Request":
                rec = {"event": event, "addr": str(args[0])}
            else:
                rec = {"event": event, "addr": repr(args[:2])}
            rec["thread"] = threading.current_thread().name
            with lock:
                fh.write(json.dumps(rec) + "\n")
        except Exception:  # an audit hook must never break the call it watches
            pass

    sys.addaudithook(hook)


def main() -> None:
    log_path, *argv = sys.argv[1:]
    _install(log_path)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *argv]
    streamlit_main()


if __name__ == "__main__":
    main()
