"""Shared test set-up: offline, few threads (2-core machines, several suites), repo on sys.path."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the real-browser fixtures (one server, one Playwright instance for the whole run)
pytest_plugins = ["tests.browser_support"]
