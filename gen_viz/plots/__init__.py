"""Plotly figure builders, one module per lesson: plain data in, ``go.Figure`` out."""
