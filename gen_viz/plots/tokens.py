"""Plotly figure for the tokens lesson: when does "1 token ~ 4 characters" hold? Plain numbers in,
``go.Figure`` out (values rounded: figures travel to the browser as JSON, GUIDE pitfall 9)."""

from __future__ import annotations

import html

import plotly.graph_objects as go

PALETTE = ["#6C4AB6", "#E07A5F", "#3D9970", "#F2B134"]


def _plain(label: str) -> str:
    """Plotly renders a small HTML subset in labels: escape so text shows as typed."""
    return html.escape(label, quote=False)


def rule_of_thumb_chart(samples: list[str], series: dict[str, list[float]], rule: float = 4.0) -> go.Figure:
    """Grouped bars: characters per token for each sample text (x) and tokenizer (colour), with the
    rule of thumb as a dashed line. Bars far below the line are texts the rule underestimates."""
    fig = go.Figure()
    for i, (name, values) in enumerate(series.items()):
        fig.add_bar(
            x=[_plain(s) for s in samples], y=[round(v, 2) for v in values], name=_plain(name),
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate="%{x}: %{y:.2f} characters per token<extra>" + _plain(name) + "</extra>",
        )
    fig.add_hline(y=rule, line_dash="dash", line_color="#333",
                  annotation_text=f"rule of thumb: {rule:g} characters per token",
                  annotation_position="top right")
    fig.update_layout(barmode="group", height=340, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="characters per token", legend=dict(orientation="h", y=-0.2),
                      template="plotly_white")
    return fig
