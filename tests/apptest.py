"""AppTest helpers shared by tests/pages/: paths resolved from the repository root."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def app_test(script: str = "app.py", timeout: float = 600) -> AppTest:
    """An AppTest for a script. Lesson pages: start at app.py and ``at.switch_page("pages/1_Tokens.py")``
    (the sidebar's page links need app.py as the entry point).

    The generous timeout is for CI on a busy 2-core machine, not a performance claim.
    """
    return AppTest.from_file(str(ROOT / script), default_timeout=timeout)
