"""Backend units for the tokens lesson: exact ids, exact segmentation, exact counters."""

from __future__ import annotations

import dataclasses
import re

import pytest

from gen_viz import models
from gen_viz import tokens as T

HARD_TEXTS = [
    "",
    "hello world",
    "unbelievable unbelievable",
    "  leading and trailing spaces  \n\n\tand tabs",
    "Family: 👩\u200d👩\u200d👧 thumbs 👍🏽 rocket🚀",
    "مرحبا بالعالم and עברית mixed with English",
    "日本語のテキスト、中文字符和한국어",
    "def f(x):\n    return x ** 2  # code\r\n",
    '<script>alert("hi")</script> <img src=x onerror=alert(1)>',
    "Héllo WÖRLD, naïve café",
    "a\u200bb\u2028c\u00a0d\u200fe",  # zero-width space, line separator, no-break space, RLM
    "<|endoftext|> typed literally",
    "https://www.example.com/search?q=generative+ai&page=2 3.14159265358979",
]


@pytest.fixture(scope="module")
def gpt2():
    return T.load_tokenizer(T.GPT2_BPE)


@pytest.fixture(scope="module")
def minilm():
    return T.load_tokenizer(T.MINILM)


@pytest.fixture(scope="module")
def tiny_bpe(tmp_path_factory):
    """A byte-level BPE trained the way scripts/train_tiny_gpt2.py trains the bundled one (small vocab)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(["the cat sat on the mat. tokens are puzzle pieces."] * 20, vocab_size=300,
                            min_frequency=1, special_tokens=["<|endoftext|>"], show_progress=False)
    hf = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>")
    return T.handle_from_hf(hf, "tiny-test", "tiny test BPE")


# ---- tokenizers ------------------------------------------------------------------------------------


def test_gpt2_info_and_known_ids(gpt2):
    assert gpt2.info.vocab_size == 50_257
    assert gpt2.info.byte_level and gpt2.info.algorithm == "byte-level BPE"
    assert T.tokenize(gpt2, "hello world").ids.tolist() == [31373, 995]


def test_leading_space_matters(gpt2):
    """The article's example: 'unbelievable' splits, ' unbelievable' is one GPT-2 token."""
    alone = T.tokenize(gpt2, "unbelievable")
    assert [p.label for s in T.segment(alone, gpt2) for p in s.pieces] == ["un", "bel", "iev", "able"]
    spaced = T.tokenize(gpt2, " unbelievable")
    assert spaced.ids.tolist() == [24479]
    assert [p.label for s in T.segment(spaced, gpt2) for p in s.pieces] == ["␣unbelievable"]


def test_minilm_is_wordpiece_without_padding(minilm):
    assert minilm.info.algorithm == "WordPiece" and minilm.info.lowercases
    assert minilm.info.vocab_size == 30_522
    tok = T.tokenize(minilm, "Hello world")  # the shipped tokenizer.json pads to 128: our copy must not
    assert tok.n_tokens == 2


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_ids_match_the_library(gpt2, minilm, text):
    assert T.tokenize(gpt2, text).ids.tolist() == \
        models.load_gpt2_tokenizer()(text, add_special_tokens=False)["input_ids"]
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(models.REGISTRY["minilm"].path)
    assert T.tokenize(minilm, text).ids.tolist() == hf(text, add_special_tokens=False)["input_ids"]


def test_tiny_model_missing_says_not_present_yet(monkeypatch, tmp_path):
    spec = models.REGISTRY[T.TINY]
    monkeypatch.setitem(models.REGISTRY, T.TINY, dataclasses.replace(spec, path=tmp_path / "absent"))
    with pytest.raises(models.ModelUnavailable, match="not present yet"):
        T.load_tokenizer(T.TINY)


def test_bundled_tiny_tokenizer_loads_from_files_only(monkeypatch, tmp_path, tiny_bpe):
    """Once training wrote the tokenizer files, the lesson uses them without loading any weights."""
    from transformers import PreTrainedTokenizerFast

    PreTrainedTokenizerFast(tokenizer_object=tiny_bpe.backend).save_pretrained(tmp_path)
    spec = models.REGISTRY[T.TINY]
    monkeypatch.setitem(models.REGISTRY, T.TINY, dataclasses.replace(spec, path=tmp_path))
    handle = T.load_tokenizer(T.TINY)
    assert handle.info.byte_level and handle.info.vocab_size == tiny_bpe.info.vocab_size
    assert T.tokenize(handle, "the cat").ids.tolist() == T.tokenize(tiny_bpe, "the cat").ids.tolist()


# ---- segmentation ------------------------------------------------------------------------------------


def _check_segments(handle, text):
    tok = T.tokenize(handle, text)
    segs = T.segment(tok, handle)
    assert "".join(s.text for s in segs) == text  # reproduces the text exactly
    pos = 0
    for s in segs:  # contiguous spans, text matches the span
        assert s.start == pos and s.text == text[s.start:s.end]
        pos = s.end
    assert pos == len(text)
    pieces = [p for s in segs for p in s.pieces]
    assert [p.index for p in pieces] == list(range(tok.n_tokens))  # every token once, in order
    assert [p.id for p in pieces] == tok.ids.tolist()
    if handle.info.byte_level:  # honest bytes: a segment's pieces hold exactly its UTF-8 bytes
        for s in segs:
            if not any(p.special for p in s.pieces):
                assert b"".join(handle.piece_bytes(p.id) for p in s.pieces) == s.text.encode("utf-8")
    return tok, segs


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_segmentation_reproduces_text(gpt2, minilm, tiny_bpe, text):
    for handle in (gpt2, minilm, tiny_bpe):
        _check_segments(handle, text)


