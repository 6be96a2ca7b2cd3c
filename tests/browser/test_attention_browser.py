"""The attention lesson in a real browser: the heatmap renders for the default sentence, BertViz draws
offline (no request leaves the machine), and a hostile sentence runs no script anywhere."""

from urllib.parse import quote

from tests.browser.conftest import wait_for_app


def _external_requests(page, app_url):
    seen = []

    def record(request):
        url = request.url
        if not url.startswith((app_url, "data:", "blob:", "about:")):
            seen.append(url)

    page.on("request", record)
    return seen


def test_heatmap_renders_for_default_sentence(app_url, page):
    external = _external_requests(page, app_url)
    page.goto(f"{app_url}/Attention")
    wait_for_app(page, timeout=300_000)  # the first visit may load the model on a saturated machine
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.wait_for()
    # the heatmap is drawn (a plotly heatmap layer) and its axes carry the sentence's tokens
    chart.locator(".heatmaplayer").first.wait_for()
    ticks = chart.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")
    assert "animal" in ticks and "it" in ticks and "tired" in ticks, ticks
    assert not external, external


def test_bertviz_head_view_draws_offline(app_url, page):
    external = _external_requests(page, app_url)
    page.goto(f"{app_url}/Attention")
    wait_for_app(page, timeout=300_000)  # the first visit may load the model on a saturated machine
    page.get_by_role("tab", name="BertViz (interactive)").click()
    frame = page.frame_locator("iframe").first
    # BertViz writes every token as SVG text once d3 and jQuery (inline) have run
    frame.locator("svg text", has_text="animal").first.wait_for(timeout=60_000)
    assert frame.locator("#layer option").count() >= 2
    assert not external, external


def test_hostile_sentence_runs_no_script(app_url, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = "The </script><img src=x onerror=alert(1)> <b>it</b> was tired"
    page.goto(f"{app_url}/Attention?text={quote(hostile)}")
    wait_for_app(page, timeout=300_000)  # the first visit may load the model on a saturated machine
    page.locator("[data-testid='stPlotlyChart'] .heatmaplayer").first.wait_for()
    page.get_by_role("tab", name="BertViz (interactive)").click()
    frame = page.frame_locator("iframe").first
    frame.locator("svg text").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    assert not dialogs, dialogs
    assert page.locator("img[src='x']").count() == 0
    assert frame.locator("img").count() == 0
