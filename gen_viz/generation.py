"""Next-token prediction and the generation loop, made visible (issue 7).

The article's pseudocode, one function per line of it::

    def generate_text(prompt):
        tokens = tokenize(prompt)                     -> prepare_prompt()
        while not done:
            context = attention_mechanism(tokens)     -> model(...) with the key/value cache
            next_token = predict_next(context)        -> sampling.reshape() + sampling.pick()
            tokens.append(next_token)                 -> Step recorded in Generation.steps
            if next_token == END_TOKEN: break         -> stop_reason "end"
        return detokenize(tokens)                     -> Generation.text

Every function takes a loaded model + tokenizer (``gen_viz.models.TextModel``
or the two objects) and returns small dataclasses of numpy arrays and strings.
No Streamlit here. Callers hold ``tm.lock`` around model calls.

Also here: per-token surprise and perplexity of any text, and the parameter
count broken down by component (the "mixing board with billions of knobs").
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from gen_viz import sampling

DEFAULT_PROMPT = "The animal didn't cross the street because"
TOP_N = 10  # alternatives recorded per step
MAX_NEW_TOKENS = 200  # a hard cap for one request


# ---------------------------------------------------------------------------------------------
# 1. tokens = tokenize(prompt)
# ---------------------------------------------------------------------------------------------


@dataclass
class Prompt:
    ids: list[int]  # what the model reads (never empty)
    text: str  # the prompt as given
    notices: list[str] = field(default_factory=list)
    started_from_bos: bool = False  # empty prompt: the loop starts from the begin token
    n_dropped: int = 0  # tokens cut from the front to fit the context


def start_token_id(tokenizer) -> int | None:
    """The token a generation may start from: BOS, else EOS (GPT-2 uses <|endoftext|> for both)."""
    for tid in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return None


def end_token_id(model, tokenizer) -> int | None:
    eos = getattr(model.generation_config, "eos_token_id", None) or model.config.eos_token_id
    if isinstance(eos, (list, tuple)):
        eos = eos[0] if eos else None
    return int(eos) if eos is not None else tokenizer.eos_token_id


def context_length(model) -> int:
    cfg = model.config
    return int(getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", 1024))


def prepare_prompt(tokenizer, text: str, context: int, reserve: int = 0) -> Prompt:
    """Token ids for the prompt: the begin token when empty, the *last* part when too long.

    ``reserve`` tokens are kept free for generation, so prompt + new tokens fit the context.
    """
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
    notices: list[str] = []
    from_bos = False
    if not ids:
        bos = start_token_id(tokenizer)
        if bos is None:
            raise ValueError("This tokenizer has no begin/end token, so an empty prompt cannot start a text.")
        ids = [bos]
        from_bos = True
        notices.append(f"The prompt is empty: the model starts from its begin token "
                       f"{tokenizer.convert_ids_to_tokens(bos)!r}, as if starting a new document.")
    room = max(1, context - max(0, reserve))
    dropped = max(0, len(ids) - room)
    if dropped:
        ids = ids[dropped:]
        notices.append(f"The prompt is {len(ids) + dropped:,} tokens but the model reads at most {context:,} "
                       f"(with {reserve} kept for new tokens): only the last {len(ids):,} tokens are used.")
    return Prompt(ids, text, notices, from_bos, dropped)


# ---------------------------------------------------------------------------------------------
# 2. next_token = predict_next(context): one forward pass, the logits cached by the page
# ---------------------------------------------------------------------------------------------


@torch.inference_mode()
def next_token_logits(model, ids: Sequence[int]) -> np.ndarray:
    """The model's raw scores (logits) for the token after ``ids``: a (V,) float32 array."""
    out = model(input_ids=torch.tensor([list(ids)]), use_cache=False)
    return out.logits[0, -1].float().numpy().copy()  # (V,)


@dataclass
class Candidate:
    token_id: int
    text: str  # decoded token, shown as text (never as HTML)
    prob_before: float  # the model's probability (temperature 1, nothing cut)
    prob_after: float  # after the knobs (0 when cut)
    kept: bool
    cut_by: str  # "" | "top-k" | "top-p"


@dataclass
class NextTokenView:
    """The bar chart's data: top candidates before/after the knobs, plus the rest of the mass."""

    candidates: list[Candidate]
    other_before: float  # mass of every token not listed
    other_after: float
    n_kept: int  # tokens the knobs keep (could be sampled)
    vocab_size: int
    entropy_before: float  # bits
    entropy_after: float
    knobs: sampling.Knobs


def token_text(tokenizer, token_id: int) -> str:
    return tokenizer.decode([int(token_id)], clean_up_tokenization_spaces=False)


