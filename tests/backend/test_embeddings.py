"""Embeddings backend: neighbours, analogies, projections, cosine matrix, parsing, export (issue 9).

MiniLM (bundled) carries the real-meaning checks; a tiny random GPT-2 saved to a temp
dir covers the byte-level BPE path that GPT-2 small and the bundled tiny GPT-2 take.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import torch

from gen_viz import embeddings as emb
from gen_viz import models
from gen_viz import word_sets as ws

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def minilm():
    return emb.table_from_model(models.load_text_model("minilm"))


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    from transformers import GPT2Config, GPT2LMHeadModel

    path = tmp_path_factory.mktemp("tiny-gpt2")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=32, vocab_size=50257)).save_pretrained(path)
    models.load_gpt2_tokenizer().save_pretrained(path)
    return emb.table_from_model(models.load_text_model(str(path)))


def _words(table, *words):
    return emb.lookup(table, words)


# ---- the table -------------------------------------------------------------------------------


def test_minilm_table_is_the_input_embeddings_read_only(minilm):
    tm = models.load_text_model("minilm")
    weight = tm.model.embeddings.word_embeddings.weight.detach().numpy()
    assert minilm.vectors.shape == (30522, 384) == weight.shape
    assert np.array_equal(minilm.vectors, weight)
    assert minilm.style == "wordpiece" and minilm.dims == 384
    assert not minilm.vectors.flags.writeable and not minilm.unit.flags.writeable
    np.testing.assert_allclose(np.linalg.norm(minilm.unit[1000:1100], axis=1), 1.0, atol=1e-5)


def test_only_whole_words_are_displayable(minilm):
    shown = [minilm.display[i] for i in np.flatnonzero(minilm.is_word)]
    assert "cat" in shown and "kitten" in shown
    assert not any(w.startswith("##") or w.startswith("[") for w in shown)
    assert not any(w in {",", ".", "!", "?"} for w in shown)


def test_every_curated_word_has_a_vector(minilm):
    for name, words in ws.WORD_SETS.items():
        found = emb.lookup(minilm, words)
        assert all(wv.found for wv in found), name
    assert set(ws.SET_IDS.values()) == set(ws.WORD_SETS) and set(ws.DEFAULT_SETS) <= set(ws.WORD_SETS)


# ---- words -> vectors ------------------------------------------------------------------------


def test_lookup_single_multi_and_unknown(minilm):
    cat, html, emoji, empty = _words(minilm, "cat", "<b>hi</b>", "🙂", "   ")
    assert cat.found and not cat.multi and cat.pieces == ("cat",)
    np.testing.assert_array_equal(cat.vector, minilm.vectors[cat.ids[0]])
    assert html.found and html.multi and html.pieces[:3] == ("<", "b", ">")
    np.testing.assert_allclose(html.vector, minilm.vectors[list(html.ids)].mean(axis=0), rtol=1e-6)
    assert not emoji.found and "[UNK]" in emoji.problem
    assert not empty.found and empty.problem


def test_dedupe_by_tokens_merges_case_variants(minilm):
    kept, dups = emb.dedupe_by_tokens(_words(minilm, "cat", "Cat", "dog"))
    assert [wv.word for wv in kept] == ["cat", "dog"]
    assert dups == [("Cat", "cat")]


def test_parse_words_splits_dedupes_and_caps():
    parsed = emb.parse_words("cat, dog;;\n kitten ,  CAT,, new   york, " + "x" * 60, max_words=4)
    assert parsed.words == ("cat", "dog", "kitten", "new york")
    assert parsed.duplicates == ("CAT",)
    assert parsed.dropped == 1 and parsed.shortened == ("x" * emb.MAX_WORD_CHARS,)
    assert emb.parse_words("", 10).words == () and emb.parse_words(" , ;\n", 10).words == ()


# ---- neighbours and cosine -------------------------------------------------------------------


def test_neighbours_of_cat_include_kitten_or_cats(minilm):
    (cat,) = _words(minilm, "cat")
    near = emb.neighbours(minilm, cat.unit, 10, exclude_ids=cat.ids)
    words = [n.word for n in near]
    assert "kitten" in words or "cats" in words
    assert "cat" not in words and len(near) == 10
    assert all(minilm.is_word[n.token_id] for n in near)
    assert [n.cosine for n in near] == sorted((n.cosine for n in near), reverse=True)
    spaceship = _words(minilm, "spaceship")[0]
    assert float(cat.unit @ spaceship.unit) < float(cat.unit @ minilm.unit[minilm.display.index("kitten")])


def test_neighbours_many_excludes_each_word_itself(minilm):
    rows = emb.neighbours_many(minilm, _words(minilm, "queen", "🙂", "red"), k=5)
    assert [len(r) for r in rows] == [5, 0, 5]
    assert "queen" not in [n.word for n in rows[0]] and "red" not in [n.word for n in rows[2]]


def test_cosine_matrix_symmetric_with_ones_on_diagonal(minilm):
    units = np.stack([wv.unit for wv in _words(minilm, *ws.WORD_SETS["Colours"])])
    sims = emb.cosine_matrix(units)
    assert sims.shape == (len(units), len(units))
    assert np.array_equal(sims, sims.T)
    assert np.array_equal(np.diag(sims), np.ones(len(units), dtype=sims.dtype))
    assert sims.min() >= -1 and sims.max() <= 1


# ---- analogies -------------------------------------------------------------------------------


def test_king_minus_man_plus_woman_is_queen(minilm):
    res = emb.analogy(minilm, *_words(minilm, "king", "man", "woman"), k=5)
    assert res.answers[0].word == "queen"
    assert not {"king", "man", "woman"} & {n.word for n in res.answers}
    assert res.input_cosines["king"] > res.answers[0].cosine  # why king wins when inputs count


def test_including_the_inputs_lets_king_win(minilm):
    res = emb.analogy(minilm, *_words(minilm, "king", "man", "woman"), k=5, include_inputs=True)
    assert res.answers[0].word == "king" and res.answers[0].is_input
    assert "queen" in [n.word for n in res.answers if not n.is_input][:1]
    assert 0 < res.b_c_cosine < 1


def test_analogy_needs_three_vectors(minilm):
    with pytest.raises(ValueError):
        emb.analogy(minilm, *_words(minilm, "king", "🙂", "woman"))


# ---- projections -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def set_vectors(minilm):
    words = [w for name in ws.DEFAULT_SETS for w in ws.WORD_SETS[name]]
    return np.stack([wv.unit for wv in emb.lookup(minilm, words)])  # (n, 384)


@pytest.mark.parametrize("method", emb.METHODS)
def test_projection_one_2d_point_per_word_and_deterministic(set_vectors, method):
    first = emb.project(set_vectors, method, seed=3)
    again = emb.project(set_vectors, method, seed=3)
    assert first.points.shape == (len(set_vectors), 2) and first.method == method and not first.notice
    assert np.isfinite(first.points).all()
    np.testing.assert_allclose(first.points, again.points, rtol=1e-5, atol=1e-5)


def test_pca_reports_variance_and_is_linear(set_vectors):
    proj = emb.project(set_vectors, "pca")
    assert 0 < proj.explained[0] + proj.explained[1] < 1
    # affine: the projection of a - b + c is P(a) - P(b) + P(c) (the analogy plot relies on it)
    from sklearn.decomposition import PCA

    pca = PCA(2, svd_solver="full").fit(set_vectors)
    a, b, c = set_vectors[:3]
    pa, pb, pc, pt = pca.transform(np.stack([a, b, c, a - b + c]))
    np.testing.assert_allclose(pt, pa - pb + pc, atol=1e-5)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_too_few_points_fall_back_to_pca_with_a_notice(set_vectors, method):
    proj = emb.project(set_vectors[:3], method)
    assert proj.method == "pca" and proj.requested == method
    assert "at least" in proj.notice and "PCA instead" in proj.notice
    assert proj.points.shape == (3, 2)


def test_tsne_perplexity_below_n_at_the_minimum(set_vectors):
    n = emb.MIN_POINTS["tsne"]
    proj = emb.project(set_vectors[:n], "tsne")
    assert proj.method == "tsne" and proj.params["perplexity"] < n


def test_degenerate_inputs():
    assert emb.project(np.zeros((0, 8)), "tsne").points.shape == (0, 2)
    one = emb.project(np.ones((1, 8)), "umap")
    assert one.points.shape == (1, 2) and one.notice
    with pytest.raises(ValueError):
        emb.project(np.ones((4, 8)), "mds")


def test_neighbourhood_kept_is_a_share():
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 30)
    circle = np.zeros((30, 8))
    circle[:, 0], circle[:, 1] = np.cos(angles), np.sin(angles)  # unit vectors in one plane: 2D loses nothing
    assert emb.neighbourhood_kept(circle, emb.project(circle, "pca").points, 5) == pytest.approx(1.0)
    share = emb.neighbourhood_kept(rng.normal(size=(40, 50)), rng.normal(size=(40, 2)), 5)
    assert 0 <= share <= 1
    assert emb.neighbourhood_kept(np.ones((1, 3)), np.zeros((1, 2))) is None


def test_background_ids_are_whole_words_in_vocab_order(minilm):
    ids = emb.background_ids(minilm, 1000, skip=[minilm.display.index("the")])
    assert len(ids) == 1000 and minilm.is_word[ids].all() and (np.diff(ids) > 0).all()
    assert minilm.display.index("the") not in ids.tolist()
    assert "of" in [minilm.display[i] for i in ids[:15]]  # after the digits: the most common words


# ---- export ----------------------------------------------------------------------------------


def test_points_csv_is_plain_text_safe_for_spreadsheets():
    text = emb.points_csv([{"word": "=HYPERLINK(\"x\")", "group": "Your words", "x": 0.5, "y": -1.25},
                           {"word": "cat, kitten", "group": "<b>", "x": 1, "y": 2}])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["word"].startswith("'=") and rows[0]["y"] == "-1.25"
    assert rows[1]["word"] == "cat, kitten" and rows[1]["group"] == "<b>"
    assert emb.points_csv([]) == ""


# ---- the byte-level BPE path (GPT-2 small, the bundled tiny GPT-2) --------------------------


def test_tiny_gpt2_table_uses_gpt2_word_starts(tiny_gpt2):
    assert tiny_gpt2.style == "bytelevel" and tiny_gpt2.vectors.shape == (50257, 16)
    cat, spaceship, html = emb.lookup(tiny_gpt2, ["cat", "spaceship", "<b>"])
    assert cat.pieces == ("␣cat",) and not cat.multi  # " cat": the in-sentence form
    assert tiny_gpt2.display[cat.ids[0]] == "cat" and tiny_gpt2.is_word[cat.ids[0]]
    assert spaceship.found and html.found  # byte-level BPE has no unknown words
    shown = [tiny_gpt2.display[i] for i in np.flatnonzero(tiny_gpt2.is_word)[:2000]]
    assert all(w.replace("'", "").isalnum() for w in shown)


def test_tiny_gpt2_neighbours_analogy_and_projection_run(tiny_gpt2):
    king, man, woman = emb.lookup(tiny_gpt2, ["king", "man", "woman"])
    res = emb.analogy(tiny_gpt2, king, man, woman, k=5)
    assert len(res.answers) == 5 and not {"king", "man", "woman"} & {n.word.lower() for n in res.answers}
    vecs = emb.lookup(tiny_gpt2, ws.WORD_SETS["Animals"])
    proj = emb.project(np.stack([wv.unit for wv in vecs]), "pca")
    assert proj.points.shape == (len(vecs), 2)
