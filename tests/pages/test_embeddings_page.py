"""AppTest for the embeddings lesson (issue 9): every control, bad input, shared links, fallbacks.

The page is opened through app.py (``switch_page``), as Streamlit serves it: the shared
sidebar links to app.py, which only resolves when app.py is the entry point.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from gen_viz import models
from gen_viz import word_sets as ws
from gen_viz.ui import embeddings as lesson
from gen_viz.ui import loaders
from tests.apptest import app_test

torch.set_num_threads(1)
PAGE = "pages/5_Embeddings.py"


def open_page(**params):
    at = app_test("app.py", timeout=600)  # generous: the first run loads MiniLM on a shared 2-core machine
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def run(at):
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def map_spec(at) -> dict | None:
    return next((c for c in charts(at) if "words," in str(c["layout"].get("title", ""))), None)


def texts(at, kind: str) -> str:
    return "\n".join(el.value for el in getattr(at, kind))


@pytest.fixture(scope="module")
def default_page():
    return open_page()


# ---- the default view --------------------------------------------------------------------------


def test_default_view_shows_map_neighbours_heatmap_and_analogy(default_page):
    at = default_page
    assert at.selectbox(key=lesson.K_SOURCE).value == "minilm"
    spec = map_spec(at)
    assert spec is not None, "no map"
    names = [t["name"] for t in spec["data"]]
    assert names == ["The article: cat, kitten, spaceship", "Animals", "Royalty and family"]
    labels = [w for t in spec["data"] for w in t["text"]]
    assert {"cat", "kitten", "spaceship", "king", "queen"} <= set(labels)
    hover = next(h for t in spec["data"] for h in t["hovertext"] if h.startswith("<b>cat</b>"))
    assert "nearest:" in hover and "cats 0.82" in hover  # true neighbours over the whole vocabulary
    captions = texts(at, "caption")
    assert "30,522 rows" in captions and "384 numbers" in captions
    assert "**PCA**" in captions and "2D always distorts" in captions
    assert "king − man + woman ≈ queen" in texts(at, "markdown")
    titles = [str(c["layout"].get("title", "")) for c in charts(at)]
    assert any("Nearest words to “cat”" in t for t in titles) and any("All 384 numbers" in t for t in titles)
    assert at.radio(key=lesson.K_METHOD).value == "pca"
    assert len(at.get("download_button")) == 1
    assert dict(at.query_params) == {}  # defaults keep the link clean


# ---- the map controls --------------------------------------------------------------------------


def test_sets_pills_and_own_words_with_html_duplicates_and_unknowns():
    at = open_page()
    at.pills(key=lesson.K_SETS).set_value(["Colours"])
    at.text_input(key=lesson.K_WORDS).set_value("<b>cat</b>, dog, Dog, DOG, 🙂, Red, , ,")
    run(at)
    spec = map_spec(at)
    assert [t["name"] for t in spec["data"]] == ["Your words", "Colours"]
    own = spec["data"][0]["text"]
    assert own[0] == "&lt;b&gt;cat&lt;/b&gt;*"  # escaped for plotly, flagged as several tokens
    assert "<b>cat</b>" not in json.dumps(spec["data"][0]["text"])
    assert "Not on the map" in texts(at, "warning") and "🙂" in texts(at, "warning")
    infos = texts(at, "info")
    assert "Repeated words shown once" in infos and "mean of the pieces" in infos
    assert "Already on the map, shown once" in infos  # "Red" typed, "red" in Colours: one point
    assert sum(len(t["x"]) for t in spec["data"]) == 2 + len(ws.WORD_SETS["Colours"])
    assert at.query_params["words"].startswith("<b>cat</b>") and at.query_params["sets"] == "colours"


def test_no_words_says_so():
    at = open_page()
    at.pills(key=lesson.K_SETS).set_value([])
    run(at)
    assert map_spec(at) is None
    assert "Pick a word set" in texts(at, "info") and "at least two words" in texts(at, "info")
    assert at.query_params["sets"] == "none"


def test_too_many_words_are_capped_with_a_notice():
    at = open_page()
    at.text_input(key=lesson.K_WORDS).set_value(", ".join(f"w{i}" for i in range(300)))
    run(at)
    assert f"at most {lesson.MAX_MAP_WORDS}" in texts(at, "info")
    spec = map_spec(at)
    assert sum(len(t["x"]) for t in spec["data"]) <= lesson.MAX_MAP_WORDS
    assert f"first {lesson.HEATMAP_MAX}" in texts(at, "info")


@pytest.mark.parametrize("method,label", [("tsne", "t-SNE"), ("umap", "UMAP")])
def test_tsne_and_umap_state_what_they_do(method, label):
    at = open_page()
    at.radio(key=lesson.K_METHOD).set_value(method)
    run(at)
    spec = map_spec(at)
    assert f"flattened to 2 with {label}" in spec["layout"]["title"]["text"]
    assert f"**{label}** keeps each word's close neighbours close" in texts(at, "caption")
    assert at.query_params["proj"] == method
    at.number_input(key=lesson.K_SEED).set_value(7)
    run(at)
    assert map_spec(at) is not None


def test_too_few_points_for_tsne_falls_back_to_pca():
    at = open_page()
    at.pills(key=lesson.K_SETS).set_value([])
    at.text_input(key=lesson.K_WORDS).set_value("cat, dog, cow")
    at.radio(key=lesson.K_METHOD).set_value("tsne")
    run(at)
    assert "t-SNE needs at least 5 points and there are 3: showing PCA instead." in texts(at, "warning")
    assert "with PCA" in map_spec(at)["layout"]["title"]["text"]


def test_background_words_add_grey_context():
    at = open_page()
    at.selectbox(key=lesson.K_BG).set_value(1000)
    run(at)
    spec = map_spec(at)
    assert spec["data"][0]["name"] == "common words (context)" and len(spec["data"][0]["x"]) == 1000


# ---- neighbours --------------------------------------------------------------------------------


def test_neighbours_controls_and_bad_input():
    at = open_page()
    at.text_input(key=lesson.K_NN).set_value("kitten")
    at.slider(key=lesson.K_NN_K).set_value(5)
    run(at)
    bars = next(c for c in charts(at) if "Nearest words" in str(c["layout"].get("title", "")))
    assert len(bars["data"][0]["y"]) == 5 and "kitten" not in bars["data"][0]["y"]
    assert at.query_params["nn"] == "kitten"
    at.text_input(key=lesson.K_NN).set_value("🙂")
    run(at)
    assert "has no vector here" in texts(at, "warning")
    at.text_input(key=lesson.K_NN).set_value("   ")
    run(at)
    assert "Type a word" in texts(at, "info")
    at.text_input(key=lesson.K_NN).set_value("spaceshipyard")
    run(at)
    assert "is not one token" in texts(at, "info") and "mean of the pieces" in texts(at, "info")


# ---- analogy workbench -------------------------------------------------------------------------


def test_analogy_presets_toggle_and_parallelogram():
    at = open_page()
    at.button(key="emb_preset_2").click()  # uncle - man + woman
    run(at)
    assert "uncle − man + woman ≈ aunt" in texts(at, "markdown")
    assert at.query_params["analogy"] == "uncle,man,woman"
    para = next(c for c in charts(at) if c["layout"].get("annotations"))
    assert len(para["layout"]["annotations"]) == 4  # the parallelogram's four sides
    at.text_input(key=lesson.K_A).set_value("king")
    at.toggle(key=lesson.K_INCL).set_value(True)
    run(at)
    assert "king − man + woman ≈ king" in texts(at, "markdown")
    assert "Why “king” wins when inputs count" in texts(at, "info")
    table = at.dataframe[0].value
    assert table.iloc[0]["word"] == "king" and table.iloc[0]["input word?"] == "yes"


def test_analogy_bad_inputs():
    at = open_page()
    at.text_input(key=lesson.K_C).set_value("")
    run(at)
    assert "Fill in all three words" in texts(at, "info")
    at.text_input(key=lesson.K_C).set_value("KING")
    run(at)
    assert "three different words" in texts(at, "info")
    at.text_input(key=lesson.K_C).set_value("🙂")
    run(at)
    assert "No vector for “🙂”" in texts(at, "warning")
    at.text_input(key=lesson.K_C).set_value("<i>queen</i>")
    run(at)
    assert "Averaged from several tokens" in texts(at, "info")
    para = next(c for c in charts(at) if c["layout"].get("annotations"))
    assert "<i>" not in json.dumps([t.get("text") for t in para["data"]])


# ---- shared links ------------------------------------------------------------------------------


def test_link_seeds_the_page():
    at = open_page(words="pizza, pasta", sets="colours,numbers", proj="tsne", nn="dog", analogy="Tokyo,Japan,France")
    assert at.text_input(key=lesson.K_WORDS).value == "pizza, pasta"
    assert at.pills(key=lesson.K_SETS).value == ["Colours", "Numbers"]
    assert at.radio(key=lesson.K_METHOD).value == "tsne"
    assert at.text_input(key=lesson.K_NN).value == "dog"
    assert "Tokyo − Japan + France ≈ paris" in texts(at, "markdown")


def test_hostile_link_values_fall_back():
    at = open_page(src="/etc", proj="<script>", sets="nope,../x", analogy="a,b", words="\x00cat")
    assert at.selectbox(key=lesson.K_SOURCE).value == "minilm"
    assert at.radio(key=lesson.K_METHOD).value == "pca"
    assert at.text_input(key=lesson.K_A).value == "king"
    assert "Pick a word set" not in texts(at, "info")  # "cat" from the (cleaned) link is on the map
    assert "cat" in [w for t in map_spec(at)["data"] for w in t["text"]]


# ---- sources -----------------------------------------------------------------------------------


def test_missing_gpt2_falls_back_to_minilm(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    at = open_page()
    at.selectbox(key=lesson.K_SOURCE).set_value("gpt2")
    run(at)
    warning = texts(at, "warning")
    assert "not in the local Hugging Face cache" in warning and "Showing MiniLM's embeddings instead" in warning
    assert map_spec(at) is not None


def test_tiny_gpt2_still_training_degrades_clearly(monkeypatch, tmp_path):
    spec = models.REGISTRY["genviz-tiny-gpt2"]
    monkeypatch.setitem(models.REGISTRY, "genviz-tiny-gpt2", dataclasses.replace(spec, path=tmp_path / "missing"))
    loaders._text_model.clear()
    lesson._table.clear()
    at = open_page(src="genviz-tiny-gpt2")
    warning = texts(at, "warning")
    assert "is not present" in warning and "may still be training" in warning and "MiniLM" in warning
    assert "king − man + woman ≈ queen" in texts(at, "markdown")


def test_a_tiny_gpt2_source_works_end_to_end(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=32, vocab_size=50257)).save_pretrained(tmp_path)
    models.load_gpt2_tokenizer().save_pretrained(tmp_path)
    at = app_test("app.py", timeout=600)  # generous: the first run loads MiniLM on a shared 2-core machine
    at.session_state["text_model"] = str(tmp_path)  # as if chosen under "Use a local model directory"
    at.switch_page(PAGE)
    run(at)
    at.selectbox(key=lesson.K_SOURCE).set_value(str(tmp_path))
    run(at)
    captions = texts(at, "caption")
    assert "50,257 rows" in captions and "16 numbers" in captions and "byte-level BPE" in captions
    assert map_spec(at) is not None and not texts(at, "warning")
    assert "≈" in texts(at, "markdown")
