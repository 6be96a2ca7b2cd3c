"""Plotly figures for the diffusion lesson: plain arrays in, go.Figure out (values rounded: pitfall 9)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

SIGNAL, NOISE, ALPHA = "#1f77b4", "#d62728", "#7f7f7f"


def _thin(x: np.ndarray, n: int = 250) -> np.ndarray:
    return np.unique(np.linspace(0, len(x) - 1, min(n, len(x))).round().astype(int))


def schedule_figure(signal: np.ndarray, noise: np.ndarray, alphas_cumprod: np.ndarray, t: int | None = None,
                    height: int = 300) -> go.Figure:
    """The noise schedule: how much of the image (sqrt alpha-bar) and of the noise (sqrt(1 - alpha-bar))
    make up x_t, plus alpha-bar itself, with a marker at the chosen t."""
    idx = _thin(signal)
    fig = go.Figure()
    for y, name, colour, dash in ((signal, "image weight √ᾱ", SIGNAL, None), (noise, "noise weight √(1−ᾱ)", NOISE, None),
                                  (alphas_cumprod, "ᾱ (alpha-bar)", ALPHA, "dot")):
        fig.add_trace(go.Scatter(x=idx.tolist(), y=np.round(y[idx], 4).tolist(), name=name, mode="lines",
                                 line=dict(color=colour, dash=dash)))
    if t is not None:
        t = int(t)
        fig.add_vline(x=t, line=dict(color="black", width=1))
        fig.add_trace(go.Scatter(x=[t, t], y=[round(float(signal[t]), 4), round(float(noise[t]), 4)], mode="markers",
                                 marker=dict(color=[SIGNAL, NOISE], size=10), showlegend=False,
                                 hovertemplate="t=%{x}: %{y}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="timestep t",
                      yaxis=dict(range=[0, 1.02], title="weight"), legend=dict(orientation="h", y=1.15),
                      title=None)
    return fig


def trajectory_figure(timesteps: np.ndarray, noise_std: np.ndarray, guidance_gap: np.ndarray | None = None,
                      current: int | None = None, height: int = 260) -> go.Figure:
    """Per step: the size of the predicted noise and (with guidance) how far the prompt pulls the prediction."""
    steps = np.arange(1, len(timesteps) + 1)
    custom = timesteps.tolist()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps.tolist(), y=np.round(noise_std, 4).tolist(), name="predicted noise (std)",
                             customdata=custom, hovertemplate="step %{x} (t=%{customdata}): %{y}<extra></extra>",
                             line=dict(color=NOISE)))
    if guidance_gap is not None:
        fig.add_trace(go.Scatter(x=steps.tolist(), y=np.round(guidance_gap, 4).tolist(),
                                 name="prompt's pull |cond − uncond|", customdata=custom,
                                 hovertemplate="step %{x} (t=%{customdata}): %{y}<extra></extra>",
                                 line=dict(color=SIGNAL)))
    if current is not None:
        fig.add_vline(x=int(current), line=dict(color="black", width=1))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="denoising step",
                      legend=dict(orientation="h", y=1.2))
    return fig


def token_embedding_figure(tokens: list[str], hidden: np.ndarray, dims: int = 64, height: int | None = None) -> go.Figure:
    """Heatmap of the text encoder's output: one row per token (what cross-attention reads), first `dims` dims."""
    z = np.round(hidden[:, :dims], 2)
    labels = [f"{i}: {t}" for i, t in enumerate(tokens)]  # plotly renders text safely (no HTML from tokens)
    fig = go.Figure(go.Heatmap(z=z.tolist(), y=labels, colorscale="RdBu", zmid=0,
                               hovertemplate="%{y}, dim %{x}: %{z}<extra></extra>"))
    fig.update_layout(height=height or 80 + 22 * len(tokens), margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title=f"embedding dimension (first {dims} of {hidden.shape[1]})",
                      yaxis=dict(autorange="reversed"))
    return fig


def similarity_figure(words: list[str], similarity: np.ndarray, height: int = 300) -> go.Figure:
    """Cosine similarity of the prompt's sentence vector with reference words, highest first."""
    order = np.argsort(-similarity)
    fig = go.Figure(go.Bar(x=[words[i] for i in order], y=np.round(similarity[order], 3).tolist(),
                           marker_color=SIGNAL, hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="cosine similarity")
    return fig
