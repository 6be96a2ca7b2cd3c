"""Lesson: attention, the speed reader who flips back to any page (issue 6). UI only; logic in gen_viz."""

import streamlit as st

from gen_viz import attention as A
from gen_viz.plots import attention as plots
from gen_viz.safe_text import clean_text
from gen_viz.ui import attention as ui
from gen_viz.ui import query, sidebar

MAX_CHARS = 2000
PNG = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False}

st.set_page_config(page_title="GenViz: Attention", layout="wide")
sel = sidebar.render()
st.title("Attention: which words each word looks at")
st.markdown(
    "A transformer reads like a **speed reader who can flip back to any page**: while it works on one word, "
    "it looks at every other word and decides how much each one matters. Those *attention scores* are real "
    "numbers inside the model; below they come straight from its forward pass. Each **layer** has several "
    "**heads**, each free to look for something different. In *“The animal didn't cross the street because "
    "it was too tired.”*, some head should link **it** to **animal**."
)

# 1. the model (the sidebar's choice; MiniLM when that one is not available yet)
tm, model_key, notice = ui.resolve_model(sel.text_model, sel.allow_download)
if notice:
    st.warning(notice)
if tm is None:
    st.stop()
info = tm.info
if info.is_causal:
    st.caption(f"**{ui.md(tm.spec.label)}** is *causal*: each token may only look at itself and earlier tokens (it "
               "writes left to right and must not peek at the future), so the upper triangle of every map is empty. "
               "The first token sees only itself, and many heads park spare attention on it.")
else:
    st.caption(f"**{ui.md(tm.spec.label)}** is *bidirectional*: every token may look at every other token, before or "
               "after it. It adds the special tokens [CLS] (start) and [SEP] (end); many heads park attention "
               "there when they have nothing better to do.")

# 2. the sentence (seeded from a shared link, cleaned, capped)
query.seed("att_text", query.text("text", A.DEFAULT_SENTENCE, MAX_CHARS))
raw = st.text_area("Sentence", key="att_text", max_chars=MAX_CHARS, height=80,
                   help="Any text; the first 64 tokens are shown.")
clean = clean_text(raw, MAX_CHARS)
for note in clean.notices:
    st.info(note)
text = clean.text
query.sync(text=text)
if not text.strip():
    st.info("Type a sentence above to see where its words look.")
    st.stop()

att_raw = ui.attention_or_message(model_key, sel.allow_download, text)
if att_raw is None:
    st.stop()
if att_raw.n_dropped:
    why = "the model's context" if att_raw.limit_reason == "context" else "a readable heatmap"
    n_added = att_raw.n_tokens - att_raw.n_content
    extra = f" (plus {n_added} special tokens)" if n_added else ""
    st.warning(f"The text is {att_raw.n_content + att_raw.n_dropped} tokens long{extra}; only {att_raw.limit} tokens "
               f"fit {why}, so the last {att_raw.n_dropped} token(s) were dropped.")
if att_raw.n_content < 2:
    st.warning("That is a single token: it can only look at itself (attention 1.0). Type at least two words.")
    st.stop()

c1, c2, c3 = st.columns(3)
want_src = query.text("focus", A.DEFAULT_FOCUS, 40)
want_dst = query.text("target", A.DEFAULT_TARGET, 40)
# start merged when this tokenizer splits the words of the lesson (the bundled GPT-2: "an" + "imal")
query.seed("att_merge", A.needs_merge(att_raw, [want_src, want_dst]))
merge = c1.toggle("Merge sub-word pieces into words", key="att_merge",
                  help="Attention *to* a word = the sum over its pieces; attention *from* a word = the mean "
                  "of its pieces' rows, so rows still sum to 1.")
att = A.merge_subwords(att_raw) if merge else att_raw
has_special = any(att.special)
show_special = c2.toggle("Show special tokens", value=True, key="att_special", disabled=not has_special,
                         help="[CLS]/[SEP] are added by the tokenizer, not typed by you.")
view_att, lost = (att, 0.0) if show_special or not has_special else A.without_special(att)
if lost:
    c2.caption(f"Hidden: on average {lost:.0%} of each row went to [CLS]/[SEP], so rows now sum to less than 1.")
c3.caption(f"{view_att.n_tokens} tokens · {info.n_layers} layers × {info.n_heads} heads · layers and heads "
           "are numbered from 0, as in BertViz.")
labels = view_att.labels

