"""GenViz home page: what generative AI is, one card per lesson, and the shared sidebar.

Run with ``streamlit run app.py``; the lessons live in pages/ (Streamlit's multipage discovery).
"""

import streamlit as st

from gen_viz.ui import sidebar

st.set_page_config(page_title="GenViz: see generative AI work", page_icon="🔍", layout="wide")
sidebar.render()

st.title("GenViz: watch generative AI work, live")
st.markdown(
    "Everything on these pages is computed **live, on this computer, from your own input**, by real models "
    "that ship with GenViz. Nothing is pre-recorded and nothing leaves the machine."
)

guard, artist = st.columns(2)
with guard:
    st.subheader("🛡️ Traditional AI: the security guard")
    st.markdown(
        "It looks at something and makes a **decision**: *is this a cat or a dog?* "
        "The answer is one of a few labels."
    )
with artist:
    st.subheader("🎨 Generative AI: the artist")
    st.markdown(
        "It **creates something new** from patterns it learned: *draw me a cat wearing a cowboy hat.* "
        "Text models (transformers) write one token at a time; image models (diffusion) sculpt a "
        "picture out of static."
    )

st.divider()
st.header("The lessons")
LESSONS = [
    ("pages/1_Tokens.py", "🧩 Tokens", "Puzzle pieces: watch your text split into tokens as you type, count "
     "them, price them, compare three tokenizers."),
    ("pages/2_Attention.py", "🔦 Attention", "The speed reader: which earlier words does each word look at? "
     "Does \"it\" look at \"animal\" or \"street\"?"),
    ("pages/3_Generation.py", "✍️ Generation", "The generate_text loop, one step at a time: the next-token "
     "distribution, temperature, top-k, top-p, branching, surprise."),
    ("pages/4_Diffusion.py", "🌫️ Diffusion", "The foggy photo: add noise, then scrub through every "
     "denoising step of a text-to-image model, from static to picture."),
    ("pages/5_Embeddings.py", "🗺️ Embeddings", "GPS coordinates for words: a map of meaning where "
     "king - man + woman lands near queen."),
]
cols = st.columns(3) + st.columns(3)
for col, (page, title, blurb) in zip(cols, LESSONS):
    with col.container(border=True):
        st.subheader(title)
        st.write(blurb)
        st.page_link(page, label=f"Open {title.split(' ', 1)[1]} →")

st.divider()
st.caption(
    "The sidebar says which model produced what and how big it is. Bigger real models (GPT-2 small, "
    "DistilGPT-2, DDPM CIFAR-10) are used when they are in the local Hugging Face cache. "
    "Teaching text follows the article *What is Generative AI?*."
)
