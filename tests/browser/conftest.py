"""Browser tests: fixtures ``app_url``, ``browser`` and ``page`` come from tests/browser_support.py (registered
suite-wide in tests/conftest.py). Only plain helpers are re-exported here; re-exporting the fixtures would
start a second server and a second Playwright instance."""

from tests.browser_support import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    TEXT_BOXES,
    _free_port,
    start_streamlit,
    stop_process,
    wait_for_app,
    wait_healthy,
)
