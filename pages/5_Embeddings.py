"""Lesson 5: embeddings, GPS coordinates for words (issue 9).

A thin page: the widgets and caching live in gen_viz/ui/embeddings.py, the maths in
gen_viz/embeddings.py, the figures in gen_viz/plots/embeddings.py.
"""

import streamlit as st

from gen_viz.ui import embeddings as lesson
from gen_viz.ui import sidebar

st.set_page_config(page_title="GenViz: Embeddings", page_icon="🗺️", layout="wide")
sel = sidebar.render()

st.title("🗺️ Embeddings: GPS coordinates for words")
st.markdown(
    "> *Imagine every word has GPS coordinates in a massive 300+ dimensional space. Words with similar meanings "
    "are “close together” on this map. “Cat” and “kitten” are neighbors. “Cat” and “spaceship” are far apart.*\n\n"
    "Below, those coordinates come straight out of a real model's lookup table. Find the neighbours of any word, "
    "flatten a few hundred dimensions onto your screen, and try the famous **king − man + woman**."
)

table = lesson.source_picker(sel)
vectors, _groups = lesson.map_section(table)
lesson.neighbours_section(table)
lesson.heatmap_section(vectors)
lesson.analogy_section(table)
