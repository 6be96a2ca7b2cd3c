"""The tokens lesson in a real browser: typing shows the right chips live; hostile text stays text."""

from __future__ import annotations

import urllib.parse

from gen_viz import tokens as T

MAIN = "[data-gv-chips='main']"


def _open(page, app_url, query: str = "") -> None:
    page.goto(f"{app_url}/Tokens{query}")
    page.wait_for_selector(f"{MAIN} .gv-chip, {MAIN} .gv-more", timeout=180_000)


def _wait_total(page, n: int) -> None:
    page.wait_for_function(
        f"() => {{ const el = document.querySelector(\"{MAIN}\"); return el && el.dataset.total === '{n}'; }}",
        timeout=120_000,
    )


def test_typing_a_sentence_shows_its_chips(app_url, page):
    sentence = "The animal didn't cross the street because it was too tired."
    expected = T.tokenize(T.load_tokenizer(T.GPT2_BPE), sentence)
    _open(page, app_url)
    box = page.get_by_label("Your text (tokens update as you type)")
    box.fill("")
    box.press_sequentially(sentence, delay=15)  # live box: commits after a short typing pause
    _wait_total(page, expected.n_tokens)
    chips = page.locator(f"{MAIN} .gv-chip")
    assert chips.count() == expected.n_tokens == 13
    assert [int(x) for x in chips.evaluate_all("els => els.map(e => e.dataset.tokenId)")] == expected.ids.tolist()
    assert chips.nth(1).locator(".gv-piece").inner_text() == "␣animal"  # the space is visible
    assert "text=The+animal" in page.url  # shareable link


def test_markup_is_shown_as_text_never_run(app_url, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    payload = '<img src=x onerror="alert(1)"> <script>alert(2)</script>'
    _open(page, app_url, "?text=" + urllib.parse.quote(payload))
    n = T.tokenize(T.load_tokenizer(T.GPT2_BPE), payload).n_tokens
    _wait_total(page, n)
    block = page.locator(MAIN)
    assert block.locator("img, script").count() == 0
    pieces = block.locator(".gv-piece").evaluate_all("els => els.map(e => e.textContent)")
    assert "".join(pieces) == T.visible(payload)  # the markup, character for character, as text
    page.wait_for_timeout(500)
    assert dialogs == []


def test_emoji_example_shows_byte_pieces(app_url, page):
    _open(page, app_url)
    page.get_by_role("button", name="Emoji").click()
    rocket = page.locator(f"{MAIN} .gv-group", has=page.locator(".gv-group-text", has_text="🚀")).first
    rocket.wait_for(timeout=120_000)
    assert rocket.locator(".gv-chip.gv-partial").count() >= 2  # one character, several byte-piece tokens
    assert "<0xF0>" in rocket.locator(".gv-chip").first.inner_text()