# 3. which layer / head (seeded from the URL)
AVG = -1
# start on the head that best links "it" to "animal" in this model (found, not hard-coded)
start = A.default_head(att_raw)
lc, hc = st.columns(2)
query.seed(f"att_layer_{info.n_layers}", query.integer("layer", start.layer, 0, info.n_layers - 1))
layer = lc.slider("Layer", 0, info.n_layers - 1, key=f"att_layer_{info.n_layers}")
query.seed(f"att_head_{info.n_heads}", query.integer("head", start.head, AVG, info.n_heads - 1))
head = hc.selectbox("Head", [AVG, *range(info.n_heads)], key=f"att_head_{info.n_heads}",
                    format_func=lambda h: "Average over all heads (not a real head)" if h == AVG else f"head {h}")
# a hostile client can send any number: keep indices in range
layer = A.valid_index(layer, 0, info.n_layers - 1, start.layer)
head = A.valid_index(head, AVG, info.n_heads - 1, start.head)
query.sync(layer=layer, head=head)

tab_one, tab_grid, tab_focus, tab_pair, tab_bv = st.tabs(
    ["One head", "All heads", "Focus on a word", "Minimal pair", "BertViz (interactive)"])

with tab_one:
    if head == AVG:
        matrix = A.average_heads(view_att, layer)
        title = f"Layer {layer}: AVERAGE over all {info.n_heads} heads (a summary, not a head of the model)"
    else:
        matrix = view_att.weights[layer, head]
        title = f"Layer {layer}, head {head}"
    fig_col, side = st.columns([3, 2])
    fig_col.plotly_chart(plots.heatmap(matrix, labels, title, causal=att.is_causal), config=PNG, key="att_heatmap")
    side.markdown("**Read a row**: the token on the left spreads 100% of its attention over the tokens along "
                  "the top. Hover a cell for the exact share; the camera icon above the figure saves it as PNG.")
    if has_special and show_special:
        share = A.special_share(att, layer, None if head == AVG else head)
        side.caption(f"In this view {share:.0%} of the attention lands on the special tokens [CLS]/[SEP].")
    side.download_button("Download this matrix (CSV)", A.matrix_csv(matrix, labels),
                         file_name=f"attention_layer{layer}_{'avg' if head == AVG else f'head{head}'}.csv",
                         mime="text/csv", key="att_csv")

with tab_grid:
    st.markdown("Every head of every layer at once (rows: layers, columns: heads). Look for patterns: "
                "diagonals (look at yourself), off-diagonals (look at the previous/next word), "
                "vertical stripes (everyone looks at the same token, often [CLS]/[SEP] or punctuation).")
    grid = view_att.weights
    if grid.size > A.MAX_GRID_VALUES:  # pitfall 9: keep what travels to the browser small
        grid = grid[layer: layer + 1]
        st.info(f"With {view_att.n_tokens} tokens the full grid is too heavy to send: showing the heads of "
                f"layer {layer} only (pick another layer above).")
    st.plotly_chart(plots.head_grid(grid, causal=att.is_causal, first_layer=layer if grid is not view_att.weights else 0),
                    config=PNG, key="att_grid")

with tab_focus:
    positions = list(range(view_att.n_tokens))
    fmt = lambda i: f"{labels[i]}  (#{i})"  # noqa: E731
    src_default = A.find_token(view_att, want_src)
    dst_default = A.find_token(view_att, want_dst)
    if src_default is None:
        st.info(f"“{ui.md(want_src)}” is not in this sentence: pick a word to focus on.")
    elif dst_default is None:
        st.caption(f"“{ui.md(want_dst)}” is not in this sentence: pick the word to compare with.")
    fa, fb = st.columns(2)
    sig = hash((tuple(labels), model_key))  # fresh widgets when the tokens change
    src = fa.selectbox("Focus word (where does it look?)", positions, format_func=fmt, key=f"att_src_{sig}",
                       index=src_default if src_default is not None else A.first_content(view_att))
    dst = fb.selectbox("…and how much at this word?", positions, format_func=fmt, key=f"att_dst_{sig}",
                       index=dst_default if dst_default is not None else 0)
    st.plotly_chart(plots.focus_bars(view_att.weights[layer, :, src, :], labels, labels[src], layer, target=dst),
                    config=PNG, key="att_focus")
    ranking = A.rank_heads(view_att, src, dst)
    best = ranking[0]
    st.plotly_chart(plots.ranking_bars([(f"layer {r.layer} head {r.head}", r.weight) for r in ranking[:10]],
                                       f"Heads ranked by attention from “{labels[src]}” to “{labels[dst]}”"),
                    config=PNG, key="att_rank")
    st.markdown(f"The strongest head is **layer {best.layer}, head {best.head}**: it sends "
                f"**{best.weight:.0%}** of “{ui.md(labels[src])}”'s attention to “{ui.md(labels[dst])}”.")
    if best.weight < 0.3 and model_key != ui.FALLBACK_MODEL:
        st.caption("No head of this model makes that link strongly. Pick **MiniLM** in the sidebar: trained on far "
                   "more text, it has a head that sends most of “it”'s attention to “animal”.")
    if att.is_causal and dst > src:
        st.caption("A causal model cannot look forward: a later word always gets 0 from an earlier one.")

