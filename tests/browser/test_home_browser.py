"""Smoke test in a real browser: the home page loads and shows the five lesson cards."""

from tests.browser.conftest import wait_for_app


def test_home_shows_lesson_cards(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("GenViz: watch generative AI work, live").wait_for()
    for title in ["Tokens", "Attention", "Generation", "Diffusion", "Embeddings"]:
        page.get_by_role("link", name=f"Open {title} →").first.wait_for()
    assert page.get_by_text("The security guard", exact=False).count() >= 1
