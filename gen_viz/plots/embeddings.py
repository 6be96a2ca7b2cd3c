"""Plotly figures for the embeddings lesson: plain data in, ``go.Figure`` out.

Plotly renders a subset of HTML (``<b>``, ``<br>``, ``<a href>``...) inside text,
hover labels, tick labels and legend names, so every word is escaped here
(``&``, ``<``, ``>``) before it goes into a figure: a learner who types
``<b>cat</b>`` sees exactly that. Coordinates are rounded (pitfall 9).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE = qualitative.D3 + qualitative.Set2
BACKGROUND_COLOUR = "rgba(150,150,150,0.35)"


def esc(text: object) -> str:
    """Text for a plotly label: entities for & < >, so tags show as typed."""
    return html.escape(str(text), quote=False)


def _r(values: np.ndarray, digits: int = 4) -> list[float]:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def group_colours(groups: Sequence[str]) -> dict[str, str]:
    order = list(dict.fromkeys(groups))
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(order)}


def map_figure(points: np.ndarray, labels: Sequence[str], groups: Sequence[str], hovers: Sequence[Sequence[str]],
               flagged: Sequence[bool] = (), background: np.ndarray | None = None,
               background_labels: Sequence[str] = (), title: str = "", axis_titles: tuple[str, str] = ("", "")
               ) -> go.Figure:
    """The word map: one labelled point per word, one trace (colour, legend entry) per group.

    ``hovers[i]`` are extra hover lines for word i (its nearest neighbours); ``flagged[i]``
    marks words averaged from several tokens (an asterisk on the label).
    """
    fig = go.Figure()
    if background is not None and len(background):
        fig.add_trace(go.Scattergl(
            x=_r(background[:, 0]), y=_r(background[:, 1]), mode="markers", name="common words (context)",
            marker=dict(size=4, color=BACKGROUND_COLOUR), hovertext=[esc(w) for w in background_labels],
            hoverinfo="text"))
    flagged = list(flagged) or [False] * len(labels)
    colours = group_colours(groups)
    for group, colour in colours.items():
        idx = [i for i, g in enumerate(groups) if g == group]
        text = [esc(labels[i]) + ("*" if flagged[i] else "") for i in idx]
        hover = []
        for i in idx:
            head = f"<b>{esc(labels[i])}</b>" + (" (mean of several tokens)" if flagged[i] else "")
            lines = [esc(line) for line in hovers[i]] if i < len(hovers) else []
            hover.append("<br>".join([head, f"<i>{esc(group)}</i>"] + (["nearest:"] + lines if lines else [])))
        fig.add_trace(go.Scatter(
            x=_r(points[idx, 0]), y=_r(points[idx, 1]), mode="markers+text", name=esc(group), text=text,
            textposition="top center", hovertext=hover, hoverinfo="text",
            marker=dict(size=10, color=colour, line=dict(width=1, color="white"))))
    fig.update_layout(
        title=title, height=620, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.08),
        xaxis=dict(title=axis_titles[0], zeroline=False), yaxis=dict(title=axis_titles[1], zeroline=False),
        hoverlabel=dict(align="left"))
    return fig


def heatmap_figure(words: Sequence[str], sims: np.ndarray) -> go.Figure:
    """Cosine similarity of every pair of words (1 = same direction, 0 = unrelated)."""
    labels = [esc(w) for w in words]
    n = len(words)
    hover = [[f"{labels[i]} · {labels[j]}: {sims[i, j]:.2f}" for j in range(n)] for i in range(n)]
    fig = go.Figure(go.Heatmap(
        z=_r(sims, 3), x=labels, y=labels, zmin=-0.2, zmax=1.0, colorscale="Viridis",
        hovertext=hover, hoverinfo="text", colorbar=dict(title="cosine"),
        text=[[f"{v:.2f}" for v in row] for row in sims] if n <= 16 else None,
        texttemplate="%{text}" if n <= 16 else None))
    fig.update_layout(height=max(360, 22 * n + 140), margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(tickangle=-45))
    return fig


def neighbours_figure(word: str, words: Sequence[str], cosines: Sequence[float]) -> go.Figure:
    """Horizontal bars: the nearest words and their cosine similarity, closest on top."""
    fig = go.Figure(go.Bar(
        x=_r(cosines, 3), y=[esc(w) for w in words], orientation="h", marker_color=PALETTE[0],
        text=[f"{c:.2f}" for c in cosines], textposition="outside", hoverinfo="x+y"))
    fig.update_layout(title=f"Nearest words to “{esc(word)}” (cosine similarity, all dimensions)",
                      height=max(260, 26 * len(words) + 90), margin=dict(l=10, r=40, t=50, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(range=[0, 1.05], title="cosine similarity"))
    return fig


def vector_figure(word: str, vector: np.ndarray) -> go.Figure:
    """All of a word's numbers as one coloured strip: its 'GPS coordinates' in D dimensions."""
    v = np.asarray(vector, dtype=float)
    lim = float(np.abs(v).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=[_r(v, 4)], x=list(range(len(v))), colorscale="RdBu", zmid=0, zmin=-lim, zmax=lim,
        hovertemplate="dimension %{x}: %{z}<extra></extra>", colorbar=dict(thickness=10)))
    fig.update_layout(title=f"All {len(v)} numbers of “{esc(word)}”", height=170,
                      margin=dict(l=10, r=10, t=40, b=30), yaxis=dict(visible=False),
                      xaxis=dict(title="dimension"))
    return fig


