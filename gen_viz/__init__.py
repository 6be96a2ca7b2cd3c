"""GenViz backend: tokenizers, attention, generation, diffusion and embeddings as plain data.

Nothing here imports Streamlit except ``gen_viz.ui``. Importing the package
applies the offline defaults (see ``offline.py``) before transformers or
diffusers are imported anywhere, because the Hugging Face libraries read their
network settings at import time (GUIDE pitfall 7).
"""

from gen_viz.offline import apply_offline_defaults

apply_offline_defaults()
