"""Network policy: offline unless the operator opts in, and never hang.

GenViz ships everything it needs. Downloads of optional bigger models happen
only when BOTH hold:

* the environment variable ``GENVIZ_ALLOW_DOWNLOAD=1`` was set when the server
  started (the Hugging Face libraries read ``HF_HUB_OFFLINE`` at import time, so
  this cannot be switched on later), and
* the learner ticks "allow downloads" in the sidebar.

Otherwise ``HF_HUB_OFFLINE=1`` is set and every load is local-files-only.
"""

from __future__ import annotations

import os
import socket

HUB_HOST = "huggingface.co"


def downloads_enabled_by_env() -> bool:
    return os.environ.get("GENVIZ_ALLOW_DOWNLOAD", "").strip().lower() in {"1", "true", "yes"}


def apply_offline_defaults() -> None:
    """Set the Hugging Face network variables (idempotent; explicit user settings win)."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # a short network timeout so an unreachable hub answers in seconds, not minutes
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "3")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
    if not downloads_enabled_by_env():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def hub_reachable(timeout: float = 3.0) -> bool:
    """A cheap TCP check before any download, so an offline machine fails fast and clearly."""
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False