def analogy_figure(points: dict[str, np.ndarray], a: str, b: str, c: str, answer: str | None,
                   others: Sequence[str] = (), target: np.ndarray | None = None) -> go.Figure:
    """The parallelogram: b->c (e.g. man->woman) drawn again from a (king->?), landing at the answer.

    ``points`` maps each word to its 2D position (the same projection for all of them);
    ``target`` is where a - b + c itself lands (exact for PCA, which is linear).
    """
    fig = go.Figure()

    def arrow(src: str, dst: str, colour: str, dash: str = "solid") -> None:
        (x0, y0), (x1, y1) = points[src], points[dst]
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowsize=1.3, arrowwidth=2.5, arrowcolor=colour,
                           opacity=0.85 if dash == "solid" else 0.45, text="")

    arrow(b, c, PALETTE[1])
    arrow(b, a, PALETTE[2], "dash")
    if answer is not None and answer in points:
        arrow(a, answer, PALETTE[1])
        arrow(c, answer, PALETTE[2], "dash")
    roles = [(b, "b"), (a, "a"), (c, "c")] + ([(answer, "answer")] if answer else []) + [(w, "candidate") for w in others]
    colours = {"a": PALETTE[0], "b": PALETTE[0], "c": PALETTE[0], "answer": PALETTE[3], "candidate": "#999999"}
    seen = set()
    for word, role in roles:
        if word in seen or word not in points:
            continue
        seen.add(word)
        x, y = points[word]
        fig.add_trace(go.Scatter(
            x=[round(float(x), 4)], y=[round(float(y), 4)], mode="markers+text", text=[esc(word)],
            textposition="top center", name=role, showlegend=False, hovertext=[f"{esc(word)} ({role})"],
            hoverinfo="text", marker=dict(size=14 if role != "candidate" else 9, color=colours[role],
                                          symbol="diamond" if role == "answer" else "circle")))
    if target is not None:
        fig.add_trace(go.Scatter(
            x=[round(float(target[0]), 4)], y=[round(float(target[1]), 4)], mode="markers+text",
            text=[f"{esc(a)} − {esc(b)} + {esc(c)}"], textposition="bottom center", showlegend=False,
            hovertext=["where the arithmetic lands"], hoverinfo="text",
            marker=dict(size=16, symbol="x", color="black")))
    xy = np.array([points[w] for w in seen] + ([target] if target is not None else []), dtype=float)  # (m, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((hi - lo) * 0.18, 1e-3)  # room for the labels
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(zeroline=False, title="PCA axis 1", range=_r([lo[0] - pad[0], hi[0] + pad[0]])),
                      yaxis=dict(zeroline=False, title="PCA axis 2", range=_r([lo[1] - pad[1], hi[1] + pad[1]])))
    return fig
