"""Lesson: next-token prediction and the generation loop (issue 7). UI only; logic in gen_viz."""

import numpy as np
import pandas as pd
import streamlit as st

from gen_viz import generation as G
from gen_viz import sampling
from gen_viz.plots import generation as plots
from gen_viz.safe_text import clean_text
from gen_viz.ui import generation as ui
from gen_viz.ui import faults, html, query, sidebar

MAX_CHARS = 2000
MAX_PLAY = 64
RESERVE = 64  # tokens kept free for generation when a prompt is long
PNG = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False}
PSEUDOCODE = """def generate_text(prompt):
    tokens = tokenize(prompt)                  # the prompt's token ids
    while not done:
        context = attention_mechanism(tokens)  # one forward pass (key/value cache: only the new token)
        next_token = predict_next(context)     # a probability for every token; knobs; pick one
        tokens.append(next_token)              # one row of the history below
        if next_token == END_TOKEN:
            break
    return detokenize(tokens)"""

st.set_page_config(page_title="GenViz: Generation", layout="wide")
sel = sidebar.render()
st.title("Generation: one token at a time")
st.markdown(
    "A language model writes by **predicting the next token**, over and over. For a text so far it gives "
    "*every* token in its vocabulary a probability; one is picked, appended, and the loop runs again until the "
    "model picks its **end token** or we reach a length limit. That is the article's `generate_text`:")
st.code(PSEUDOCODE, language="python")

# 1. the model: causal LMs only (MiniLM reads both ways and is not a generator)
tm, model_key, notices = ui.resolve_generator_model(sel.text_model, sel.allow_download)
for note in notices:
    st.warning(note)
if tm is None:
    st.stop()
tok, info = tm.tokenizer, tm.info
st.caption(f"Model: **{tm.spec.label}**, {info.n_params:,} parameters, vocabulary {info.vocab_size:,} tokens, "
           f"context {info.context_length:,} tokens.")

# 2. the prompt (seeded from a shared link, cleaned, capped)
query.seed("gen_prompt", query.text("prompt", G.DEFAULT_PROMPT, MAX_CHARS))
raw = st.text_area("Prompt", key="gen_prompt", max_chars=MAX_CHARS, height=70,
                   help="Any text. Empty is allowed: the model then starts from its begin token.")
clean = clean_text(raw, MAX_CHARS)
for note in clean.notices:
    st.info(note)
prompt_text = clean.text

# 3. the knobs (typed freely; bad values are clamped with a notice)
st.subheader("The knobs")
c1, c2, c3, c4, c5 = st.columns(5)
mode = c1.radio("Pick", ["sample", "greedy"], key="gen_mode", horizontal=True,
                help="Greedy always takes the most likely token (same as temperature 0).")
query.seed("gen_temp", query.number("temperature", sampling.DEFAULT_TEMPERATURE, 0.0, sampling.MAX_TEMPERATURE))
t_raw = c2.number_input("Temperature", key="gen_temp", step=0.1, format="%.2f",
                        help="< 1 sharpens the distribution (safer), > 1 flattens it (wilder). 0 = greedy.")
query.seed("gen_topk", query.integer("top_k", 0, 0, 10**6))
k_raw = c3.number_input("Top-k (0 = off)", key="gen_topk", step=1,
                        help="Keep only the k most likely tokens.")
query.seed("gen_topp", query.number("top_p", 1.0, 0.0, 1.0))
p_raw = c4.number_input("Top-p (1 = off)", key="gen_topp", step=0.05, format="%.2f",
                        help="Keep the smallest set of most likely tokens whose probabilities add up to p.")
query.seed("gen_seed", query.integer("seed", 0, 0, 2**31 - 1))
seed = int(c5.number_input("Seed", key="gen_seed", min_value=0, max_value=2**31 - 1, step=1,
                           help="Same seed + same knobs = same text (a private random stream per request)."))
knobs, knob_notes = sampling.Knobs.clamped(0.0 if mode == "greedy" else t_raw, k_raw, p_raw, info.vocab_size)
for note in knob_notes:
    st.warning(note)
if knobs.greedy and mode != "greedy":
    st.info("Temperature 0 means greedy: the most likely token every time (the seed does not matter).")
query.sync(prompt=prompt_text, temperature=t_raw, top_k=k_raw, top_p=p_raw, seed=seed)

tab_next, tab_loop, tab_branch, tab_surprise, tab_knobs = st.tabs(
    ["1. Next token", "2. Step by step", "3. Branches", "4. Surprise", "5. Billions of knobs?"])

