"""Real browser: the embeddings lesson draws its default map and an analogy, and shows typed HTML as text."""

from __future__ import annotations

from tests.browser.conftest import wait_for_app

MAP = ".js-plotly-plot"


def _map_labels(page) -> list[str]:
    return page.locator(f"{MAP} g.textpoint text").all_text_contents()


def test_default_map_and_analogy_render(app_url, page):
    page.goto(f"{app_url}/Embeddings")
    wait_for_app(page)
    page.get_by_text("The map: similar words sit close together").wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot g.textpoint text')].some(t => t.textContent === 'kitten')",
        timeout=120_000)
    labels = _map_labels(page)
    assert {"cat", "kitten", "spaceship", "king", "queen"} <= set(labels)
    assert page.get_by_text("PCA", exact=False).count() >= 1
    page.get_by_text("king − man + woman ≈ queen").wait_for(timeout=60_000)

    page.get_by_role("button", name="uncle - man + woman").click()
    page.get_by_text("uncle − man + woman ≈ aunt").wait_for(timeout=60_000)
    assert "analogy=uncle" in page.url


def test_typed_html_is_shown_as_text_on_the_map(app_url, page):
    page.goto(f"{app_url}/Embeddings?sets=none")
    wait_for_app(page)
    box = page.get_by_label("Your own words (comma separated)")
    box.fill("<b>pizza</b>, pasta")
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot g.textpoint text')]"
        ".some(t => t.textContent === '<b>pizza</b>*')", timeout=60_000)
    # the tag stayed text: no bold element was created inside the label
    assert page.locator(f"{MAP} g.textpoint text b").count() == 0
    assert page.locator(f"{MAP} g.textpoint text", has_text="pasta").count() == 1
