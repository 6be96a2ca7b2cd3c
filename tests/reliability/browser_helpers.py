"""Small Playwright helpers shared by the reliability browser tests (journeys, hostile input, many users)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import TEXT_BOXES, wait_for_app

ROOT = Path(__file__).resolve().parents[2]
# Streamlit page URL = file name without the number prefix
LESSONS = [re.sub(r"^\d+_", "", p.stem) for p in sorted((ROOT / "pages").glob("[0-9]_*.py"))]
MAIN = "[data-testid='stMain']"
SIDEBAR = "[data-testid='stSidebar']"


# the 2-core CI machine also runs training jobs and other suites: be patient, never flaky
SLOW_MS = 240_000


def settle(pg, timeout: int = SLOW_MS) -> None:
    """Let a rerun start, then wait until Streamlit has finished it."""
    pg.wait_for_timeout(400)
    wait_for_app(pg, timeout=timeout)


def open_page(pg, app_url: str, name: str | None, query: str = "") -> None:
    pg.set_default_timeout(SLOW_MS)
    pg.set_default_navigation_timeout(SLOW_MS)
    pg.goto(f"{app_url}/{name or ''}{query}", wait_until="domcontentloaded")
    settle(pg)


def main_text_box(pg):
    """The page's main text input: the first enabled textarea or text input (not a selectbox's) in the main area."""
    box = pg.locator(TEXT_BOXES).first
    box.wait_for(state="visible", timeout=SLOW_MS)
    return box


def commit_text(pg, box, text: str) -> None:
    """Type ``text`` into ``box`` and make Streamlit take it (Enter for a line, Ctrl+Enter for an area)."""
    is_area = box.evaluate("el => el.tagName") == "TEXTAREA"
    box.click()
    box.fill(text)
    box.press("Control+Enter" if is_area else "Enter")
    settle(pg)


def frames_eval(pg, expr: str) -> list:
    out = []
    for frame in pg.frames:
        try:
            out.append(frame.evaluate(expr))
        except Exception:  # a frame navigating away or detached: nothing to read there
            pass
    return out


def pwned(pg, flag: str = "__pwned") -> bool:
    """Did any script (in the page or any of its iframes) set the flag?"""
    return any(frames_eval(pg, f"() => typeof window.{flag} !== 'undefined' || "
                               f"(window.parent && typeof window.parent.{flag} !== 'undefined')"))


def injected_elements(pg) -> int:
    """Elements that exist only if a payload was rendered as HTML (even when a sanitiser stripped handlers)."""
    expr = """() => document.querySelectorAll('img[src="x"], svg[onload]').length
        + Array.from(document.querySelectorAll('script')).filter(s => s.textContent.trim().startsWith('window.__pwned')).length
        + Array.from(document.querySelectorAll('a[href^="javascript:"]')).length"""
    return sum(c for c in frames_eval(pg, expr) if isinstance(c, int))


def page_text(pg) -> str:
    """The text content of the main area and of every iframe, concatenated: what the page shows as text,
    including the tabs not open right now (a learner reaches them with one click) and chart labels."""
    parts = []
    try:
        parts.append(pg.locator(MAIN).evaluate("e => e.textContent", timeout=10_000))
    except Exception:
        pass
    for frame in pg.frames[1:]:
        try:
            parts.append(frame.evaluate("() => document.body ? document.body.textContent : ''"))
        except Exception:
            pass
    return "\n".join(parts)


def squashed(text: str) -> str:
    """Text with whitespace and the chip separators/space markers removed (token chips split words)."""
    return re.sub(r"[\s\u200b\u2423\u00b7\u21b5|‹›]+", "", text)


def app_errors(pg) -> list[str]:
    """Streamlit exception boxes on the page (a crashed script shows one)."""
    loc = pg.locator("[data-testid='stException']")
    return [loc.nth(i).inner_text() for i in range(loc.count())]


def _sidebar_select(pg, label: str):
    return pg.locator(SIDEBAR).locator("[data-testid='stSelectbox']").filter(has_text=label).first


def select_in_sidebar(pg, label: str, option_part: str) -> None:
    """Pick an option of a sidebar selectbox (a combobox since Streamlit 1.5x) by part of its label."""
    box = _sidebar_select(pg, label)
    box.get_by_role("combobox").click()
    pg.get_by_role("option", name=re.compile(re.escape(option_part))).first.click()
    settle(pg)


def sidebar_choice(pg, label: str) -> str:
    return _sidebar_select(pg, label).get_by_role("combobox").input_value()


def select_text_model(pg, label_part: str) -> None:
    """Pick a text model in the sidebar's 'Text model' selectbox by (part of) its label."""
    select_in_sidebar(pg, "Text model", label_part)


def current_text_model(pg) -> str:
    return sidebar_choice(pg, "Text model")


def go_via_sidebar(pg, name: str) -> None:
    pg.locator(SIDEBAR).get_by_role("link", name=re.compile(name)).first.click()
    pg.wait_for_url(re.compile(f"/{name}"), timeout=SLOW_MS)
    settle(pg)