# ------------------------------------------------------------------------------------------ 1. next token
with tab_next:
    prompt, logits = ui.prompt_logits(model_key, sel.allow_download, prompt_text)
    for note in prompt.notices:
        st.info(note)
    with tm.lock:
        view = G.next_token_view(tok, logits, knobs, top=12)
    cands = view.candidates
    st.plotly_chart(plots.next_token_bars([c.text for c in cands], [c.prob_before for c in cands],
                                          [c.prob_after for c in cands], [c.kept for c in cands],
                                          [c.cut_by for c in cands], view.other_before, view.other_after,
                                          "What comes next? The top 12 candidates"),
                    config=PNG, key="gen_next_bars")
    st.caption(f"The knobs leave **{view.n_kept:,}** of {view.vocab_size:,} tokens in the running. Uncertainty "
               f"(entropy): {view.entropy_before:.2f} bits before the knobs, {view.entropy_after:.2f} after. "
               "Turning a knob reuses the model's scores for this prompt: the model does not run again.")
    cut = [c for c in cands if not c.kept]
    if cut:
        st.markdown("Cut by the knobs: " + ", ".join(f"`{plots.show_token(c.text)}` ({c.cut_by or 'cut'}, "
                                                      f"was {c.prob_before:.1%})" for c in cut[:8]))