def test_multibyte_character_shown_as_byte_pieces(gpt2):
    _, segs = _check_segments(gpt2, "😀")
    assert len(segs) == 1 and segs[0].merged
    labels = [p.label for p in segs[0].pieces]
    assert "".join(labels) == "<0xF0><0x9F><0x98><0x80>"
    assert all(re.fullmatch(r"(<0x[0-9A-F]{2}>)+", label) for label in labels)


def test_whole_characters_are_not_marked_partial(gpt2):
    _, segs = _check_segments(gpt2, "naïve café")
    assert not any(s.merged for s in segs)
    assert "".join(p.label for s in segs for p in s.pieces) == "naïve␣café"


def test_wordpiece_gaps_and_unknowns(minilm):
    _, segs = _check_segments(minilm, "Hello  😀 unbelievably")
    assert [s.text for s in segs if s.is_gap] == ["  ", " "]
    unk = [p for s in segs for p in s.pieces if p.unknown]
    assert len(unk) == 1 and unk[0].label == "[UNK]" and not unk[0].special
    assert any(p.label.startswith("##") for s in segs for p in s.pieces)


def test_limit_segments_a_prefix(gpt2):
    text = "one two three four five six"
    tok = T.tokenize(gpt2, text)
    segs = T.segment(tok, gpt2, limit=3)
    assert sum(len(s.pieces) for s in segs) == 3
    assert "".join(s.text for s in segs) == "one two three"


def test_hundred_thousand_characters(gpt2):
    text = ("Tokens are puzzle pieces 🧩 — 1 token ≈ 4 characters. " * 2000)[: T.MAX_TEXT_CHARS]
    tok = T.tokenize(gpt2, text)
    assert tok.n_tokens == len(gpt2.backend.encode(text, add_special_tokens=False).ids)
    assert tok.offsets.shape == (tok.n_tokens, 2) and tok.offsets[-1, 1] == len(text)
    segs = T.segment(tok, gpt2, limit=500)
    assert sum(len(s.pieces) for s in segs) == 500


def test_special_token_typed_literally_is_marked(gpt2):
    _, segs = _check_segments(gpt2, "<|endoftext|> hi")
    assert segs[0].pieces[0].special and segs[0].pieces[0].id == 50256


def test_visible_whitespace():
    assert T.visible(" a\n\t\u200d\u200f") == "␣a↵⇥‹ZWJ›‹U+200F›"
    assert T.bytes_label(b" \xf0\x9f") == "␣<0xF0><0x9F>"
    assert T.bytes_label("ok".encode() + b"\xe4") == "ok<0xE4>"


# ---- counters, cost ------------------------------------------------------------------------------------


def test_counts_on_known_strings():
    c = T.count("hello world", 2)
    assert (c.tokens, c.chars, c.words) == (2, 11, 2)
    assert c.chars_per_token == 5.5 and c.words_per_token == 1.0
    assert c.rule_tokens_from_chars == 2.75 and c.rule_tokens_from_words == pytest.approx(8 / 3)
    assert c.rule_error == pytest.approx(2 / 2.75 - 1)
    empty = T.count("", 0)
    assert (empty.tokens, empty.chars, empty.words, empty.chars_per_token, empty.rule_error) == (0, 0, 0, 0.0, 0.0)
    assert T.count("  a\n b  ", 3).words == 2


def test_cost_and_context_defaults():
    assert T.cost(1_000_000).dollars == pytest.approx(1.75)
    full = T.cost(256_000)
    assert full.window_fraction == 1.0 and full.fits
    over = T.cost(256_001)
    assert not over.fits
    assert T.cost(0).dollars == 0 and T.cost(0).texts_per_dollar == float("inf")
    assert T.cost(10, price_per_million=3.0, context_window=100).window_fraction == pytest.approx(0.1)


# ---- reverse -------------------------------------------------------------------------------------------------


def test_parse_ids_messages():
    parsed = T.parse_ids("[31373, 995] abc -1 50257 1e3 " + "9" * 40, 50_257)
    assert parsed.ids == (31373, 995)
    assert len(parsed.errors) == 5
    assert "'abc' is not a token id" in parsed.errors[0]
    assert "out of range" in parsed.errors[1] and "50,256" in parsed.errors[1]
    assert T.parse_ids("", 100) == T.ParsedIds((), ())
    many = T.parse_ids(" ".join(["1"] * (T.MAX_IDS + 5)), 100)
    assert len(many.ids) == T.MAX_IDS and "first" in many.errors[0]


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_decode_round_trip(gpt2, text):
    ids = T.tokenize(gpt2, text).ids.tolist()
    assert T.decode_ids(gpt2, ids).text == text


def test_decode_half_a_character(gpt2):
    ids = T.tokenize(gpt2, "😀").ids.tolist()
    half = T.decode_ids(gpt2, ids[:1])
    assert half.incomplete and half.text == "\ufffd" * len(half.text)
    assert T.decode_ids(gpt2, ids).incomplete is False


def test_decode_wordpiece(minilm):
    assert T.decode_ids(minilm, T.tokenize(minilm, "Hello world").ids.tolist()).text == "hello world"


def test_why_they_differ_is_one_line(gpt2, minilm):
    line = T.why_they_differ([gpt2.info, minilm.info])
    assert "\n" not in line and "50,257" in line and "30,522" in line and "##" in line
