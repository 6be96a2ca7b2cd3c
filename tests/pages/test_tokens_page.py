"""AppTest for the tokens lesson: the page runs, every example and every bad input gives no exception,
and what is shown (counters, chips, messages) is right."""

from __future__ import annotations

import re

import pytest

from gen_viz import tokens as T
from tests.apptest import app_test, open_lesson

PAGE = "pages/1_Tokens.py"
LINE, AREA = "_w_tok_line", "_w_tok_area"


@pytest.fixture(scope="module")
def gpt2():
    return T.load_tokenizer(T.GPT2_BPE)


def _page(query: dict | None = None):
    at = open_lesson(PAGE, query=query)
    assert not at.exception, at.exception
    return at


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _chips(at, hook: str = "main") -> str:
    bodies = [h.proto.body for h in at.get("html") if f'data-gv-chips="{hook}"' in h.proto.body]
    assert len(bodies) == 1, f"expected one {hook!r} chip block, found {len(bodies)}"
    return bodies[0]


def _n_chips(body: str) -> int:
    return len(re.findall(r'class="gv-chip[ "]', body))


def _set_text(at, text: str):
    key = AREA if at.session_state["tok_live"] is False or "\n" in at.session_state["tok_text"] else LINE
    widget = at.text_area(key=key) if key == AREA else at.text_input(key=key)
    widget.input(text).run()
    assert not at.exception, at.exception
    return at


def _all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning] \
        + [i.value for i in at.info]
    return "\n".join(parts)


def test_default_run_shows_chips_counters_and_comparison(gpt2):
    at = _page()
    text = at.session_state["tok_text"]
    n = T.tokenize(gpt2, text).n_tokens
    assert _metric(at, "Tokens") == str(n)
    assert _metric(at, "Characters") == str(len(text))
    body = _chips(at)
    assert _n_chips(body) == n and f'data-total="{n}"' in body
    assert "Rule of thumb" in _all_text(at)
    assert _metric(at, "Cost of this text") == f"${n * 1.75 / 1e6:,.6f}"
    # comparison: GPT-2 and MiniLM always; the tiny model either compared or clearly "not present yet"
    table = at.dataframe[0].value
    assert list(table["Tokenizer"])[0].startswith("GPT-2") and "MiniLM WordPiece" in list(table["Tokenizer"])
    tiny_row = table[table["Tokenizer"].str.contains("tiny")]
    assert len(tiny_row) == 1
    assert tiny_row["Tokens"].iloc[0] != "—" or "not present yet" in tiny_row["Note"].iloc[0]
    assert "Each tokenizer learned its own vocabulary" in _all_text(at)
    # reverse box default: GPT-2's "hello world"
    assert at.code[0].value == "hello world"


EXAMPLE_LABELS = ["unbelievable vs ␣unbelievable", "A number", "A URL", "Code", "Emoji", "Non-Latin scripts",
                  "HTML / script"]


@pytest.mark.parametrize("label", EXAMPLE_LABELS)
def test_every_example(gpt2, label):
    at = _page()
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    text = at.session_state["tok_text"]
    n = T.tokenize(gpt2, text).n_tokens
    assert _metric(at, "Tokens") == f"{n:,}"
    assert _n_chips(_chips(at)) == n
    assert any(c.value.startswith("💡") for c in at.caption)  # what to notice
    if "\n" in text:
        assert at.text_area(key=AREA).value == text  # line breaks need the multi-line box
    else:
        assert at.text_input(key=LINE).value == text
    if label.startswith("unbelievable"):
        body = _chips(at)
        assert ">un<" in body and ">bel<" in body and ">iev<" in body and ">␣unbelievable<" in body


