"""Hostile text becomes clean text plus a notice, never an exception."""

from gen_viz.safe_text import clean_text


def test_plain_text_untouched():
    c = clean_text("The animal didn't cross.\n\tTabs stay.", 1000)
    assert c.text == "The animal didn't cross.\n\tTabs stay." and c.notices == []


def test_nul_and_controls_removed_with_notice():
    c = clean_text("a\x00b\x07c\x1bd", 100)
    assert c.text == "abcd"
    assert "control" in c.notices[0]


def test_lone_surrogate_repaired():
    c = clean_text("ok \ud800 fine", 100)
    assert c.text == "ok ? fine" and c.text.encode("utf-8")
    assert "surrogate" in c.notices[0]


def test_cap_keeps_first_characters():
    c = clean_text("x" * 10, 4)
    assert c.text == "xxxx" and "10" in c.notices[0]


def test_emoji_rtl_cjk_kept():
    s = "👩‍👩‍👧 שלום 中文 مرحبا"
    assert clean_text(s, 100).text == s


def test_none_and_numbers():
    assert clean_text(None, 5).text == ""
    assert clean_text(12345678, 5).text == "12345"
