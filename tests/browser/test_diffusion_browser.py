"""The diffusion lesson in a real browser: generate, move the frame slider, see a different frame; a hostile
prompt runs no script; nothing is fetched from outside."""

from urllib.parse import quote

from tests.browser.conftest import wait_for_app

FRAME_LABEL = "Step (0 = pure noise)"


def _image_sources(page) -> list[str]:
    return page.locator("[data-testid='stImage'] img").evaluate_all("els => els.map(e => e.src)")


def _frame_slider(page):
    return page.locator("[data-testid='stSlider']", has_text=FRAME_LABEL).locator("input[type=range]")


def test_generate_then_scrub_shows_another_frame(app_url, page):
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(
        (app_url, "data:", "blob:", "about:")) else None)
    page.goto(f"{app_url}/Diffusion?steps=8")
    wait_for_app(page, timeout=300_000)
    page.get_by_label("Prompt", exact=True).fill("a small blue square on the right")
    page.get_by_label("Prompt", exact=True).press("Enter")
    wait_for_app(page, timeout=300_000)
    page.get_by_role("button", name="Generate").click()
    wait_for_app(page, timeout=300_000)
    page.get_by_text("blue square on the right").first.wait_for()
    slider = _frame_slider(page)
    slider.wait_for()
    assert slider.input_value() == "8"  # the output is shown first
    before = _image_sources(page)
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "() => [...document.querySelectorAll('input[type=range]')].some(s => s.getAttribute('aria-label') === "
        f"'{FRAME_LABEL}' && s.value === '3')")
    page.get_by_text("Step 3 of 8").first.wait_for(timeout=60_000)
    wait_for_app(page)
    after = _image_sources(page)
    assert after and after != before, (before, after)  # only the player's frames can have changed
    assert not external, external


def test_hostile_prompt_runs_no_script(app_url, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script> red circle"
    page.goto(f"{app_url}/Diffusion?steps=5&prompt={quote(hostile)}")
    wait_for_app(page, timeout=300_000)
    _frame_slider(page).wait_for()
    page.wait_for_timeout(1000)
    assert not dialogs, dialogs
    assert page.locator("img[src='x']").count() == 0
    assert page.get_by_text("<img src=x onerror=alert(1)>", exact=False).count() >= 1  # shown as text
