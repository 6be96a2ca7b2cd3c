"""AppTest helpers shared by tests/pages/: paths resolved from the repository root."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def app_test(script: str = "app.py", timeout: float = 180) -> AppTest:
    """An AppTest for the home page or a lesson page (``"pages/1_Tokens.py"``)."""
    return AppTest.from_file(str(ROOT / script), default_timeout=timeout)