def next_token_view(tokenizer, logits: np.ndarray | torch.Tensor, knobs: sampling.Knobs,
                    top: int = 12) -> NextTokenView:
    """Turn cached logits + knobs into the chart's data. Never calls the model."""
    dist = sampling.reshape(torch.as_tensor(logits), knobs)
    ids, before, after, kept = sampling.top_table(dist, top)
    cands = []
    for tid, b, a, k in zip(ids.tolist(), before.tolist(), after.tolist(), kept.tolist()):
        cut = "top-k" if bool(dist.cut_by_k[tid]) else "top-p" if bool(dist.cut_by_p[tid]) else ""
        cands.append(Candidate(tid, token_text(tokenizer, tid), b, a, bool(k), cut))
    return NextTokenView(cands, max(0.0, 1.0 - float(before.sum())), max(0.0, 1.0 - float(after.sum())),
                         dist.n_kept, int(dist.before.shape[0]), sampling.entropy_bits(dist.before),
                         sampling.entropy_bits(dist.after), knobs)


# ---------------------------------------------------------------------------------------------
# 3. the loop: while not done, predict, pick, append, stop at the end token
# ---------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One iteration of the loop."""

    index: int  # 0 = the first new token
    token_id: int
    text: str
    prob: float  # probability of the chosen token after the knobs (what it was drawn from)
    prob_model: float  # the model's own probability for it (temperature 1, nothing cut)
    rank: int  # 1 = the model's favourite
    entropy: float  # bits, of the model's distribution at this step
    n_kept: int  # how many tokens the knobs left in the running
    alt_ids: np.ndarray  # (TOP_N,) the model's top tokens at this step, most likely first
    alt_texts: list[str]
    alt_probs: np.ndarray  # (TOP_N,) their probabilities (model's own)
    forced: bool = False  # chosen by the learner (a branch), not by the sampler


@dataclass
class Generation:
    prompt: Prompt
    steps: list[Step]
    stop_reason: str  # "end" (end token) | "limit" (asked-for length) | "context" (model's context is full)
    knobs: sampling.Knobs
    seed: int

    @property
    def new_ids(self) -> list[int]:
        return [s.token_id for s in self.steps]

    @property
    def ids(self) -> list[int]:
        return list(self.prompt.ids) + self.new_ids

    def text(self, tokenizer) -> str:
        """The prompt as typed + the decoded new tokens (special tokens shown)."""
        return self.prompt.text + tokenizer.decode(self.new_ids, clean_up_tokenization_spaces=False)


def _record(index: int, token_id: int, logits: torch.Tensor, dist: sampling.Distribution, tokenizer,
            top_n: int, forced: bool) -> Step:
    before = dist.before  # (V,) float64
    p_model = float(before[token_id])
    alt_p, alt_i = torch.topk(before, top_n)
    return Step(
        index=index, token_id=token_id, text=token_text(tokenizer, token_id),
        prob=float(dist.after[token_id]), prob_model=p_model,
        rank=int((before > p_model).sum()) + 1,
        entropy=sampling.entropy_bits(before), n_kept=dist.n_kept,
        alt_ids=alt_i.numpy(), alt_texts=[token_text(tokenizer, t) for t in alt_i.tolist()],
        alt_probs=alt_p.numpy(), forced=forced,
    )


@torch.inference_mode()
def iter_steps(model, tokenizer, prompt: Prompt, max_new_tokens: int, knobs: sampling.Knobs, seed: int = 0,
               forced: Sequence[int] = (), top_n: int = TOP_N, stop_at_end: bool = True,
               generator: torch.Generator | None = None, first_index: int = 0) -> Iterator[Step]:
    """Yield one recorded Step per new token, as soon as it is chosen (for live streaming).

    ``forced`` token ids are taken as the first choices instead of sampling (branching: replay a
    history, then a different alternative); they are still recorded with their probability and rank.
    The key/value cache means each iteration feeds only the newest token to the model.
    ``generator`` continues an earlier request's random stream (the page's "next token" button keeps
    it between clicks, so N clicks give the same text as "play N"); by default a fresh one from ``seed``.
    ``first_index`` numbers the steps when ``prompt`` already ends with earlier generated tokens.
    """
    if generator is None:
        generator = sampling.make_generator(seed)  # per request (pitfall 4)
    eos = end_token_id(model, tokenizer)
    budget = min(int(max_new_tokens), MAX_NEW_TOKENS, context_length(model) - len(prompt.ids))
    top_n = min(top_n, model.config.vocab_size)
    cache_arg = _cache_kwarg(model)
    input_ids = torch.tensor([list(prompt.ids)])  # (1, T): the whole prompt on the first pass
    past = None
    for i in range(max(0, budget)):
        # 1. context = attention_mechanism(tokens): one forward pass; the cache holds the older tokens' keys/values
        out = model(input_ids=input_ids, use_cache=True, **{cache_arg: past})
        past = getattr(out, cache_arg)
        logits = out.logits[0, -1]  # (V,) scores for the next token
        # 2. next_token = predict_next(context): reshape with the knobs, then pick
        dist = sampling.reshape(logits, knobs)
        is_forced = i < len(forced)
        token = int(forced[i]) if is_forced else sampling.pick(dist, generator)
        # 3. tokens.append(next_token): record the step
        yield _record(first_index + i, token, logits, dist, tokenizer, top_n, is_forced)
        # 4. if next_token == END_TOKEN: break
        if stop_at_end and token == eos:
            return
        input_ids = torch.tensor([[token]])  # (1, 1): only the new token goes in next time


