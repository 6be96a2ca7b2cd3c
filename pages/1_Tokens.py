"""Lesson 1: tokens, live. The article's puzzle pieces: type, and watch the text become token ids."""

import inspect

import streamlit as st

from gen_viz import tokens as T
from gen_viz.plots import tokens as plots
from gen_viz.safe_text import clean_text
from gen_viz.ui import query, sidebar
from gen_viz.ui import tokens as ui
from gen_viz.ui.html import esc

st.set_page_config(page_title="GenViz: Tokens", page_icon="🧩", layout="wide")
sel = sidebar.render()

DEFAULT_TEXT = "Think of tokens like puzzle pieces. Unbelievable, right? 🧩"
CHIP_LIMIT = 600  # chips drawn for the main text; every token is counted
COMPARE_LIMIT = 200  # chips drawn per tokenizer in the comparison
TEXT, NOTE = "tok_text", "tok_note"
W_LINE, W_AREA = "_w_tok_line", "_w_tok_area"

st.session_state.setdefault(TEXT, query.text("text", DEFAULT_TEXT))


def _use_example(label: str) -> None:
    st.session_state[TEXT], st.session_state[NOTE] = T.EXAMPLES[label]


def _keep(widget_key: str) -> None:
    st.session_state[TEXT] = st.session_state[widget_key]
    st.session_state.pop(NOTE, None)


# ---- 1. the text box ----------------------------------------------------------------------------
st.title("🧩 Tokens: the puzzle pieces")
st.markdown(
    "Before a transformer reads anything, it cuts the text into **tokens**, the smallest pieces it "
    "knows, and replaces each by a number, its **id**. Short words are one token, long ones several, "
    "spaces and punctuation count too. Type below and watch the pieces change."
)
st.caption("Examples, one click away:")
cols = st.columns(len(T.EXAMPLES))
for col, label in zip(cols, T.EXAMPLES):
    col.button(label, on_click=_use_example, args=(label,), width="stretch")

live = st.toggle("Live: update while I type (one-line box)", value=True, key="tok_live",
                 help="Off, or when the text has line breaks: a multi-line box that updates on Ctrl+Enter "
                 "or when you click outside it.")
multiline = not live or "\n" in st.session_state[TEXT]
widget_key = W_AREA if multiline else W_LINE
if st.session_state.get(widget_key) != st.session_state[TEXT]:
    st.session_state[widget_key] = st.session_state[TEXT]  # seed from the URL / an example
if multiline:
    st.text_area("Your text (press Ctrl+Enter or click outside to update)", key=W_AREA, height=150,
                 max_chars=T.MAX_TEXT_CHARS, on_change=_keep, args=(W_AREA,))
else:
    # `live` (commit after a short typing pause) is recent in Streamlit: without it, Enter commits
    live_kw = {"live": True} if "live" in inspect.signature(st.text_input).parameters else {}
    st.text_input("Your text (tokens update as you type)", key=W_LINE, max_chars=T.MAX_TEXT_CHARS,
                  on_change=_keep, args=(W_LINE,), **live_kw)
if NOTE in st.session_state:
    st.caption(f"💡 {st.session_state[NOTE]}")

cleaned = clean_text(st.session_state[TEXT], T.MAX_TEXT_CHARS)
for notice in cleaned.notices:
    st.info(notice)
text = cleaned.text
query.sync(text=text if len(text) <= query.MAX_URL_TEXT else None)
if len(text) > query.MAX_URL_TEXT:
    st.caption(f"The link in the address bar cannot hold more than {query.MAX_URL_TEXT:,} characters, "
               "so it does not carry this text.")

# ---- 2. which tokenizer draws the chips ----------------------------------------------------------
candidates = [T.GPT2_BPE, T.TINY, T.MINILM]
if sel.text_model not in candidates and sel.text_model not in T.SAME_AS_GPT2:
    candidates.append(sel.text_model)
handles, reasons = {}, {}
for name in candidates:
    handles[name], reasons[name] = ui.tokenizer(name, sel.allow_download)
