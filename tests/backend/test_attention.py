"""Attention maps: exact properties, equality with the model's own output, the it -> animal head,
and the offline BertViz page (no CDN, no way out of the <script> block)."""

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from gen_viz import attention as A
from gen_viz import bertviz_offline as B
from gen_viz import models
from gen_viz.plots import attention as P

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def minilm():
    return models.load_text_model("minilm")


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory):
    """A tiny random GPT-2 (causal) with GPT-2's real tokenizer, loaded through the local-path route."""
    path = tmp_path_factory.mktemp("tiny-gpt2")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=16, vocab_size=50257)).save_pretrained(path)
    models.load_gpt2_tokenizer().save_pretrained(path)
    return models.load_text_model(str(path))


@pytest.fixture(scope="module")
def tired(minilm):
    return A.compute_attention(minilm, A.DEFAULT_SENTENCE)


def test_rows_sum_to_one_and_shapes(minilm, tiny_gpt2, tired):
    assert tired.weights.shape == (6, 12, 16, 16)
    assert tired.labels[0] == "[CLS]" and tired.labels[-1] == "[SEP]" and tired.special[0] and tired.special[-1]
    np.testing.assert_allclose(tired.weights.sum(-1), 1.0, atol=1e-5)
    causal = A.compute_attention(tiny_gpt2, "The animal was tired")
    assert causal.is_causal and not any(causal.special)
    np.testing.assert_allclose(causal.weights.sum(-1), 1.0, atol=1e-5)


def test_causal_model_has_zeros_above_the_diagonal(tiny_gpt2):
    att = A.compute_attention(tiny_gpt2, "The animal didn't cross the street")
    t = att.n_tokens
    upper = att.weights[..., np.triu_indices(t, k=1)[0], np.triu_indices(t, k=1)[1]]
    assert t > 3 and np.all(upper == 0.0)
    assert np.all(att.weights[..., np.tril_indices(t)[0], np.tril_indices(t)[1]] >= 0)
    assert np.all(att.weights[:, :, 0, 0] == pytest.approx(1.0))  # the first token can only see itself


@pytest.mark.parametrize("which", ["minilm", "tiny_gpt2"])
@pytest.mark.parametrize("text", [A.DEFAULT_SENTENCE, "A much longer text, cut to fit. " * 12])
def test_matrices_equal_the_models_own_output_attentions(which, text, request):
    tm = request.getfixturevalue(which)
    att = A.compute_attention(tm, text, max_tokens=40)
    enc = tm.tokenizer(text, return_tensors="pt", truncation=True, max_length=att.limit)
    with torch.no_grad():
        ref = tm.model(**enc, output_attentions=True).attentions
    assert att.n_layers == len(ref)
    for layer, ref_layer in enumerate(ref):
        assert torch.allclose(torch.from_numpy(att.weights[layer]), ref_layer[0], atol=1e-6)
    assert att.token_ids == enc["input_ids"][0].tolist()


def test_minilm_finds_an_it_to_animal_head(minilm, tired):
    it, animal = A.find_token(tired, "it"), A.find_token(tired, "animal")
    best = A.rank_heads(tired, it, animal)[0]
    assert best.weight > 0.5
    assert (best.layer, best.head) == (3, 1)  # GUIDE.md: layer 3 head 1, numbered from 0
    wide = A.compute_attention(minilm, A.PAIR_SENTENCE)
    w_it, w_animal, w_street = (A.find_token(wide, w) for w in ("it", "animal", "street"))
    moved = wide.weights[best.layer, best.head, w_it]
    assert moved[w_animal] < best.weight and moved[w_animal] < 0.5
    assert moved[w_street] > tired.weights[best.layer, best.head, it, A.find_token(tired, "street")]


def test_default_head_is_the_it_to_animal_head(tired, tiny_gpt2):
    assert (A.default_head(tired).layer, A.default_head(tired).head) == (3, 1)
    no_it = A.compute_attention(tiny_gpt2, "Cats sleep a lot")
    assert A.default_head(no_it) == A.HeadScore(0, 0, 0.0)


