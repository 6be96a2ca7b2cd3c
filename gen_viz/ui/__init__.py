"""Streamlit glue: cached loaders, the shared sidebar, shareable links and safe HTML. The only place
(with pages/ and app.py) that imports Streamlit."""
