"""Lesson page (being built in its own issue)."""

import streamlit as st

from gen_viz.ui import sidebar

st.set_page_config(page_title="GenViz: Tokens", layout="wide")
sidebar.render()
st.title("Tokens")
st.info("This lesson is being built.")
