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


def open_lesson(page: str, query: dict | None = None, state: dict | None = None, timeout: float = 600) -> AppTest:
    """Run a lesson page as a learner reaches it: app.py first (the sidebar's page links need it as the
    entry point), with ``state`` in the session and ``query`` in the URL, then the page itself."""
    at = app_test("app.py", timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    return at
