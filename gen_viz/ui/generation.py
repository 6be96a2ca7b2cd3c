"""Streamlit glue for the generation lesson: cached model results, the per-session loop state, token chips.

Expensive results are cached by plain arguments (model key, text): the prompt's
logits (so the knobs never rerun the model), surprise scores and the parameter
breakdown. The step-by-step history lives in ``st.session_state`` as plain data
(token ids, recorded steps, the sampler's generator state), one per session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st
import torch

from gen_viz import generation as G
from gen_viz import models, sampling
from gen_viz.plots.generation import show_token
from gen_viz.ui import faults, html, loaders

FALLBACK = models.DEFAULT_TEXT_MODEL


def resolve_generator_model(key: str, allow_download: bool) -> tuple[models.TextModel | None, str, list[str]]:
    """(model, key, notices): encoders such as MiniLM are not generators, so the lesson uses the bundled GPT-2."""
    notices = []
    try:
        spec = models.get_spec(key)
    except models.ModelUnavailable as err:
        spec, notices = None, [str(err)]
    if spec is not None and spec.kind != models.CAUSAL_LM:
        notices.append(f"{spec.label} is an encoder: it reads the whole text in both directions to understand it, "
                       "and was never trained to predict the next word, so it cannot generate text. This lesson "
                       "uses the bundled tiny GPT-2 instead (pick GPT-2 in the sidebar if you have it).")
        key = FALLBACK
    tm, reason = loaders.try_text_model(key, allow_download)
    if tm is None and key != FALLBACK:
        notices.append(f"{reason} Using the bundled tiny GPT-2.")
        key = FALLBACK
        tm, reason = loaders.try_text_model(key)
    if tm is None:
        st.error(reason)
    return tm, key, notices


def _model(key: str, allow_download: bool) -> models.TextModel:
    tm, reason = loaders.try_text_model(key, allow_download)
    if tm is None:
        raise models.ModelUnavailable(reason or key)
    return tm


@st.cache_data(show_spinner="Running the model once for this prompt…", max_entries=128, ttl=3600)
def prompt_logits(key: str, allow_download: bool, text: str) -> tuple[G.Prompt, np.ndarray]:
    """The prompt's tokens and the model's logits for the next token: one forward pass per (model, prompt)."""
    tm = _model(key, allow_download)
    with tm.lock:
        prompt = G.prepare_prompt(tm.tokenizer, text, tm.info.context_length, reserve=1)
        return prompt, G.next_token_logits(tm.model, prompt.ids)


@st.cache_data(show_spinner="Scoring every token…", max_entries=64, ttl=3600)
def surprise_for(key: str, allow_download: bool, text: str) -> G.Surprise:
    tm = _model(key, allow_download)
    with tm.lock:
        return G.surprise(tm.model, tm.tokenizer, text)


@st.cache_data(show_spinner=False, max_entries=16)
def breakdown_for(key: str, allow_download: bool) -> G.Breakdown:
    tm = _model(key, allow_download)
    return G.parameter_breakdown(tm.model, tm.spec.label)


# --------------------------------------------------------------------------- the step-by-step state


@dataclass
class Line:
    """One branch of text: the prompt, the recorded steps, and the sampler's state to continue it."""

    name: str
    prompt: G.Prompt
    steps: list[G.Step]
    gen_state: torch.Tensor | None  # torch.Generator.get_state() after the last sampled step
    done: str = ""  # "" | "end" | "context"
    parent: str = ""
    fork_at: int = -1  # step index where this branch took another token
    knobs_used: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return list(self.prompt.ids) + [s.token_id for s in self.steps]

    def text(self, tokenizer) -> str:
        return self.prompt.text + tokenizer.decode([s.token_id for s in self.steps],
                                                   clean_up_tokenization_spaces=False)


def extend(tm: models.TextModel, line: Line, n: int, knobs: sampling.Knobs, seed: int, on_step=None) -> Line:
    """Run the loop for up to ``n`` more tokens on ``line`` (in place), calling ``on_step(line)`` live."""
    if line.done:
        return line
    gen = sampling.make_generator(seed)
    if line.gen_state is not None:
        gen.set_state(line.gen_state)
    with tm.lock:
        ctx = tm.info.context_length
        prefix = G.Prompt(line.ids, line.prompt.text)
        try:
            for step in G.iter_steps(tm.model, tm.tokenizer, prefix, n, knobs, seed, generator=gen,
                                     first_index=len(line.steps)):
                line.steps.append(step)
                if step.token_id == G.end_token_id(tm.model, tm.tokenizer):
                    line.done = "end"
                if on_step is not None:
                    on_step(line)
        except Exception as err:  # a model failing mid-generation: keep the steps so far, say what happened
            faults.remember("generation", f"The model, at step {len(line.steps) + 1}", err)
            return line
        faults.clear("generation")
        if not line.done and len(line.ids) >= ctx:
            line.done = "context"
    line.gen_state = gen.get_state()
    return line


def fork(tm: models.TextModel, line: Line, step_index: int, token_id: int, n_more: int, knobs: sampling.Knobs,
         seed: int, name: str) -> Line:
    """A new branch: ``line``'s first ``step_index`` tokens, then ``token_id``, then ``n_more`` sampled tokens."""
    with tm.lock:
        prefix = G.Prompt(list(line.prompt.ids) + [s.token_id for s in line.steps[:step_index]], line.prompt.text)
        forced_step = next(G.iter_steps(tm.model, tm.tokenizer, prefix, 1, knobs, seed, forced=[int(token_id)],
                                        first_index=step_index))
    new = Line(name, line.prompt, list(line.steps[:step_index]) + [forced_step], None, parent=line.name,
               fork_at=step_index)
    if forced_step.token_id == G.end_token_id(tm.model, tm.tokenizer):
        new.done = "end"
    return extend(tm, new, n_more, knobs, seed)


# --------------------------------------------------------------------------- HTML chips (escaped)


def _bg(value: float) -> str:
    """White (0) to deep orange (1)."""
    v = float(np.clip(value, 0.0, 1.0))
    r, g, b = 255, int(255 - 150 * v), int(255 - 220 * v)
    return f"rgb({r},{g},{b})"


def token_chips(texts: list[str], scores: list[float], titles: list[str], prefix: str = "") -> str:
    """Tokens as coloured chips (score in [0, 1]); every learner-derived string escaped."""
    chips = "".join(
        f'<span title="{html.esc(t)}" style="background:{_bg(s)};border:1px solid #ddd;border-radius:4px;'
        f'padding:1px 3px;margin:1px;display:inline-block;font-family:monospace;white-space:pre">'
        f"{show_token(x)}</span>"
        for x, s, t in zip(texts, scores, titles))
    lead = f'<span style="color:#666;font-family:monospace;white-space:pre-wrap">{html.esc(prefix)}</span>' if prefix else ""
    return f'<div style="line-height:2">{lead}{chips}</div>'


def line_html(line: Line, highlight_from: int = -1) -> str:
    """A branch's text: the prompt in grey, new tokens coloured by how unlikely the model found them."""
    texts = [s.text for s in line.steps]
    scores = [min(1.0, -np.log2(max(s.prob_model, 1e-12)) / 12) for s in line.steps]
    titles = [f"step {s.index + 1}: p={s.prob_model:.3f}, rank {s.rank}" + (" (your pick)" if s.forced else "")
              for s in line.steps]
    body = token_chips(texts, scores, titles, prefix=line.prompt.text)
    if highlight_from >= 0:
        body = body.replace(f"step {highlight_from + 1}: ", f"step {highlight_from + 1} (fork): ", 1)
    return body