with tab_pair:
    query.seed("att_pair", query.text("pair", A.pair_text(text), MAX_CHARS))
    auto = A.pair_text(text)  # the partner follows the first sentence until the learner edits it
    if st.session_state["att_pair"] == st.session_state.get("_att_pair_auto", st.session_state["att_pair"]):
        st.session_state["att_pair"] = auto
    st.session_state["_att_pair_auto"] = auto
    pair_raw = st.text_input("Second sentence (change one word)", key="att_pair", max_chars=MAX_CHARS)
    pair = clean_text(pair_raw, MAX_CHARS).text
    query.sync(pair=pair)
    if not pair.strip():
        st.info("Type a second sentence to compare.")
    elif (att_b_raw := ui.attention_or_message(model_key, sel.allow_download, pair)) is not None:
        att_b = A.merge_subwords(att_b_raw) if merge else att_b_raw
        if not show_special:
            att_b, _ = A.without_special(att_b)
        word = labels[src]
        src_b = A.find_token(att_b, word)
        if src_b is None:
            st.info(f"“{ui.md(word)}” is not in the second sentence: the comparison needs the focus word in both.")
        else:
            ph = st.radio("Head to compare", ["the best head for the focus pair", "the layer/head chosen above"],
                          horizontal=True, key="att_pair_head")
            pl, phd = (best.layer, best.head) if ph.startswith("the best") else (layer, head)
            pick = (lambda a: A.average_heads(a, pl)) if phd == AVG else (lambda a: a.weights[pl, phd])  # noqa: E731
            name = f"layer {pl}, " + ("average of heads" if phd == AVG else f"head {phd}")
            st.plotly_chart(plots.pair_bars(pick(view_att)[src], labels, pick(att_b)[src_b], att_b.labels,
                                            "first sentence", "second sentence",
                                            f"Where “{word}” looks, {name}"), config=PNG, key="att_pair_bars")
            a1, a2 = st.columns(2)
            a1.plotly_chart(plots.heatmap(pick(view_att), labels, f"First sentence, {name}", att.is_causal,
                                          highlight=src), config=PNG, key="att_pair_a")
            a2.plotly_chart(plots.heatmap(pick(att_b), att_b.labels, f"Second sentence, {name}", att.is_causal,
                                          highlight=src_b), config=PNG, key="att_pair_b")
            dst_b = A.find_token(att_b, labels[dst])
            if dst_b is not None:
                st.markdown(f"**{ui.md(word)} → {ui.md(labels[dst])}**, {name}: **{pick(view_att)[src, dst]:.0%}** in "
                            f"the first sentence, **{pick(att_b)[src_b, dst_b]:.0%}** in the second.")
            top_a = ", ".join(f"{lab} {v:.0%}" for lab, v in A.top_targets(pick(view_att)[src], labels))
            top_b = ", ".join(f"{lab} {v:.0%}" for lab, v in A.top_targets(pick(att_b)[src_b], att_b.labels))
            st.text(f"“{word}” looks at — first: {top_a}\n“{word}” looks at — second: {top_b}")
            if att.is_causal:
                st.caption("In a causal model a word only sees what came before it, so if the sentences differ "
                           "only after the focus word, its attention is identical in both.")

with tab_bv:
    st.markdown("[BertViz](https://github.com/jessevig/bertviz) (Jesse Vig) draws the same numbers as lines: "
                "hover a word to see where it looks. Its JavaScript is served from installed packages, offline.")
    view = st.radio("View", ["Head view", "Model view"], horizontal=True, key="att_bv_view")
    if view == "Head view":
        st.caption("Colours are heads (click a colour to toggle it, double-click to show only that head); "
                   "line strength is the attention weight.")
        ui.bertviz("head_view", model_key, sel.allow_download, text, merge, list(range(info.n_layers)), layer,
                   att.n_tokens, info.n_heads, heads=None if head == AVG else [head])
    else:
        default_layers = list(range(info.n_layers)) if att.n_tokens <= 24 else [layer]
        chosen = st.multiselect("Layers in the model view", list(range(info.n_layers)), default=default_layers,
                                key=f"att_bv_layers_{info.n_layers}")
        if chosen:
            ui.bertviz("model_view", model_key, sel.allow_download, text, merge, sorted(chosen), layer,
                       att.n_tokens, info.n_heads)
        else:
            st.info("Pick at least one layer.")
