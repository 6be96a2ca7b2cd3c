"""The bundled GPT-2 tokenizer gives GPT-2's real ids."""

import pytest

from gen_viz import models


@pytest.fixture(scope="module")
def tok():
    return models.load_gpt2_tokenizer()


def test_hello_world(tok):
    assert tok.encode("hello world") == [31373, 995]


def test_tired_sentence(tok):
    ids = tok.encode("The animal didn't cross the street because it was too tired.")
    assert len(ids) == 13
    assert ids[:4] == [464, 5044, 1422, 470]


def test_vocab_and_end_token(tok):
    assert len(tok) == 50257
    assert tok.eos_token_id == 50256
    assert tok.convert_ids_to_tokens(50256) == "<|endoftext|>"


def test_leading_space_matters(tok):
    assert [tok.decode([i]) for i in tok.encode("unbelievable")] == ["un", "bel", "iev", "able"]
    assert len(tok.encode(" unbelievable")) == 1


@pytest.mark.parametrize("text", ["héllo wörld, naïve café", "日本語のテキストと中文", "family 👩‍👩‍👧 ok 🎉", "tabs\tand\nnewlines  "])
def test_roundtrip(tok, text):
    assert tok.decode(tok.encode(text)) == text