# ------------------------------------------------------------------------------------------ 2. the loop
lines: dict = st.session_state.setdefault("gen_lines", {})
sig = (model_key, prompt_text)
if st.session_state.get("gen_sig") != sig:  # a new prompt or model starts a new story
    with tm.lock:
        p0 = G.prepare_prompt(tok, prompt_text, info.context_length, reserve=min(RESERVE, info.context_length // 2))
    lines.clear()
    lines["A"] = ui.Line("A", p0, [], None)
    st.session_state["gen_sig"] = sig
main = lines["A"]


def history_frame(line: ui.Line) -> pd.DataFrame:
    rows = []
    for s in line.steps:
        alts = ", ".join(f"{plots.show_token(t)} {p:.0%}" for t, p in zip(s.alt_texts[:5], s.alt_probs[:5]))
        rows.append({"loop iteration": s.index + 1,
                     "tokens.append(next_token)": plots.show_token(s.text),
                     "p (after knobs)": round(s.prob, 4), "p (model)": round(s.prob_model, 4), "rank": s.rank,
                     "entropy (bits)": round(s.entropy, 2), "top alternatives": alts,
                     "how": "your pick" if s.forced else ("greedy" if knobs.greedy else "sampled")})
    return pd.DataFrame(rows)


def show_line(line: ui.Line, box) -> None:
    with box.container():
        html.render(ui.line_html(line))
        if line.steps:
            st.dataframe(history_frame(line), hide_index=True, width="stretch")


with tab_loop:
    for note in main.prompt.notices:
        st.info(note)
    b1, b2, b3, b4 = st.columns([1, 1, 1, 1])
    n_play = int(b2.number_input("N", min_value=1, max_value=MAX_PLAY, value=16, key="gen_n",
                                 label_visibility="collapsed"))
    step_clicked = b1.button("Next token", key="gen_step", disabled=bool(main.done), type="primary")
    play_clicked = b3.button(f"Play {n_play} tokens", key="gen_play", disabled=bool(main.done))
    if b4.button("Start over", key="gen_reset"):
        lines.clear()
        lines["A"] = ui.Line("A", main.prompt, [], None)
        main = lines["A"]
    live = st.empty()
    if step_clicked or play_clicked:
        ui.extend(tm, main, 1 if step_clicked else n_play, knobs, seed,
                  on_step=(lambda ln: show_line(ln, live)) if play_clicked else None)
    faults.show("generation")
    show_line(main, live)
    if main.done == "end":
        st.success("The model picked its end token: `if next_token == END_TOKEN: break`. The text is finished.")
    elif main.done == "context":
        st.info(f"The model's context ({info.context_length} tokens) is full: the loop stops here.")
    elif not main.steps:
        st.caption("Press **Next token** to run one iteration of the loop, or **Play** to stream several.")
    if main.steps:
        st.plotly_chart(plots.step_probabilities([s.text for s in main.steps], [s.prob for s in main.steps],
                                                 [s.entropy for s in main.steps], [s.forced for s in main.steps]),
                        config=PNG, key="gen_steps_chart")

# ------------------------------------------------------------------------------------------ 3. branches
with tab_branch:
    if not main.steps:
        st.info("Generate a few tokens in **2. Step by step** first; then fork the text at any step here.")
    else:
        st.markdown("At every step the model had alternatives. Pick a step and one of its alternatives: the text "
                    "is **forked** there and the loop continues from your choice.")
        names = list(lines)
        f1, f2, f3 = st.columns([1, 2, 1])
        src_name = f1.selectbox("Branch", names, key="gen_branch_src")
        src = lines[src_name]
        at = f2.selectbox("Fork at step", list(range(len(src.steps))), key="gen_branch_step",
                          format_func=lambda i: f"{i + 1}: chosen {plots.show_token(src.steps[i].text)} "
                                                f"({src.steps[i].prob_model:.0%})")
        n_more = int(f3.number_input("then continue for", 1, MAX_PLAY, 12, key="gen_branch_n"))
        step = src.steps[min(at, len(src.steps) - 1)]
        st.caption("Alternatives the model considered at that step (its own probabilities):")
        cols = st.columns(5)
        for j, (tid, ttxt, tp) in enumerate(zip(step.alt_ids[:5], step.alt_texts[:5], step.alt_probs[:5])):
            if cols[j].button(f"{plots.show_token(ttxt)}  {tp:.0%}", key=f"gen_alt_{j}",
                              disabled=int(tid) == step.token_id):
                name = chr(ord("A") + len(lines)) if len(lines) < 26 else f"B{len(lines)}"
                lines[name] = ui.fork(tm, src, step.index, int(tid), n_more, knobs, seed, name)
                st.toast(f"Branch {name} forked from {src_name} at step {step.index + 1}.")
        for name, line in lines.items():
            logp = float(np.sum(np.log([max(s.prob_model, 1e-12) for s in line.steps]))) if line.steps else 0.0
            origin = f"forked from {line.parent} at step {line.fork_at + 1}" if line.parent else "the main line"
            st.markdown(f"**Branch {name}** ({origin}): {len(line.steps)} tokens, "
                        f"total log-probability {logp:.1f}")
            html.render(ui.line_html(line, line.fork_at))

# ------------------------------------------------------------------------------------------ 4. surprise
with tab_surprise:
    st.markdown(
        "How surprised is the model by each token of a text? Surprise = −log₂ p: 1 bit is a coin flip, 10 bits "
        "is a 1-in-1000 guess. **Perplexity** (2 to the mean surprise) is how many equally likely tokens the "
        "model was choosing between, on average. A fluent but **false** sentence can score almost as well as a "
        "true one: the model rates how *plausible the wording* is, not whether it is true. That is how "
        "hallucinations happen.")
    examples = G.hallucination_examples(model_key)
    query.seed("gen_surprise_text", examples[0][1])
    s_raw = st.text_area("Text to score", key="gen_surprise_text", max_chars=MAX_CHARS, height=70)
    s_clean = clean_text(s_raw, MAX_CHARS)
    for note in s_clean.notices:
        st.info(note)
    if not s_clean.text.strip():
        st.info("Type a text to score.")
    else:
        sur = ui.surprise_for(model_key, sel.allow_download, s_clean.text)
        for note in sur.notices:
            st.info(note)
        bits = sur.surprise_bits
        html.render(ui.token_chips(sur.texts, list(np.clip(bits / 12, 0, 1)),
                                   [f"{b:.1f} bits (p={2 ** -b:.3f}); expected {e}" for b, e in zip(bits, sur.top_texts)]))
        st.metric("Perplexity", f"{sur.perplexity:,.1f}", help="exp(mean −log p) over the scored tokens")
        st.plotly_chart(plots.surprise_bars(sur.texts, bits, sur.top_texts), config=PNG, key="gen_surprise_bars")
    st.markdown("**Fluent but false:** the same sentence with a true and a false ending")
    rows = []
    for label, text in examples:
        s = ui.surprise_for(model_key, sel.allow_download, text)
        rows.append({"sentence": text, "which": label, "perplexity": round(s.perplexity, 1),
                     "mean surprise (bits)": round(float(s.surprise_bits.mean()), 2)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

# ------------------------------------------------------------------------------------------ 5. the knobs
with tab_knobs:
    st.markdown(
        "The article's **mixing board with billions of tiny knobs**: every parameter is one number the model "
        "adjusted during training. Here is where the model in use keeps its knobs, next to GPT-2 small (2019) and "
        "GPT-3 (2020).")
    ours = ui.breakdown_for(model_key, sel.allow_download)
    rows = [(f"{tm.spec.label}", ours.counts)]
    if ours.total != G.GPT2_SMALL.total:
        rows.append((G.GPT2_SMALL.label, G.GPT2_SMALL.counts))
    st.plotly_chart(plots.parameter_breakdown(rows), config=PNG, key="gen_param_breakdown")
    if ours.tied_head:
        st.caption("The output head (which turns the last layer into a score per token) reuses the token "
                   "embedding matrix (tied weights), so it adds no knobs of its own.")
    table = pd.DataFrame({name: counts for name, counts in rows}).loc[lambda d: d.sum(axis=1) > 0]
    table.loc["total"] = table.sum()
    st.dataframe(table.map(lambda v: f"{int(v):,}"), width="stretch")
    names = [tm.spec.label] + [n for n in G.REFERENCE_TOTALS if G.REFERENCE_TOTALS[n] != ours.total]
    totals = [ours.total] + [G.REFERENCE_TOTALS[n] for n in names[1:]]
    st.plotly_chart(plots.totals_bars(names, totals), config=PNG, key="gen_param_totals")
    st.caption(f"GPT-3 has about {G.REFERENCE_TOTALS['GPT-3 (2020)'] / ours.total:,.0f} times more knobs than "
               "the model in use. Newer models such as the article's GPT-5 do not publish their counts; "
               "'billions' is the right order of magnitude.")
