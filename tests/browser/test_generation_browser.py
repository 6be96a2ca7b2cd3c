"""The generation lesson in a real browser: the next-token chart renders, "Play" streams a few steps of
the loop into the history table, and a hostile prompt runs no script."""

from urllib.parse import quote

from tests.browser.conftest import wait_for_app

SLOW = 180_000  # ms: the shared 2-core machines can be very busy

def test_next_token_chart_and_play_a_few_steps(app_url, page):
    page.set_default_timeout(SLOW)
    page.goto(f"{app_url}/Generation?seed=5")
    wait_for_app(page, timeout=SLOW)
    page.locator("[data-testid='stPlotlyChart']").first.wait_for()
    assert page.locator("[data-testid='stPlotlyChart'] .barlayer").count() >= 1
    page.get_by_role("tab", name="2. Step by step").click()
    page.get_by_role("button", name="Next token").click()
    page.locator("span[title^='step 1:']").first.wait_for()  # one iteration of the loop, as a token chip
    wait_for_app(page, timeout=SLOW)
    page.get_by_role("button", name="Play 16 tokens").click()
    # "play" streams: chips appear step after step; wait for the last one (or the end token)
    page.locator("span[title^='step 3:']").first.wait_for()
    wait_for_app(page, timeout=SLOW)
    page.locator("[data-testid='stDataFrame']").first.wait_for()  # the history, one row per iteration
    # distinct steps shown (the Branches tab shows the same line again)
    titles = page.locator("span[title^='step ']").evaluate_all("els => els.map(e => e.title.split(':')[0])")
    assert 3 <= len(set(titles)) <= 17, titles


def test_hostile_prompt_runs_no_script(app_url, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = "</script><img src=x onerror=alert(1)> <b>bold</b> the"
    page.set_default_timeout(SLOW)
    page.goto(f"{app_url}/Generation?prompt={quote(hostile)}")
    wait_for_app(page, timeout=SLOW)
    page.get_by_role("tab", name="2. Step by step").click()
    page.get_by_role("button", name="Next token").click()
    page.locator("span[title^='step 1:']").first.wait_for()
    page.wait_for_timeout(500)
    assert not dialogs, dialogs
    assert page.locator("img[src='x']").count() == 0
    assert page.get_by_text("<img src=x onerror=alert(1)>", exact=False).count() >= 1
