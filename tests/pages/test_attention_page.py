"""AppTest for the attention lesson: default run, every control, bad input, the causal path, shared links."""

import json

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from gen_viz import attention as A
from gen_viz import models
from tests.apptest import open_lesson

torch.set_num_threads(1)
PAGE = "pages/2_Attention.py"


def open_page(model="minilm", text=None, **params):
    """Run the page as a learner reaches it: through the app (so the sidebar's page links resolve)."""
    if text is not None:
        params["text"] = text
    at = open_lesson(PAGE, query=params, state={"text_model": model})
    assert not at.exception, at.exception
    return at


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def titles(at):
    return [c["layout"].get("title", {}).get("text", "") for c in charts(at)]


def texts(at):
    return [e.value for kind in ("markdown", "caption", "info", "warning", "text") for e in getattr(at, kind)]


@pytest.fixture(scope="module")
def tiny_gpt2_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-gpt2-page")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=24, vocab_size=50257)).save_pretrained(path)
    models.load_gpt2_tokenizer().save_pretrained(path)
    return str(path)


def test_default_sentence_with_minilm():
    at = open_page()
    assert at.text_area(key="att_text").value == A.DEFAULT_SENTENCE
    heat = charts(at)[0]
    assert heat["data"][0]["type"] == "heatmap" and "animal" in heat["layout"]["xaxis"]["ticktext"]
    assert "Layer 3, head 1" in titles(at)[0]
    assert any("layer 3, head 1" in t and "68%" in t for t in texts(at))  # the it -> animal head, found
    assert at.get("download_button") and at.get("iframe")  # CSV button and the BertViz view
    assert at.query_params["text"] == A.DEFAULT_SENTENCE and at.query_params["layer"] == "3"
    assert any("bidirectional" in t for t in texts(at))


def test_every_control():
    at = open_page()
    at.slider(key="att_layer_6").set_value(0).run()
    assert titles(at)[0].startswith("Layer 0, head 1") and at.query_params["layer"] == "0"
    at.selectbox(key="att_head_12").set_value(-1).run()
    assert "AVERAGE" in titles(at)[0] and at.query_params["head"] == "-1"
    at.toggle(key="att_merge").set_value(True).run()
    assert not at.exception
    at.toggle(key="att_special").set_value(False).run()
    assert "[CLS]" not in charts(at)[0]["layout"]["xaxis"]["ticktext"]
    assert any("Hidden" in c.value for c in at.caption)
    at.toggle(key="att_special").set_value(True).run()
    src = next(s for s in at.selectbox if s.label.startswith("Focus word"))
    dst = next(s for s in at.selectbox if s.label.startswith("…and how much"))
    assert src.value == A.find_token(A.compute_attention(models.load_text_model("minilm"), A.DEFAULT_SENTENCE), "it")
    dst.set_value(8).run()  # "street"
    assert any("street" in t for t in titles(at))
    at.radio(key="att_pair_head").set_value("the layer/head chosen above").run()
    at.text_input(key="att_pair").input("The animal didn't cross the street because it was too busy.").run()
    assert any("Second sentence" in t for t in titles(at)) and "busy" in at.query_params["pair"]
    at.radio(key="att_bv_view").set_value("Model view").run()
    assert at.get("iframe")
    at.multiselect(key="att_bv_layers_6").set_value([]).run()
    assert any("Pick at least one layer" in i.value for i in at.info)
    assert not at.exception


def test_bad_input_empty_and_single_token():
    at = open_page()
    at.text_area(key="att_text").input("   ").run()
    assert any("Type a sentence" in i.value for i in at.info) and not at.get("plotly_chart")
    at.text_area(key="att_text").input("hello").run()
    assert any("single token" in w.value for w in at.warning) and not at.get("plotly_chart")
    assert not at.exception


def test_bad_input_too_long_is_truncated_with_a_notice():
    at = open_page(text="word " * 150)
    assert any("150" in w.value and "dropped" in w.value and "88" in w.value for w in at.warning)
    assert len(charts(at)[0]["layout"]["xaxis"]["ticktext"]) == A.MAX_READABLE_TOKENS
    assert any("too heavy" in i.value for i in at.info)  # the grid falls back to one layer