def test_split_words_are_found_after_merging(minilm):
    att = A.compute_attention(minilm, "The tokenization was fine because it worked")
    assert A.find_token(att, "tokenization") is None  # WordPiece: token + ##ization
    assert A.needs_merge(att, ["it", "tokenization"]) and not A.needs_merge(att, ["it", "worked"])
    assert not A.needs_merge(att, ["giraffe"])
    merged = A.merge_subwords(att)
    assert A.find_token(merged, "tokenization") is not None and not A.needs_merge(merged, ["tokenization"])


def test_ranking_covers_every_head_sorted(tired):
    ranking = A.rank_heads(tired, 10, 2)
    assert len(ranking) == 6 * 12 and len({(r.layer, r.head) for r in ranking}) == 72
    assert all(a.weight >= b.weight for a, b in zip(ranking, ranking[1:]))


def test_average_over_heads_is_a_distribution(tired):
    avg = A.average_heads(tired, 2)
    np.testing.assert_allclose(avg, tired.weights[2].mean(0))
    np.testing.assert_allclose(avg.sum(-1), 1.0, atol=1e-5)


def test_merge_subwords_sums_pieces_and_keeps_rows_stochastic(minilm, tiny_gpt2):
    for tm in (minilm, tiny_gpt2):
        att = A.compute_attention(tm, "Unbelievable tokenization happens")
        merged = A.merge_subwords(att)
        assert merged.n_tokens < att.n_tokens
        assert "Unbelievable" in merged.labels and "tokenization" in merged.labels
        np.testing.assert_allclose(merged.weights.sum(-1), 1.0, atol=1e-5)
        # attention *to* a word is the sum over its pieces (checked on the first row, a single token)
        w = merged.labels.index("tokenization")
        pieces = [i for i, wid in enumerate(att.word_ids) if wid == merged.word_ids[w]]
        assert len(pieces) > 1
        src = 0 if merged.special[0] or att.word_ids.count(att.word_ids[0]) == 1 else None
        if src is not None:
            assert merged.weights[1, 0, src, w] == pytest.approx(att.weights[1, 0, src, pieces].sum(), abs=1e-6)
        assert A.merge_subwords(merged) is merged


def test_truncation_reports_dropped_tokens(minilm, tiny_gpt2):
    long_text = " ".join(["word"] * 100)
    att = A.compute_attention(minilm, long_text, max_tokens=20)
    assert att.n_tokens == 20 and att.n_dropped == 102 - 20 and att.limit_reason == "readable"
    assert att.labels[-1] == "[SEP]"
    ctx = A.compute_attention(tiny_gpt2, long_text)  # tiny model: context 16 < 64 readable tokens
    assert ctx.n_tokens == 16 and ctx.n_dropped == 100 - 16 and ctx.limit_reason == "context"


def test_empty_and_single_token(minilm, tiny_gpt2):
    with pytest.raises(ValueError, match="empty"):
        A.compute_attention(minilm, "   ")
    one = A.compute_attention(tiny_gpt2, "Hello")
    assert one.n_tokens == 1 and one.n_content == 1 and one.weights[0, 0, 0, 0] == pytest.approx(1.0)
    assert A.compute_attention(minilm, "hello").n_content == 1


def test_find_token_and_absent_focus(tired):
    assert tired.labels[A.find_token(tired, "IT")] == "it"
    assert A.find_token(tired, "giraffe") is None
    assert A.find_token(tired, "giraffe", default=4) == 4
    assert A.find_token(tired, "[CLS]") is None  # special tokens are not words to focus on


def test_special_tokens_are_dropped_openly(tired):
    reduced, lost = A.without_special(tired)
    assert reduced.n_tokens == 14 and not any(reduced.special)
    assert 0 < lost < 1
    np.testing.assert_allclose(reduced.weights.sum(-1).mean(), 1 - lost, atol=1e-5)
    assert 0 < A.special_share(tired, 0, 0) < 1


def test_csv_has_labels_and_neutralises_formulas(tired):
    text = A.matrix_csv(tired.weights[3, 1], tired.labels)
    rows = [line.split(",") for line in text.strip().splitlines()]
    assert len(rows) == 17 and rows[0][1] == "[CLS]" and rows[11][0] == "it"
    assert float(rows[11][3]) == pytest.approx(tired.weights[3, 1, 10, 2], abs=1e-6)
    assert "'=cmd" in A.matrix_csv(np.eye(2), ["=cmd", "x"])