available = [n for n in candidates if handles[n] is not None]
if not available:
    st.error("No tokenizer could be loaded: " + " ".join(r for r in reasons.values() if r))
    st.stop()
default = query.choice("tok", T.GPT2_BPE, available)
st.session_state.setdefault("tok_choice", default if default in available else available[0])
if st.session_state["tok_choice"] not in available:
    st.session_state["tok_choice"] = available[0]
left, right = st.columns([3, 1])
choice = left.radio("Tokenizer for the chips", available, key="tok_choice", horizontal=True,
                    format_func=lambda n: f"{handles[n].info.label} · {handles[n].info.vocab_size:,}")
show_ids = right.toggle("Show ids under the chips", value=True, key="tok_show_ids")
query.sync(tok=choice if choice in (T.TINY, T.MINILM) else None)  # registry keys only: never a local path
handle = handles[choice]

# ---- 3. chips + counters -------------------------------------------------------------------------
tok = ui.tokenize(choice, text, sel.allow_download)
counts = T.count(text, tok.n_tokens)
m = st.columns(5)
m[0].metric("Tokens", f"{counts.tokens:,}",
            delta=f"{counts.rule_error:+.0%} vs chars ÷ 4" if counts.chars else None, delta_color="off")
m[1].metric("Characters", f"{counts.chars:,}")
m[2].metric("Words", f"{counts.words:,}")
m[3].metric("Characters per token", f"{counts.chars_per_token:.2f}", help="Rule of thumb: about 4.")
m[4].metric("Words per token", f"{counts.words_per_token:.2f}", help="Rule of thumb: about 0.75.")
if counts.tokens:
    holds = abs(counts.rule_error) <= 0.25
    st.markdown(
        f"**Rule of thumb** (1 token ≈ 4 characters ≈ 0.75 words) predicts ≈ {counts.rule_tokens_from_chars:,.0f} "
        f"tokens from the characters, ≈ {counts.rule_tokens_from_words:,.0f} from the words; "
        f"{handle.info.label} needs **{counts.tokens:,}**. "
        + ("It holds here, as it usually does for plain English prose." if holds else
           "It fails here: code, numbers, URLs, emoji and non-English text spend far more tokens per character."
           if counts.rule_error > 0 else "It fails here: long common words fit in fewer tokens than it predicts.")
    )

shown = min(CHIP_LIMIT, tok.n_tokens)
if tok.n_tokens > shown:
    st.warning(f"Showing {shown:,} of {tok.n_tokens:,} tokens (all of them are counted and priced).")
ui.render_chips(choice, text, CHIP_LIMIT, show_ids, "main", sel.allow_download)
legend = "Each chip is one token, its id beneath; ␣ is a space, ↵ a line break, ⇥ a tab. Hover a chip for details."
if handle.info.byte_level:
    legend += (" Dashed chips are **byte pieces**: GPT-2 works on UTF-8 bytes, and a character such as 😀 "
               "(4 bytes) may be cut in the middle; such pieces are shown as `<0xF0>`-style bytes and "
               "underlined together with the character they spell only as a group.")
elif handle.info.algorithm == "WordPiece":
    legend += (" WordPiece lowercases, drops spaces (grey, not part of any token), marks pieces inside a word "
               "with ##, and shows [UNK] (red) for what it cannot spell.")
st.caption(legend)
st.caption("Chips follow the order the model reads (left to right), also for right-to-left scripts.")
with st.expander("When does the rule of thumb hold? Every example, every tokenizer"):
    samples = {"Plain English": T.PROSE_SAMPLE, **{k: v[0] for k, v in T.EXAMPLES.items()}}
    if text.strip():
        samples["Your text"] = text
    series = {handles[n].info.label: [T.count(s, ui.tokenize(n, s, sel.allow_download).n_tokens).chars_per_token
                                      for s in samples.values()] for n in available}
    st.plotly_chart(plots.rule_of_thumb_chart(list(samples), series), config={"displayModeBar": False})
    st.caption("Bars near the dashed line: the rule holds. Far below it: each token covers fewer characters "
               "than the rule assumes, so the text costs more than chars ÷ 4 suggests.")

