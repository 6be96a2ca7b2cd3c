"""Lesson page (being built in its own issue)."""

import streamlit as st

from gen_viz.ui import sidebar

st.set_page_config(page_title="GenViz: Embeddings", layout="wide")
sidebar.render()
st.title("Embeddings")
st.info("This lesson is being built.")
