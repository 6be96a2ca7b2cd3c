"""Plotly figures for the attention lesson: plain arrays and labels in, ``go.Figure`` out.

Values are rounded before they go into a figure (figures travel to the browser as
JSON, GUIDE pitfall 9). Axes are numeric positions with the tokens as tick labels,
so a word that appears twice ("the ... the") keeps two separate rows.
Plotly escapes tick labels and hover text itself (they are set as text, not markup),
but labels are still passed through ``_plain`` so "<b>" in a sentence shows literally.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORSCALE = "Purples"
MASKED_NOTE = "masked: a causal model never looks at later tokens"


def _plain(label: str) -> str:
    """Plotly renders a small HTML subset in labels (<b>, <br>): escape so text shows as typed."""
    return html.escape(label, quote=False)


def _short(label: str, n: int = 14) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def heatmap(
    matrix: np.ndarray,
    labels: list[str],
    title: str,
    causal: bool = False,
    decimals: int = 3,
    highlight: int | None = None,
) -> go.Figure:
    """One attention matrix: rows = the token doing the looking ("from"), columns = where it looks ("to")."""
    m = np.round(np.asarray(matrix, dtype=float), decimals)
    n = m.shape[0]
    z: list[list[float | None]] = m.tolist()
    if causal:  # the upper triangle is structurally zero: show it empty, and say why on hover
        for i in range(n):
            for j in range(i + 1, n):
                z[i][j] = None
    ticks = [_plain(_short(lab)) for lab in labels]
    full = [_plain(lab) for lab in labels]
    hover_from = [[full[i]] * n for i in range(n)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(n)),
            y=list(range(n)),
            customdata=[[[hover_from[i][j], full[j]] for j in range(n)] for i in range(n)],
            hovertemplate="from <b>%{customdata[0]}</b> to <b>%{customdata[1]}</b>: %{z:.3f}<extra></extra>",
            colorscale=COLORSCALE,
            zmin=0.0,
            zmax=1.0,
            colorbar=dict(title="attention", thickness=12),
            hoverongaps=False,
            xgap=1,
            ygap=1,
        )
    )
    size = max(320, min(900, 120 + 26 * n))
    fig.update_layout(
        title=dict(text=_plain(title), x=0, font=dict(size=15)),
        height=size,
        margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(title="attends to (key)", tickmode="array", tickvals=list(range(n)), ticktext=ticks,
                   side="top", tickangle=-60, constrain="domain"),
        yaxis=dict(title="token (query)", tickmode="array", tickvals=list(range(n)), ticktext=ticks,
                   autorange="reversed", scaleanchor="x", constrain="domain"),
        plot_bgcolor="#f4f4f6" if not causal else "#e9e9ee",
    )
    if highlight is not None and 0 <= highlight < n:
        fig.add_shape(type="rect", x0=-0.5, x1=n - 0.5, y0=highlight - 0.5, y1=highlight + 0.5,
                      line=dict(color="#E4572E", width=2))
    return fig


def head_grid(weights: np.ndarray, causal: bool = False, decimals: int = 2, first_layer: int = 0) -> go.Figure:
    """Every layer x head as one tiled image (one trace: fast to draw, small to send).

    ``weights`` is (layers, heads, T, T). Tiles are separated by a blank line; rows are
    layers (0 at the top), columns are heads (0 on the left).
    """
    w = np.round(np.asarray(weights, dtype=float), decimals)
    n_layers, n_heads, t, _ = w.shape
    step = t + 1
    canvas = np.full((n_layers * step - 1, n_heads * step - 1), np.nan)
    for layer in range(n_layers):
        for head in range(n_heads):
            tile = w[layer, head].copy()
            if causal:
                tile[np.triu_indices(t, k=1)] = np.nan
            canvas[layer * step: layer * step + t, head * step: head * step + t] = tile
    z = [[None if np.isnan(v) else float(v) for v in row] for row in canvas]
    fig = go.Figure(
        go.Heatmap(z=z, colorscale=COLORSCALE, zmin=0, zmax=1, showscale=False, hoverongaps=False,
                   hovertemplate="%{z:.2f}<extra></extra>")
    )
    centers = lambda k: [i * step + (t - 1) / 2 for i in range(k)]  # noqa: E731
    fig.update_layout(
        height=int(max(200, min(1100, 70 + 1000 * canvas.shape[0] / canvas.shape[1]))),
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(tickmode="array", tickvals=centers(n_heads), ticktext=[f"head {h}" for h in range(n_heads)],
                   side="top", showgrid=False, zeroline=False, constrain="domain"),
        yaxis=dict(tickmode="array", tickvals=centers(n_layers), ticktext=[f"layer {first_layer + k}" for k in range(n_layers)],
                   autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x", constrain="domain"),
        plot_bgcolor="white",
    )
    return fig


def focus_bars(rows: np.ndarray, labels: list[str], focus_label: str, layer: int, cols: int = 4,
               target: int | None = None) -> go.Figure:
    """Where one token's attention goes, one small bar chart per head of ``layer``. ``rows`` is (heads, T).

    Orange marks each head's top target; green marks ``target`` (the word we ask about), whose share
    is also in each subplot's title.
    """
    r = np.round(np.asarray(rows, dtype=float), 3)
    n_heads, t = r.shape
    cols = max(1, min(cols, n_heads))
    n_rows = -(-n_heads // cols)
    has_target = target is not None and 0 <= target < t
    names = [f"head {h}" + (f" · {_plain(_short(labels[target], 10))} {r[h, target]:.2f}" if has_target else "")
             for h in range(n_heads)]
    fig = make_subplots(rows=n_rows, cols=cols, subplot_titles=names,
                        shared_yaxes=True, vertical_spacing=0.5 / max(n_rows, 1) if n_rows > 1 else 0.1)
    ticks = [_plain(_short(lab, 10)) for lab in labels]
    full = [_plain(lab) for lab in labels]
    for h in range(n_heads):
        best = int(np.argmax(r[h]))
        fig.add_trace(
            go.Bar(x=list(range(t)), y=r[h].tolist(), customdata=full,
                   marker_color=["#2A9D5C" if has_target and j == target else "#E4572E" if j == best
                                 else "#6C4AB6" for j in range(t)],
                   hovertemplate="to <b>%{customdata}</b>: %{y:.3f}<extra></extra>", showlegend=False),
            row=h // cols + 1, col=h % cols + 1,
        )
    fig.update_xaxes(tickmode="array", tickvals=list(range(t)), ticktext=ticks, tickangle=-60, tickfont=dict(size=9))
    fig.update_yaxes(range=[0, 1])
    fig.update_layout(
        title=dict(text=f"Where “{_plain(focus_label)}” looks, layer {layer}, every head "
                   f"(orange = its top target{', green = the word asked about' if has_target else ''})",
                   x=0, font=dict(size=15)),
        height=max(300, 230 * n_rows), margin=dict(l=10, r=10, t=70, b=10),
    )
    return fig


def ranking_bars(scores: list[tuple[str, float]], title: str) -> go.Figure:
    """The top heads for "source -> target", as horizontal bars (best at the top)."""
    names = [name for name, _ in scores]
    values = [round(v, 3) for _, v in scores]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color="#6C4AB6",
                           text=[f"{v:.2f}" for v in values], textposition="outside",
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(
        title=dict(text=_plain(title), x=0, font=dict(size=15)),
        height=max(240, 60 + 28 * len(scores)), margin=dict(l=10, r=30, t=50, b=10),
        xaxis=dict(range=[0, 1.1], title="share of attention"), yaxis=dict(autorange="reversed"),
    )
    return fig


def pair_bars(row_a: np.ndarray, labels_a: list[str], row_b: np.ndarray, labels_b: list[str],
              name_a: str, name_b: str, title: str) -> go.Figure:
    """The same head's attention from one token in two sentences, side by side."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[_plain(name_a), _plain(name_b)], shared_yaxes=True)
    for col, (row, labels) in enumerate([(row_a, labels_a), (row_b, labels_b)], start=1):
        r = np.round(np.asarray(row, dtype=float), 3)
        full = [_plain(lab) for lab in labels]
        fig.add_trace(go.Bar(x=list(range(len(r))), y=r.tolist(), customdata=full, marker_color="#6C4AB6",
                             hovertemplate="to <b>%{customdata}</b>: %{y:.3f}<extra></extra>", showlegend=False),
                      row=1, col=col)
        fig.update_xaxes(tickmode="array", tickvals=list(range(len(r))),
                         ticktext=[_plain(_short(lab, 10)) for lab in labels], tickangle=-60, row=1, col=col)
    fig.update_yaxes(range=[0, 1], title_text="share of attention", row=1, col=1)
    fig.update_layout(title=dict(text=_plain(title), x=0, font=dict(size=15)), height=380,
                      margin=dict(l=10, r=10, t=80, b=10))
    return fig
