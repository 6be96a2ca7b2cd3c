"""Lesson 4: diffusion, from static to picture (the article's foggy photo)."""

import streamlit as st

from gen_viz.ui import diffusion as ui
from gen_viz.ui import loaders, sidebar

st.set_page_config(page_title="GenViz: Diffusion", layout="wide")
sel = sidebar.render(load_diffusion=True)
st.title("Diffusion: from static to picture")
st.markdown(
    "Think of a photo slowly lost in fog. A diffusion model is trained to look at a foggy photo and guess the fog, "
    "so that, starting from pure fog and removing a little at a time, a picture appears, steered by your words."
)
dm = loaders.diffusion_model(sel.diffusion_model, sel.allow_download)
if dm is None:
    st.stop()

ui.forward_section(dm, sel.diffusion_model)
st.divider()
traj = ui.reverse_section(dm, sel.diffusion_model, sel.allow_download)
st.divider()
ui.guidance_section(dm, sel.diffusion_model, sel.allow_download, traj)
st.divider()
ui.text_section(dm, sel.diffusion_model, sel.allow_download, st.session_state.get("dz_prompt", ""))