# ---- 4. cost and context -------------------------------------------------------------------------
st.subheader("💰 What it costs, how much fits")
c1, c2, c3, c4 = st.columns(4)
price = c1.number_input("Price per million input tokens ($)", min_value=0.0, max_value=1000.0,
                        value=T.DEFAULT_PRICE_PER_MILLION, step=0.25, key="tok_price")
window = c2.number_input("Context window (tokens)", min_value=1, max_value=100_000_000,
                         value=T.DEFAULT_CONTEXT_WINDOW, step=1000, key="tok_window")
bill = T.cost(tok.n_tokens, price, int(window))
c3.metric("Cost of this text", f"${bill.dollars:,.6f}")
c4.metric("Share of the context window", f"{bill.window_fraction:.3%}")
st.progress(min(1.0, bill.window_fraction))
st.caption(
    f"Defaults are the article's GPT-5.2 figures ($1.75 per million input tokens, 256,000 tokens ≈ 192,000 words). "
    + (f"Counted with {handle.info.label}; the real model's own tokenizer gives a somewhat different count. "
       if tok.n_tokens else "")
    + (f"$1 pays for sending it ≈ {bill.texts_per_dollar:,.0f} times. " if tok.n_tokens and price > 0 else "")
    + ("" if bill.fits else "**This text does not fit in the window**: the model would not see all of it.")
)

# ---- 5. the same text, several tokenizers --------------------------------------------------------
st.subheader("⚖️ Same text, different tokenizers")
rows = []
for name in candidates:
    h = handles[name]
    if h is None:
        rows.append({"Tokenizer": T.default_label(name), "Kind": "—", "Vocabulary": "—", "Tokens": "—",
                     "Characters per token": "—", "Note": reasons[name]})
        continue
    n = ui.tokenize(name, text, sel.allow_download).n_tokens
    note = "+2 when fed to the model ([CLS] … [SEP])" if h.info.algorithm == "WordPiece" else ""
    rows.append({"Tokenizer": h.info.label, "Kind": h.info.algorithm, "Vocabulary": f"{h.info.vocab_size:,}",
                 "Tokens": f"{n:,}", "Characters per token": f"{len(text) / n:.2f}" if n else "—", "Note": note})
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(T.why_they_differ([handles[n].info for n in available]))
if sel.text_model in T.SAME_AS_GPT2:
    st.caption(f"The sidebar's model ({sel.text_model}) uses GPT-2's tokenizer unchanged: the first row.")
for name in candidates:
    if handles[name] is None and name == T.TINY:
        st.info(f"The bundled small model's tokenizer: {reasons[name]}")
with st.expander("See each tokenizer's chips", expanded=len(text) <= 300):
    for name in available:
        st.markdown(f"**{esc(handles[name].info.label)}**")
        ui.render_chips(name, text, COMPARE_LIMIT, False, f"compare-{name}", sel.allow_download)

# ---- 6. the reverse direction --------------------------------------------------------------------
st.subheader("🔁 The other way: ids → text")
st.caption(f"The model only ever outputs ids; the tokenizer turns them back into text. Uses {handle.info.label}. "
           "Try the ids of your text: " + ", ".join(str(i) for i in tok.ids[:12].tolist())
           + (" …" if tok.n_tokens > 12 else ""))
raw_ids = st.text_input("Token ids (separated by spaces or commas)", value="31373, 995", key="tok_ids",
                        max_chars=60_000)
parsed = T.parse_ids(raw_ids, handle.info.vocab_size)
for err in parsed.errors[:5]:
    st.warning(err)
if len(parsed.errors) > 5:
    st.warning(f"… and {len(parsed.errors) - 5} more entries that are not valid ids.")
if parsed.ids:
    decoded = T.decode_ids(handle, parsed.ids)
    st.html(ui.pieces_html(decoded.pieces[: CHIP_LIMIT], parsed.ids[: CHIP_LIMIT]))
    st.code(decoded.text or " ", language=None)
    if decoded.incomplete:
        st.info("Some ids are byte pieces that do not form whole characters on their own: the broken "
                "characters are shown as �.")
elif not parsed.errors:
    st.caption("Type some ids to decode them.")