BAD_INPUTS = {
    "empty": "",
    "spaces": "   \n\n  ",
    "zwj_emoji": "👩\u200d👩\u200d👧\u200d👦 👨🏽\u200d💻",
    "rtl": "مرحبا بالعالم שלום עולם",
    "cjk": "日本語のテキスト、中文字符和한국어",
    "control": "a\x00b\x07c\x1bd",
    "script": "<script>alert('x')</script>",
    "img": '<img src=x onerror="alert(1)">',
    "special_token": "<|endoftext|>",
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_inputs(gpt2, name):
    at = _set_text(_page(), BAD_INPUTS[name])
    body = _chips(at)
    cleaned = at.session_state["tok_text"]
    if name == "control":
        assert any("Removed 3 invisible control character" in i.value for i in at.info)
        cleaned = "abcd"
    n = T.tokenize(gpt2, cleaned).n_tokens
    assert _n_chips(body) == n
    assert _metric(at, "Tokens") == f"{n:,}"
    # nothing executable reaches the page: markup typed by the learner is escaped text
    assert "<script" not in body and "<img" not in body and "onerror=" not in body.replace("onerror=&quot;", "")
    if name == "script":
        assert "&lt;" in body and "script" in body
    if name == "empty":
        assert _metric(at, "Characters per token") == "0.00" and "(no tokens)" in body
    if name == "spaces":  # GPT-2 keeps spaces and newlines as tokens
        assert n > 0 and "↵" in body


def test_hundred_thousand_characters(gpt2):
    text = ("Tokens are puzzle pieces. " * 5000)[: T.MAX_TEXT_CHARS]
    at = _page()
    at.toggle(key="tok_live").set_value(False).run()
    _set_text(at, text)
    n = T.tokenize(gpt2, text).n_tokens
    assert _metric(at, "Tokens") == f"{n:,}"
    assert any(f"Showing 600 of {n:,} tokens" in w.value for w in at.warning)
    body = _chips(at)
    assert _n_chips(body) == 600 and f'data-total="{n}"' in body and "more tokens not drawn" in body
    assert any("cannot hold more than" in c.value for c in at.caption)  # no truncated share link


def test_boxes_cap_the_length():
    at = _page()
    assert at.text_input(key=LINE).max_chars == T.MAX_TEXT_CHARS
    at.toggle(key="tok_live").set_value(False).run()
    assert at.text_area(key=AREA).max_chars == T.MAX_TEXT_CHARS


def test_hostile_link_is_cleaned():
    at = _page({"text": "bad\x00 <b>link</b> " + "y" * 5000})
    text = at.session_state["tok_text"]
    assert "\x00" not in text and len(text) <= 2000
    assert "<b" not in _chips(at)


def test_switch_tokenizer_to_minilm():
    at = _page()
    at.radio(key="tok_choice").set_value(T.MINILM).run()
    assert not at.exception
    minilm = T.load_tokenizer(T.MINILM)
    n = T.tokenize(minilm, at.session_state["tok_text"]).n_tokens
    assert _metric(at, "Tokens") == str(n)
    assert 'data-tokenizer="minilm"' in _chips(at)
    assert at.query_params.get("tok") in ("minilm", ["minilm"])


def test_cost_and_window_inputs(gpt2):
    at = _set_text(_page(), "hello world")
    at.number_input(key="tok_price").set_value(10.0).run()
    at.number_input(key="tok_window").set_value(4).run()
    assert not at.exception
    assert _metric(at, "Cost of this text") == "$0.000020"
    assert _metric(at, "Share of the context window") == "50.000%"
    at.number_input(key="tok_window").set_value(1).run()
    assert "does not fit" in _all_text(at)


def test_reverse_box_messages(gpt2):
    at = _page()
    at.text_input(key="tok_ids").input("hello, -3, 50257, 31373").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "'hello' is not a token id" in warnings
    assert "-3 is out of range" in warnings and "50257 is out of range" in warnings and "50,256" in warnings
    assert at.code[0].value == "hello"
    at.text_input(key="tok_ids").input("12520").run()  # the first bytes of an emoji only
    assert any("do not form whole characters" in i.value for i in at.info)
    at.text_input(key="tok_ids").input("").run()
    assert not at.exception and not at.code


def test_text_comes_from_the_link_and_goes_back(gpt2):
    at = _page({"text": "hello world"})
    assert at.session_state["tok_text"] == "hello world"
    assert _metric(at, "Tokens") == "2"
    _set_text(at, "unbelievable")
    assert at.query_params["text"] in ("unbelievable", ["unbelievable"])


def test_multiline_box_when_live_is_off():
    at = _page()
    at.toggle(key="tok_live").set_value(False).run()
    assert not at.exception and at.text_area(key=AREA).value == at.session_state["tok_text"]
    _set_text(at, "line one\nline two")
    body = _chips(at)
    assert "↵" in body and "gv-break" in body


def test_local_sidebar_model_gets_its_own_column(tmp_path):
    """A sidebar model with its own tokenizer (here a local directory) joins the comparison."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(["tokens are puzzle pieces"] * 20, vocab_size=280, min_frequency=1,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    hf = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>")
    hf.save_pretrained(tmp_path)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=1, n_embd=8, n_positions=32, vocab_size=len(hf))) \
        .save_pretrained(tmp_path)
    at = app_test()
    at.default_timeout = 600
    at.session_state["text_model"] = str(tmp_path)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert any(o.startswith("Local model") for o in at.radio(key="tok_choice").options)
    assert any("Local model" in t for t in at.dataframe[0].value["Tokenizer"])
    at.radio(key="tok_choice").set_value(str(tmp_path)).run()
    assert not at.exception, at.exception
    n = T.tokenize(T.handle_from_hf(hf, "x", "x"), at.session_state["tok_text"]).n_tokens
    assert _metric(at, "Tokens") == str(n) and _n_chips(_chips(at)) == n
