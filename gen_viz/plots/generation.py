"""Plotly figures for the generation lesson: plain numbers and strings in, ``go.Figure`` out.

Token texts are escaped (plotly renders a small HTML subset in labels) and shown
with visible whitespace, so " the" and "the" are told apart. Values are rounded
before they travel to the browser (GUIDE pitfall 9).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go

KEPT, CUT, MODEL = "#6a51a3", "#d9d9d9", "#9e9ac8"


def show_token(text: str) -> str:
    """A token as a readable, escaped label: spaces as '␣', newlines as '⏎'."""
    vis = text.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥") or "∅"
    return html.escape(vis, quote=False)


def _unique(labels: Sequence[str]) -> list[str]:
    """Plotly merges equal category labels: make repeated ones distinct with zero-width spaces."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        n = seen.get(lab, 0)
        seen[lab] = n + 1
        out.append(lab + "\u200b" * n)
    return out


def next_token_bars(tokens: Sequence[str], before: Sequence[float], after: Sequence[float],
                    kept: Sequence[bool], cut_by: Sequence[str], other_before: float, other_after: float,
                    title: str) -> go.Figure:
    """Top candidates: the model's own probabilities next to the reshaped ones; cut tokens in grey."""
    labels = _unique([show_token(t) for t in tokens] + ["(all other tokens)"])
    b = [round(float(x), 4) for x in before] + [round(float(other_before), 4)]
    a = [round(float(x), 4) for x in after] + [round(float(other_after), 4)]
    why = [f"cut by {c}" if c else ("kept" if k else "cut") for k, c in zip(kept, cut_by)] + ["rest of the vocabulary"]
    colors = [KEPT if k else CUT for k in kept] + ["#bcbddc"]
    fig = go.Figure()
    fig.add_bar(x=labels, y=b, name="model (temperature 1, nothing cut)", marker_color=MODEL, opacity=0.55,
                hovertemplate="%{x}: %{y:.2%} before the knobs<extra></extra>")
    fig.add_bar(x=labels, y=a, name="after temperature / top-k / top-p", marker_color=colors,
                customdata=why, hovertemplate="%{x}: %{y:.2%} after the knobs (%{customdata})<extra></extra>")
    fig.update_layout(title=title, barmode="group", yaxis=dict(title="probability", tickformat=".0%",
                      rangemode="tozero"), xaxis=dict(title="candidate next token (␣ = space)", type="category"),
                      height=380, margin=dict(l=40, r=10, t=60, b=60), legend=dict(orientation="h", y=1.12))
    return fig


def step_probabilities(step_labels: Sequence[str], probs: Sequence[float], entropies: Sequence[float],
                       forced: Sequence[bool] = ()) -> go.Figure:
    """One point per loop iteration: the chosen token's probability and the model's uncertainty."""
    x = list(range(1, len(probs) + 1))
    fig = go.Figure()
    fig.add_bar(x=x, y=[round(float(p), 4) for p in probs], name="probability of the chosen token",
                marker_color=[("#fd8d3c" if f else KEPT) for f in (list(forced) or [False] * len(x))],
                customdata=[show_token(t) for t in step_labels],
                hovertemplate="step %{x}: %{customdata} with p=%{y:.2%}<extra></extra>")
    fig.add_scatter(x=x, y=[round(float(e), 3) for e in entropies], name="uncertainty (entropy, bits)",
                    yaxis="y2", mode="lines+markers", line=dict(color="#31a354"))
    fig.update_layout(height=300, margin=dict(l=40, r=40, t=30, b=40),
                      xaxis=dict(title="step"), yaxis=dict(title="probability", tickformat=".0%", range=[0, 1]),
                      yaxis2=dict(title="bits", overlaying="y", side="right", rangemode="tozero"),
                      legend=dict(orientation="h", y=1.15))
    return fig


def surprise_bars(tokens: Sequence[str], surprise_bits: Sequence[float], expected: Sequence[str]) -> go.Figure:
    """Surprise per token (-log2 p): tall bars are tokens the model did not see coming."""
    labels = _unique([show_token(t) for t in tokens])
    fig = go.Figure(go.Bar(x=labels, y=[round(float(s), 2) for s in surprise_bits],
                           marker=dict(color=[float(s) for s in surprise_bits], colorscale="OrRd", cmin=0, cmax=16),
                           customdata=[show_token(e) for e in expected],
                           hovertemplate="%{x}: %{y:.1f} bits (the model expected %{customdata})<extra></extra>"))
    fig.update_layout(height=320, margin=dict(l=40, r=10, t=30, b=60),
                      xaxis=dict(title="token", type="category"), yaxis=dict(title="surprise (bits) = -log2 p"))
    return fig


def parameter_breakdown(rows: Sequence[tuple[str, dict[str, int]]], log_scale: bool = True) -> go.Figure:
    """Stacked horizontal bars: parameters per component for each model (a log axis shows the scale)."""
    components = [c for c in (rows[0][1] if rows else {}) if any(r[1].get(c, 0) for r in rows)]
    names = [html.escape(r[0], quote=False) for r in rows]
    fig = go.Figure()
    for comp in components:
        vals = [int(r[1].get(comp, 0)) for r in rows]
        fig.add_bar(y=names, x=vals, name=comp, orientation="h",
                    hovertemplate=f"%{{y}}<br>{comp}: %{{x:,}} parameters<extra></extra>")
    fig.update_layout(barmode="stack", height=120 + 60 * len(rows), margin=dict(l=10, r=10, t=40, b=40),
                      xaxis=dict(title="parameters (knobs)", type="log" if log_scale else "linear"),
                      legend=dict(orientation="h", y=1.2))
    return fig


def totals_bars(names: Sequence[str], totals: Sequence[int], highlight: int = 0) -> go.Figure:
    """Total parameter counts on a log axis: our model next to GPT-2 and GPT-3."""
    fig = go.Figure(go.Bar(x=[int(t) for t in totals], y=[html.escape(n, quote=False) for n in names],
                           orientation="h", marker_color=[KEPT if i == highlight else MODEL for i in range(len(names))],
                           text=[_human(t) for t in totals], textposition="outside",
                           hovertemplate="%{y}: %{x:,} parameters<extra></extra>"))
    fig.update_layout(height=90 + 50 * len(names), margin=dict(l=10, r=40, t=20, b=40),
                      xaxis=dict(title="parameters (log scale)", type="log"))
    return fig


def _human(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)