def _cache_kwarg(model) -> str:
    """The key/value cache argument: ``past_key_values`` (transformers <= 5.2x), renamed ``cache`` later."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params and "past_key_values" not in params else "past_key_values"


def generate(model, tokenizer, prompt: Prompt, max_new_tokens: int, knobs: sampling.Knobs, seed: int = 0,
             forced: Sequence[int] = (), top_n: int = TOP_N) -> Generation:
    """Run the loop to the end token or the limit, recording every step."""
    steps = list(iter_steps(model, tokenizer, prompt, max_new_tokens, knobs, seed, forced, top_n))
    return Generation(prompt, steps, stop_reason(model, tokenizer, prompt, steps, max_new_tokens), knobs, seed)


def stop_reason(model, tokenizer, prompt: Prompt, steps: Sequence[Step], max_new_tokens: int) -> str:
    if steps and steps[-1].token_id == end_token_id(model, tokenizer):
        return "end"
    if len(prompt.ids) + len(steps) >= context_length(model) and len(steps) < max_new_tokens:
        return "context"
    return "limit"


def branch(model, tokenizer, gen: Generation, step_index: int, token_id: int, max_new_tokens: int,
           seed: int | None = None) -> Generation:
    """Fork ``gen`` at ``step_index``: keep its first ``step_index`` tokens, take ``token_id`` there
    instead, then let the loop continue (same knobs) for up to ``max_new_tokens`` more tokens."""
    if not 0 <= step_index < max(1, len(gen.steps) + 1):
        raise ValueError(f"step {step_index} is outside this generation (0..{len(gen.steps)})")
    forced = gen.new_ids[:step_index] + [int(token_id)]
    total = step_index + 1 + max(0, int(max_new_tokens))
    return generate(model, tokenizer, gen.prompt, total, gen.knobs, gen.seed if seed is None else seed, forced)


# ---------------------------------------------------------------------------------------------
# 4. surprise: how unlikely the model found each token of a given text
# ---------------------------------------------------------------------------------------------


@dataclass
class Surprise:
    ids: np.ndarray  # (N,) the scored tokens (the text's tokens, after any truncation)
    texts: list[str]
    logprobs: np.ndarray  # (N,) natural log of P(token | everything before it)
    top_ids: np.ndarray  # (N,) what the model expected most at each position
    top_texts: list[str]
    notices: list[str]

    @property
    def surprise_bits(self) -> np.ndarray:
        return -self.logprobs / math.log(2)

    @property
    def perplexity(self) -> float:
        """exp(mean negative log-likelihood): 'as unsure as choosing among this many tokens'."""
        return float(math.exp(-self.logprobs.mean())) if self.logprobs.size else float("nan")


@torch.inference_mode()
def surprise(model, tokenizer, text: str) -> Surprise:
    """Log-probability of every token of ``text``. The first token is scored after the begin token
    (when the tokenizer has one), so every typed token gets a number."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
    notices: list[str] = []
    bos = start_token_id(tokenizer)
    ctx = context_length(model)
    room = ctx - (1 if bos is not None else 0)
    if len(ids) > room:
        notices.append(f"The text is {len(ids):,} tokens; the model reads at most {ctx:,}: scoring the first "
                       f"{room:,}.")
        ids = ids[:room]
    if bos is None:
        if len(ids) < 2:
            raise ValueError("Type at least two tokens: without a begin token the first one cannot be scored.")
        notices.append("This tokenizer has no begin token, so the first token is not scored.")
        inputs, targets = ids[:-1], ids[1:]
    else:
        if not ids:
            raise ValueError("Type some text to score.")
        inputs, targets = [bos] + ids[:-1], ids
    logits = model(input_ids=torch.tensor([inputs]), use_cache=False).logits[0].float()  # (N, V)
    logp = torch.log_softmax(logits, dim=-1)  # (N, V)
    tgt = torch.tensor(targets)
    lp = logp[torch.arange(len(targets)), tgt]  # (N,)
    top = logp.argmax(dim=-1)  # (N,)
    return Surprise(tgt.numpy(), [token_text(tokenizer, t) for t in targets], lp.numpy().astype(np.float64),
                    top.numpy(), [token_text(tokenizer, t) for t in top.tolist()], notices)


