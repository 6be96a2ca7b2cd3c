"""In a real browser, hostile payloads never execute and show as text.

Each lesson page's main text input gets payloads whose only effect, if any page rendered them as
HTML, would be to set ``window.__pwned`` (in the page or any iframe: bertviz views and components
live in iframes). After each one: the flag is still undefined, no ``<img src=x>``/``<svg onload>``
element or injected script exists, the app shows no exception, and the payload's characters appear
in the page as text (its text content: the Generation prompt is drawn in the step-by-step tab). The
same payloads arrive through the URL (shareable links); a lone surrogate, invalid UTF-8 and 20,000
characters in a link leave the page working, and an oversized link is refused cleanly.
"""

from __future__ import annotations

import urllib.parse

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.reliability.browser_helpers import (
    LESSONS,
    app_errors,
    commit_text,
    injected_elements,
    main_text_box,
    open_page,
    page_text,
    pwned,
    settle,
    squashed,
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
            shown = squashed(page_text(page)).lower()
            assert "<" in shown and EVIDENCE[name] in shown, \
                f"{lesson} <- {name}: the payload is not shown as text on the page"


@pytest.mark.parametrize("lesson", LESSONS)
def test_payloads_in_links_never_execute(app_url, page, lesson):
    names = ["text", "q", "prompt", "word", "words", "pair", "focus", "model", "seed", "step"]
    for name, payload in XSS.items():
        query = "?" + urllib.parse.urlencode({n: payload for n in names})
        open_page(page, app_url, lesson, query)
        _check_clean(page, f"{lesson}{query[:60]}")
    # what a URL can carry that a widget cannot: an encoded lone surrogate, invalid UTF-8, NUL, controls
    for raw in ("%ED%A0%80", "%FF%FE%00", "%F0%9F", "%00%01%1B"):
        query = "?" + "&".join(f"{n}={raw}" for n in ("text", "q", "prompt", "seed"))
        open_page(page, app_url, lesson, query)
        _check_clean(page, f"{lesson}?...={raw[:12]}")
    # a long link: 20,000 characters in every text parameter the page reads (the app caps what it takes)
    for name in ("text", "prompt", "words"):
        open_page(page, app_url, lesson, f"?{name}={'x' * 20_000}")
        _check_clean(page, f"{lesson}?{name}=<20,000 x>")


def test_an_oversized_link_is_refused_and_the_app_goes_on(app_url, page):
    """An 80,000-character link: Tornado, Streamlit's web server, may answer "400 Invalid HTTP request" before
    the app runs (it did here once Chromium's request headers, the Referer included, grew past its limit), or
    the page caps the text. Either way nothing executes, and the next normal link works."""
    lesson = LESSONS[0]
    open_page(page, app_url, lesson)
    link = f"{app_url}/{lesson}?" + "&".join(f"{n}={'x' * 20_000}" for n in ("text", "q", "prompt", "seed"))
    try:
        response = page.goto(link, wait_until="domcontentloaded")
        assert response is not None and response.status in (200, 400, 414, 431), response and response.status
    except PlaywrightError as err:  # Chromium reports the server's bare 400 as a failed navigation
        assert "ERR_HTTP_RESPONSE_CODE_FAILURE" in str(err), str(err)[:300]
    assert not pwned(page)
    page.wait_for_timeout(1000)  # let Chromium finish showing its own error page before we navigate on
    page.goto("about:blank")
    open_page(page, app_url, lesson, "?text=still+working")
    _check_clean(page, f"{lesson} after an oversized link")
    for _ in range(60):  # the chips can be drawn a moment after the run ends: poll, do not race
        shown = squashed(page_text(page)).lower()
        if "still" in shown and "working" in shown:
            break
        page.wait_for_timeout(1000)
    assert "still" in shown and "working" in shown, "the app did not come back after an oversized link"


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
    assert "after" in squashed(page_text(page)).lower(), "the page stopped updating after a lone surrogate"