def test_valid_index():
    assert A.valid_index(3, 0, 5, 1) == 3 and A.valid_index(3.0, 0, 5, 1) == 3
    for bad in (float("nan"), float("inf"), -1, 6, 2.5, "x", None, 10**30):
        assert A.valid_index(bad, 0, 5, 1) == 1


def test_pair_text():
    assert A.pair_text(A.DEFAULT_SENTENCE) == A.PAIR_SENTENCE
    assert A.pair_text("no change here") == "no change here"


def test_plots_build_and_escape_labels(tired):
    labels = [*tired.labels[:-1], "<b>x</b>"]
    fig = P.heatmap(tired.weights[3, 1], labels, "t", causal=True, highlight=10)
    assert fig.data[0].z[0][1] is None and fig.data[0].z[1][0] is not None  # causal: upper triangle empty
    assert "&lt;b&gt;x&lt;/b&gt;" in fig.layout.xaxis.ticktext
    grid = P.head_grid(tired.weights)
    assert len(grid.data) == 1 and len(grid.layout.xaxis.ticktext) == 12
    bars = P.focus_bars(tired.weights[3, :, 10], labels, "it", 3, target=2)
    assert len(bars.data) == 12 and bars.data[1].marker.color[2] == "#2A9D5C"
    assert "0.68" in bars.layout.annotations[1].text
    assert P.ranking_bars([("layer 3 head 1", 0.68)], "x").data[0].x == (0.68,)
    assert len(P.pair_bars(tired.weights[3, 1, 10], labels, tired.weights[3, 1, 10], labels, "a", "b", "t").data) == 2


# --- BertViz, offline -----------------------------------------------------------------------------

CDN = re.compile(r"cdnjs|jsdelivr|unpkg|googleapis|cloudflare|<script[^>]+src=|<link[^>]+href=|require\.config\(\{", re.I)


class _Tags(HTMLParser):
    """What a browser's tokenizer would see: start tags, and the text of each <script> block."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


@pytest.mark.parametrize("view", [B.HEAD_VIEW, B.MODEL_VIEW])
def test_bertviz_page_is_offline(view, tired):
    page = B.build_html(view, tired.weights, tired.labels)
    assert not CDN.search(page)
    assert "jQuery" in page and "d3" in page and "window.requirejs" in page
    assert "Content-Security-Policy" in page
    # the parameters are valid JSON with the tokens and rounded weights
    params = json.loads(re.search(r"const params = (\{.*?\}); // HACK", page, re.S).group(1))
    assert params["attention"][0]["left_text"] == tired.labels
    assert len(params["attention"][0]["attn"]) == 6


def test_bertviz_escapes_hostile_tokens(tired):
    hostile = "</script><img src=x onerror=alert(1)>"
    labels = [*tired.labels[:-2], hostile, "a & b"]
    page = B.build_html(B.HEAD_VIEW, tired.weights, labels)
    assert hostile not in page and "<img" not in page and "</script><" not in page
    parsed = _Tags()
    parsed.feed(page)
    # exactly our four script blocks (jQuery, d3, shim, BertViz) and no element made from a token
    assert parsed.tags.count("script") == 4 and "img" not in parsed.tags
    assert "const params" in parsed.scripts[-1] and parsed.scripts[-1].rstrip().endswith("});")
    params = json.loads(re.search(r"const params = (\{.*?\}); // HACK", page, re.S).group(1))
    assert params["attention"][0]["left_text"][-2] == hostile  # JSON.parse gives the literal text back
    assert params["attention"][0]["left_text"][-1] == "a & b"


def test_bertviz_layer_subset_and_errors(tired):
    page = B.build_html(B.MODEL_VIEW, tired.weights, tired.labels, include_layers=[3])
    params = json.loads(re.search(r"const params = (\{.*?\}); // HACK", page, re.S).group(1))
    assert params["include_layers"] == [3] and len(params["attention"][0]["attn"]) == 1
    with pytest.raises(ValueError):
        B.build_html(B.HEAD_VIEW, tired.weights, tired.labels[:-1])
    with pytest.raises(ValueError):
        B.build_html("neuron_view", tired.weights, tired.labels)
    assert B.estimated_height(B.HEAD_VIEW, 16, 6, 12) > 300


def test_safe_json_escapes_markup_characters():
    value = ["</script><img src=x onerror=alert(1)>", "a & b", "\u2028"]
    text = B._safe_json(value)
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == value