# Fluent but false: (label, sentence) pairs whose false version the model still finds plausible.
# Chosen per model by measuring perplexities (the bundled model knows software manuals, not the world).
# Measured on the bundled model: each false sentence gets a *lower* perplexity than its true twin
# (14.1 vs 16.4 and 54.6 vs 70.2).
_EXAMPLES_BUNDLED = [("true", "The sqlite3 module provides an interface to SQLite databases."),
                     ("false", "The sqlite3 module provides an interface to PostgreSQL databases."),
                     ("true", "PostgreSQL is an open source relational database system."),
                     ("false", "PostgreSQL is an open source operating system.")]
_EXAMPLES_WORLD = [("true", "The Eiffel Tower is in Paris, the capital of France."),
                   ("false", "The Eiffel Tower is in Rome, the capital of France.")]


def hallucination_examples(model_key: str) -> list[tuple[str, str]]:
    return list(_EXAMPLES_BUNDLED if model_key == "genviz-tiny-gpt2" else _EXAMPLES_WORLD)


# ---------------------------------------------------------------------------------------------
# 5. the knobs: parameter count by component
# ---------------------------------------------------------------------------------------------

COMPONENTS = ("token embeddings", "position embeddings", "attention", "MLP", "layer norms", "output head", "other")


@dataclass
class Breakdown:
    label: str
    counts: dict[str, int]  # component -> parameters (tied weights counted once)
    tied_head: bool  # the output head reuses the token embeddings

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _component(name: str) -> str:
    n = name.lower()
    if any(k in n for k in ("wte", "word_embeddings", "embed_tokens")):
        return "token embeddings"
    if any(k in n for k in ("wpe", "position_embeddings", "embed_positions")):
        return "position embeddings"
    if any(k in n for k in ("ln_", "layernorm", "layer_norm", "norm")):
        return "layer norms"
    if any(k in n for k in (".attn.", "attention", "self_attn")):
        return "attention"
    if any(k in n for k in (".mlp.", "intermediate", ".output.dense", "fc1", "fc2", "ffn")):
        return "MLP"
    if any(k in n for k in ("lm_head", "classifier", "pooler")):
        return "output head"
    return "other"


def parameter_breakdown(model, label: str = "model in use") -> Breakdown:
    """Count every parameter once (a tied output head shares the token embedding matrix)."""
    counts = dict.fromkeys(COMPONENTS, 0)
    seen: set[int] = set()
    for name, p in model.named_parameters(remove_duplicate=False):
        if p.data_ptr() in seen:
            continue
        seen.add(p.data_ptr())
        counts[_component(name)] += p.numel()
    head = getattr(model, "lm_head", None)
    emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    tied = head is not None and emb is not None and head.weight.data_ptr() == emb.weight.data_ptr()
    return Breakdown(label, counts, tied)


def gpt2_breakdown(n_layer: int, n_embd: int, vocab_size: int, n_positions: int, label: str) -> Breakdown:
    """The same breakdown computed from a GPT-2 config alone (no weights needed), head tied as in GPT-2."""
    d = n_embd
    attn = n_layer * (d * 3 * d + 3 * d + d * d + d)  # c_attn (Q, K, V together) + c_proj, with biases
    mlp = n_layer * (d * 4 * d + 4 * d + 4 * d * d + d)  # c_fc (d -> 4d) + c_proj (4d -> d)
    norms = n_layer * 2 * (2 * d) + 2 * d  # ln_1, ln_2 per block (scale + shift) + ln_f
    counts = dict.fromkeys(COMPONENTS, 0)
    counts.update({"token embeddings": vocab_size * d, "position embeddings": n_positions * d,
                   "attention": attn, "MLP": mlp, "layer norms": norms})
    return Breakdown(label, counts, True)


GPT2_SMALL = gpt2_breakdown(12, 768, 50257, 1024, "GPT-2 small (2019)")  # 124,439,808 parameters
# Published totals for scale (the article: "billions of tiny knobs"); no per-component split needed.
REFERENCE_TOTALS = {"GPT-2 small (2019)": GPT2_SMALL.total, "GPT-2 XL (2019)": 1_557_611_200,
                    "GPT-3 (2020)": 175_000_000_000}