def test_bad_input_focus_absent_and_html_escaped():
    at = open_page(text="<script>alert(1)</script> <b>bold</b> **stars** [x](http://e.com)", focus="giraffe")
    assert any("giraffe" in i.value and "not in this sentence" in i.value for i in at.info)
    # markdown output never carries the learner's markup or link syntax unescaped
    for md in [*at.markdown, *at.info]:
        assert "<script>" not in md.value and "](http://e.com" not in md.value
    ticks = charts(at)[0]["layout"]["xaxis"]["ticktext"]
    assert any("&lt;" in t for t in ticks) and not any("<script" in t for t in ticks)
    assert any("not in the second sentence" in i.value for i in at.info) or at.get("plotly_chart")


def test_pair_follows_the_first_sentence_until_edited():
    at = open_page()
    assert at.text_input(key="att_pair").value == A.PAIR_SENTENCE
    at.text_area(key="att_text").input("The trophy didn't fit in the suitcase because it was too tired.").run()
    assert at.text_input(key="att_pair").value.endswith("because it was too wide.")
    at.text_input(key="att_pair").input("My own second sentence with it.").run()
    at.text_area(key="att_text").input("Another first sentence, it was tired.").run()
    assert at.text_input(key="att_pair").value == "My own second sentence with it."
    assert not at.exception


def test_url_seeds_layer_head_and_pair():
    at = open_page(text="The cat sat because it was tired.", layer="5", head="11", pair="The cat sat because it was wide.")
    assert at.text_area(key="att_text").value == "The cat sat because it was tired."
    assert titles(at)[0].startswith("Layer 5, head 11")
    assert at.text_input(key="att_pair").value == "The cat sat because it was wide."


def test_causal_model_path(tiny_gpt2_dir):
    at = open_page(model=tiny_gpt2_dir)
    assert any("causal" in c.value for c in at.caption)
    heat = charts(at)[0]
    z = heat["data"][0]["z"]
    assert z[0][1] is None and z[1][0] is not None  # the upper triangle is empty
    att = A.compute_attention(models.load_text_model(tiny_gpt2_dir), A.DEFAULT_SENTENCE)
    best = A.default_head(att)  # the page starts on this model's own best "it -> animal" head
    assert titles(at)[0].startswith(f"Layer {best.layer}, head {best.head}")
    assert not any(t.startswith("[CLS]") for t in heat["layout"]["xaxis"]["ticktext"])
    at.text_area(key="att_text").input(("word " * 40).strip()).run()  # context 24 < 64: cut to the context
    assert any("model's context" in w.value and "16" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.exception


def test_unavailable_model_falls_back_to_minilm():
    at = open_page(model="gpt2")  # not in the local cache here
    assert not at.exception and at.get("plotly_chart")
    if models.REGISTRY["genviz-tiny-gpt2"].path and not (models.REGISTRY["genviz-tiny-gpt2"].path / "config.json").is_file():
        assert any("MiniLM" in w.value for w in at.warning)


def test_bundled_tiny_gpt2_starts_with_pieces_merged():
    spec = models.REGISTRY["genviz-tiny-gpt2"]
    if not (spec.path / "config.json").is_file():
        pytest.skip("the bundled tiny GPT-2 is not trained yet (assets/models/tiny-gpt2)")
    at = open_page(model="genviz-tiny-gpt2")
    assert any("causal" in c.value for c in at.caption)
    # its 8k vocabulary splits "animal" (an + imal): the lesson starts merged so "it -> animal" is found
    assert at.toggle(key="att_merge").value is True
    assert "animal" in charts(at)[0]["layout"]["xaxis"]["ticktext"]
    src = next(s for s in at.selectbox if s.label.startswith("Focus word"))
    dst = next(s for s in at.selectbox if s.label.startswith("…and how much"))
    ticks = charts(at)[0]["layout"]["xaxis"]["ticktext"]
    assert ticks[src.value] == "it" and ticks[dst.value] == "animal"
