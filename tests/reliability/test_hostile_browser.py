"""In a real browser, hostile payloads never execute and show as text.

Each lesson page's main text input gets payloads whose only effect, if any page rendered them as
HTML, would be to set ``window.__pwned`` (in the page or any iframe: bertviz views and components
live in iframes). After each one: the flag is still undefined, no ``<img src=x>``/``<svg onload>``
element or injected script exists, the app shows no exception, and the payload's characters appear
in the page as text. The same payloads arrive through the URL (shareable links), and a lone
surrogate and invalid UTF-8 in a link leave the page working.
"""

from __future__ import annotations

import urllib.parse

import pytest

from tests.reliability.browser_helpers import (
    LESSONS,
    app_errors,
    commit_text,
    injected_elements,
    main_text_box,
    open_page,
    pwned,
    settle,
    squashed,
    visible_text,
)
from tests.reliability.hostile_inputs import XSS

# what must be readable on the page afterwards (token chips may split words; whitespace is squashed)
EVIDENCE = {"img_onerror": "onerror", "script": "script", "svg_onload": "onload", "script_close": "script"}
# the diffusion lesson's prompt is read by a text encoder and is not necessarily echoed back as text
ECHOES = {name for name in LESSONS if name != "Diffusion"}


def _check_clean(pg, where: str) -> None:
    assert not pwned(pg), f"{where}: a payload executed (window.__pwned is set)"
    assert injected_elements(pg) == 0, f"{where}: the payload was rendered as HTML elements"
    errors = app_errors(pg)
    assert not errors, f"{where}: the app shows an exception: {errors[0][:300]}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_typed_payloads_never_execute(app_url, page, lesson):
    open_page(page, app_url, lesson)
    _check_clean(page, f"{lesson} (default)")
    for name, payload in XSS.items():
        box = main_text_box(page)
        commit_text(page, box, payload)
        _check_clean(page, f"{lesson} <- {name}")
        if lesson in ECHOES:
            shown = squashed(visible_text(page)).lower()
            assert "<" in shown and EVIDENCE[name] in shown, \
                f"{lesson} <- {name}: the payload is not shown as text on the page"


@pytest.mark.parametrize("lesson", LESSONS)
def test_payloads_in_links_never_execute(app_url, page, lesson):
    names = ["text", "q", "prompt", "word", "words", "pair", "focus", "model", "seed", "step"]
    for name, payload in XSS.items():
        query = "?" + urllib.parse.urlencode({n: payload for n in names})
        open_page(page, app_url, lesson, query)
        _check_clean(page, f"{lesson}{query[:60]}")
    # what a URL can carry that a widget cannot: an encoded lone surrogate, invalid UTF-8, NUL, 100k chars
    for raw in ("%ED%A0%80", "%FF%FE%00", "%F0%9F", "%00%01%1B", "x" * 20_000):
        query = "?" + "&".join(f"{n}={raw}" for n in ("text", "q", "prompt", "seed"))
        open_page(page, app_url, lesson, query)
        _check_clean(page, f"{lesson}?...={raw[:12]}")


def test_lone_surrogate_typed_in_browser_keeps_the_session_alive(app_url, page):
    """A lone surrogate set from JavaScript reaches the websocket encoder; the session must go on working."""
    lesson = LESSONS[0]
    open_page(page, app_url, lesson)
    box = main_text_box(page)
    box.evaluate("el => { el.focus(); }")
    page.keyboard.insert_text("a\ud800b")
    box.press("Control+Enter" if box.evaluate("el => el.tagName") == "TEXTAREA" else "Enter")
    settle(page)
    _check_clean(page, f"{lesson} <- lone surrogate")
    commit_text(page, main_text_box(page), "after the surrogate")
    _check_clean(page, f"{lesson} after a lone surrogate")
    assert "after" in squashed(visible_text(page)).lower(), "the page stopped updating after a lone surrogate"
