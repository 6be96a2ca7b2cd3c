"""Tokens: text -> token ids -> text, the article's "puzzle pieces".

The lesson in four steps, each a plain function:

1. ``load_tokenizer(name)``: a private copy of a real tokenizer (GPT-2's 50,257 BPE, the bundled
   tiny GPT-2's BPE, MiniLM's WordPiece, or the one of a loaded model);
2. ``tokenize(handle, text)``: ids and character offsets, straight from the Rust ``tokenizers`` call
   (no Python per token, so 100,000 characters cost barely more than the bare call);
3. ``segment(tokenization, handle, limit)``: the chips for the first ``limit`` tokens, laid out so
   that their text spans reproduce the input exactly; a character that a byte-level tokenizer cut
   into several tokens is shown honestly, one chip per byte piece (``<0xF0><0x9F>``), grouped with
   the character they spell together;
4. ``count`` / ``cost``: the numbers next to the article's rule of thumb
   (1 token ~ 4 characters ~ 0.75 words; $1.75 per million input tokens; 256,000-token window).

And the reverse direction: ``parse_ids`` + ``decode_ids``.

No Streamlit here: the page caches these results (``gen_viz/ui/tokens.py``).
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gen_viz import models

# The article's numbers (GPT-5.2, 2026): the defaults of the cost and context widgets.
DEFAULT_PRICE_PER_MILLION = 1.75  # dollars per million input tokens
DEFAULT_CONTEXT_WINDOW = 256_000  # tokens (~192,000 words)
RULE_CHARS_PER_TOKEN = 4.0  # "1 token ~ 4 characters ..."
RULE_WORDS_PER_TOKEN = 0.75  # "... or 0.75 words"
MAX_TEXT_CHARS = 100_000  # longer pastes are cut (with a notice) before tokenizing
MAX_IDS = 10_000  # the reverse box decodes at most this many ids

GPT2_BPE = "gpt2-bpe"  # GPT-2's real tokenizer, bundled as an asset (no model weights needed)
TINY = models.DEFAULT_TEXT_MODEL  # "genviz-tiny-gpt2": the bundled small model's own BPE
MINILM = "minilm"  # MiniLM's WordPiece (BERT's scheme)
SAME_AS_GPT2 = ("gpt2", "distilgpt2")  # registry models that use GPT-2's tokenizer unchanged


# One-click examples: (text, what to notice). Each one is a case where the rule of thumb bends or breaks.
EXAMPLES: dict[str, tuple[str, str]] = {
    "unbelievable vs ␣unbelievable": ("unbelievable unbelievable",
                                      "Same word twice: without a leading space GPT-2 cuts it into un|bel|iev|able; "
                                      "with one, ' unbelievable' is a single token. The space belongs to the word."),
    "A number": ("In 2026 it costs $1.75 per 1,000,000 tokens; π ≈ 3.14159265358979.",
                 "Numbers are cut into arbitrary chunks of digits: the rule of thumb breaks down."),
    "A URL": ("https://www.example.com/search?q=generative+ai&page=2",
              "URLs are dense with punctuation: few characters per token."),
    "Code": ("def generate_text(prompt):\n    tokens = tokenize(prompt)\n    while not done:\n"
             "        tokens.append(predict_next(tokens))\n    return detokenize(tokens)",
             "Indentation and newlines are tokens too (↵, ␣): code costs more tokens than prose."),
    "Emoji": ("Let's dive in! 🚀🤯 Family: 👩\u200d👩\u200d👧 Thumbs: 👍🏽",
              "One emoji is 4 UTF-8 bytes; GPT-2 often spends 2-3 byte-piece tokens on it, and a family "
              "joined with zero-width joiners (‹ZWJ›) costs many more."),
    "Non-Latin scripts": ("こんにちは世界。Привет, мир! مرحبا بالعالم नमस्ते दुनिया",
                          "GPT-2 learned mostly from English web text: other scripts fall apart into byte pieces, "
                          "so the same sentence costs several times more tokens."),
    "HTML / script": ('<script>alert("hi")</script> <img src=x onerror=alert(1)>',
                      "Markup is just text to a tokenizer: shown here as literal pieces, never run."),
}

PROSE_SAMPLE = ("Imagine reading a long book. To understand the end, you need to remember important details "
                "from earlier chapters, right?")  # the article's own plain English, where the rule holds


# ---------------------------------------------------------------------------------------------
# 1. Tokenizers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenizerInfo:
    name: str  # the cache key: GPT2_BPE, a registry key, or a local path
    label: str  # for people
    algorithm: str  # "byte-level BPE" | "WordPiece" | "BPE" | "Unigram" ...
    vocab_size: int  # including added/special tokens (GPT-2: 50,257)
    byte_level: bool  # pieces are UTF-8 bytes (GPT-2 style): any text, never an unknown token
    lowercases: bool  # the normalizer lowercases (BERT uncased): "Hello" and "hello" are one piece
    unk_token: str | None


@dataclass
class TokenizerHandle:
    """A private ``tokenizers.Tokenizer`` (no padding, no truncation) and the lock that guards it.

    Fast tokenizers raise "Already borrowed" when two sessions use one at once (GUIDE pitfall 2):
    every call below takes ``lock``.
    """

    info: TokenizerInfo
    backend: Any  # tokenizers.Tokenizer
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def piece(self, token_id: int) -> str:
        """The vocabulary entry for an id (GPT-2 writes bytes as printable stand-ins: 'Ġ' is a space)."""
        return self.backend.id_to_token(int(token_id)) or ""

    def piece_bytes(self, token_id: int) -> bytes | None:
        """The raw UTF-8 bytes of a byte-level piece (None for other tokenizers or special tokens)."""
        if not self.info.byte_level:
            return None
        piece = self.piece(token_id)
        decoder = _byte_decoder()
        if not piece or any(ch not in decoder for ch in piece):
            return None  # a special/added token such as <|endoftext|>
        return bytes(decoder[ch] for ch in piece)


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character -> byte (the inverse of its ``bytes_to_unicode``)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def _describe(backend: Any) -> tuple[str, bool, bool, str | None]:
    """(algorithm, byte_level, lowercases, unk_token) read from the tokenizer's own components."""
    model_type = type(backend.model).__name__  # BPE | WordPiece | Unigram | WordLevel
    byte_level = type(backend.decoder).__name__ == "ByteLevel" or type(backend.pre_tokenizer).__name__ == "ByteLevel"
    norm = backend.normalizer
    lowercases = bool(norm is not None and ("lowercase=True" in repr(norm) or "Lowercase" in repr(norm)))
    unk = getattr(backend.model, "unk_token", None)
    algorithm = f"byte-level {model_type}" if byte_level else model_type
    return algorithm, byte_level, lowercases, unk


def handle_from_hf(hf_tokenizer: Any, name: str, label: str) -> TokenizerHandle:
    """Wrap a transformers fast tokenizer: copy its Rust tokenizer so that our settings (no padding,
    no truncation, untrimmed offsets) never touch the shared one."""
    from tokenizers import Tokenizer, processors

    backend = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    backend.no_padding()  # MiniLM's file pads every text to 128 tokens
    backend.no_truncation()
    if type(backend.post_processor).__name__ == "ByteLevel":
        # keep each token's leading space inside its offsets (" world" is one piece, space included)
        backend.post_processor = processors.ByteLevel(trim_offsets=False)
    algorithm, byte_level, lowercases, unk = _describe(backend)
    info = TokenizerInfo(name=name, label=label, algorithm=algorithm,
                         vocab_size=backend.get_vocab_size(with_added_tokens=True),
                         byte_level=byte_level, lowercases=lowercases, unk_token=unk)
    return TokenizerHandle(info=info, backend=backend)


def default_label(name: str) -> str:
    if name == GPT2_BPE:
        return "GPT-2 BPE"
    if name == TINY:
        return "GenViz tiny GPT-2 BPE"
    if name == MINILM:
        return "MiniLM WordPiece"
    if name in models.REGISTRY:
        return models.REGISTRY[name].label
    return f"Local model ({Path(name).name})"


def load_tokenizer(name: str) -> TokenizerHandle:
    """GPT-2's BPE asset, or the tokenizer files of a bundled model (no weights loaded).

    Raises ``models.ModelUnavailable`` with a one-line reason; for the bundled tiny GPT-2 that is
    still being trained the reason says "not present yet".
    """
    from transformers import AutoTokenizer

    if name == GPT2_BPE:
        return handle_from_hf(models.load_gpt2_tokenizer(), name, default_label(name))
    spec = models.get_spec(name)
    if spec.source == "hub":
        raise models.ModelUnavailable(f"{spec.label}: load the model first (its tokenizer comes with it).")
    path = spec.path
    if path is None or not any((path / f).is_file() for f in ("tokenizer.json", "vocab.txt", "vocab.json")):
        where = path.relative_to(models.ROOT) if path is not None and path.is_relative_to(models.ROOT) else path
        raise models.ModelUnavailable(
            f"{spec.label}: not present yet (no tokenizer files in {where}; "
            "the bundled model may still be training)."
        )
    try:
        hf = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as err:  # a half-written or corrupt file: one line for the learner
        raise models.ModelUnavailable(f"{spec.label}: tokenizer could not be loaded ({type(err).__name__}).") from err
    if not getattr(hf, "is_fast", False):
        raise models.ModelUnavailable(f"{spec.label}: no fast tokenizer (tokenizer.json), so no offsets to show.")
    return handle_from_hf(hf, name, default_label(name))


# ---------------------------------------------------------------------------------------------
# 2. Tokenize: ids + character offsets for the whole text
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokenization:
    tokenizer: str  # TokenizerInfo.name
    text: str
    ids: np.ndarray  # (N,) int32 token ids, in reading order, no special tokens added
    offsets: np.ndarray  # (N, 2) int32 [start, end) character offsets into ``text``

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])


def tokenize(handle: TokenizerHandle, text: str) -> Tokenization:
    """The whole text in one Rust call; only ids and offsets cross into Python (as numpy arrays)."""
    with handle.lock:
        enc = handle.backend.encode(text, add_special_tokens=False)
        ids, offsets = enc.ids, enc.offsets
    n = len(ids)
    ids_arr = np.array(ids, dtype=np.int32)  # (N,)
    off_arr = np.fromiter(itertools.chain.from_iterable(offsets), dtype=np.int32, count=2 * n).reshape(n, 2)  # (N, 2)
    return Tokenization(tokenizer=handle.info.name, text=text, ids=ids_arr, offsets=off_arr)


# ---------------------------------------------------------------------------------------------
# 3. Chips: segments of the text, each holding the tokens that cover it
# ---------------------------------------------------------------------------------------------

_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍", "\u00a0": "⍽", "\u200d": "‹ZWJ›"}


def visible(text: str) -> str:
    """Whitespace and invisible characters made visible (the chip labels): ' ' -> '␣', newline -> '↵'."""
    out = []
    for ch in text:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp", "Co", "Cn"):
            out.append(f"‹U+{ord(ch):04X}›")  # joiners, direction marks, odd spaces: named, not hidden
        else:
            out.append(ch)
    return "".join(out)


def bytes_label(data: bytes) -> str:
    """UTF-8 bytes as text, with any incomplete character shown as its bytes: b' \\xf0\\x9f' -> '␣<0xF0><0x9F>'."""
    out = []
    while data:
        try:
            out.append(visible(data.decode("utf-8")))
            break
        except UnicodeDecodeError as err:
            out.append(visible(data[: err.start].decode("utf-8")))
            bad = data[err.start: max(err.end, err.start + 1)]
            out.append("".join(f"<0x{b:02X}>" for b in bad))
            data = data[err.start + len(bad):]
    return "".join(out)


@dataclass(frozen=True)
class Piece:
    """One token, as its chip shows it."""

    index: int  # position in the token sequence
    id: int
    token: str  # the vocabulary entry, verbatim
    label: str  # what the chip shows: the piece with whitespace visible, partial bytes as <0xNN>
    partial: bool  # a byte piece of a character (needs its neighbours to form the character)
    unknown: bool  # the tokenizer had no piece for this text ([UNK])
    special: bool  # a special/added token (<|endoftext|>, [CLS]) typed literally


@dataclass(frozen=True)
class Segment:
    """A span of the text: either a gap no token covers (WordPiece drops spaces) or the tokens
    covering it. Several tokens share a segment when they are byte pieces of the same character."""

    start: int
    end: int
    text: str
    pieces: tuple[Piece, ...]

    @property
    def is_gap(self) -> bool:
        return not self.pieces

    @property
    def merged(self) -> bool:
        """True when the pieces only together spell the segment's characters."""
        return any(p.partial for p in self.pieces)


def _piece(handle: TokenizerHandle, index: int, token_id: int, special_ids: frozenset[int]) -> Piece:
    token = handle.piece(token_id)
    raw = handle.piece_bytes(token_id)
    if raw is not None:
        try:
            label, partial = visible(raw.decode("utf-8")), False
        except UnicodeDecodeError:
            label, partial = bytes_label(raw), True
    else:
        label, partial = visible(token), False
    unknown = handle.info.unk_token is not None and token == handle.info.unk_token
    return Piece(index=index, id=int(token_id), token=token, label=label, partial=partial, unknown=unknown,
                 special=token_id in special_ids and not unknown)


def _special_ids(handle: TokenizerHandle) -> frozenset[int]:
    try:
        added = handle.backend.get_added_tokens_decoder()
    except AttributeError:  # older tokenizers
        return frozenset()
    return frozenset(i for i, tok in added.items() if getattr(tok, "special", False))


def segment(tok: Tokenization, handle: TokenizerHandle, limit: int | None = None) -> list[Segment]:
    """Segments for the first ``limit`` tokens (all when None), in reading order.

    The segments' text spans are contiguous from 0: joined they give ``tok.text`` exactly (up to the
    end of the last shown token; with ``limit=None`` the whole text, trailing gap included).
    Tokens whose offsets overlap (byte pieces of one character) are grouped into one segment.
    """
    text = tok.text
    n = tok.n_tokens if limit is None else min(limit, tok.n_tokens)
    offsets = tok.offsets[:n].tolist()
    ids = tok.ids[:n].tolist()
    special = _special_ids(handle)
    segments: list[Segment] = []
    pos, i = 0, 0
    while i < n:
        start, end = offsets[i]
        start = max(start, pos)  # a token never starts before the text already covered
        if start > pos:  # text no token covers (WordPiece drops whitespace)
            segments.append(Segment(pos, start, text[pos:start], ()))
            pos = start
        end = max(end, start)
        j = i + 1
        while j < n and offsets[j][0] < end:  # overlapping offsets: pieces of the same character(s)
            end = max(end, offsets[j][1])
            j += 1
        pieces = tuple(_piece(handle, k, ids[k], special) for k in range(i, j))
        segments.append(Segment(start, end, text[start:end], pieces))
        pos, i = end, j
    if limit is None or n == tok.n_tokens:
        if pos < len(text):  # trailing text no token covers
            segments.append(Segment(pos, len(text), text[pos:], ()))
    return segments


# ---------------------------------------------------------------------------------------------
# 4. Counters, cost and context
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    tokens: int
    chars: int  # Unicode code points (an emoji family with joiners is several)
    words: int  # whitespace-separated
    chars_per_token: float  # the rule of thumb says ~4
    words_per_token: float  # the rule of thumb says ~0.75
    rule_tokens_from_chars: float  # chars / 4
    rule_tokens_from_words: float  # words / 0.75

    @property
    def rule_error(self) -> float:
        """How far the real count is from the character rule: +0.5 means 50% more tokens than chars/4."""
        return (self.tokens / self.rule_tokens_from_chars - 1.0) if self.rule_tokens_from_chars else 0.0


def count(text: str, n_tokens: int) -> Counts:
    chars, words = len(text), len(text.split())
    return Counts(
        tokens=n_tokens,
        chars=chars,
        words=words,
        chars_per_token=chars / n_tokens if n_tokens else 0.0,
        words_per_token=words / n_tokens if n_tokens else 0.0,
        rule_tokens_from_chars=chars / RULE_CHARS_PER_TOKEN,
        rule_tokens_from_words=words / RULE_WORDS_PER_TOKEN,
    )


@dataclass(frozen=True)
class Cost:
    dollars: float  # cost of sending this text once as input
    window_fraction: float  # share of the context window it fills (can exceed 1)
    fits: bool
    texts_per_dollar: float  # how many times this text could be sent for $1 (inf for empty text)


def cost(n_tokens: int, price_per_million: float = DEFAULT_PRICE_PER_MILLION,
         context_window: int = DEFAULT_CONTEXT_WINDOW) -> Cost:
    dollars = n_tokens * price_per_million / 1_000_000
    frac = n_tokens / context_window if context_window > 0 else float("inf")
    return Cost(dollars=dollars, window_fraction=frac, fits=n_tokens <= context_window,
                texts_per_dollar=(1 / dollars) if dollars > 0 else float("inf"))


# ---------------------------------------------------------------------------------------------
# 5. The reverse direction: ids -> text
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedIds:
    ids: tuple[int, ...]  # the valid ids, in order
    errors: tuple[str, ...]  # one message per rejected entry (not a number, out of range)


_SEP = re.compile(r"[\s,;\[\]()]+")


def parse_ids(raw: str, vocab_size: int, max_ids: int = MAX_IDS) -> ParsedIds:
    """'31373, 995' or '[31373 995]' -> ids; anything else becomes a message, never an exception."""
    ids, errors = [], []
    parts = [p for p in _SEP.split(raw or "") if p]
    if len(parts) > max_ids:
        errors.append(f"Only the first {max_ids:,} of {len(parts):,} entries are decoded.")
        parts = parts[:max_ids]
    for part in parts:
        shown = part if len(part) <= 20 else part[:20] + "…"
        if not re.fullmatch(r"[+-]?\d+", part):
            errors.append(f"'{shown}' is not a token id (ids are whole numbers).")
            continue
        value = int(part) if len(part) < 30 else vocab_size  # huge digit strings: out of range
        if not 0 <= value < vocab_size:
            errors.append(f"{shown} is out of range: this tokenizer's ids go from 0 to {vocab_size - 1:,}.")
            continue
        ids.append(value)
    return ParsedIds(tuple(ids), tuple(errors))


@dataclass(frozen=True)
class Decoded:
    text: str
    pieces: tuple[str, ...]  # each id's chip label
    incomplete: bool  # byte pieces that do not form whole characters (shown as U+FFFD)


def decode_ids(handle: TokenizerHandle, ids: tuple[int, ...] | list[int]) -> Decoded:
    """The text the ids spell. Byte-level: the bytes joined, then UTF-8 (broken characters -> '�')."""
    ids = [int(i) for i in ids]
    if handle.info.byte_level:
        chunks, pieces = [], []
        for i in ids:
            raw = handle.piece_bytes(i)
            if raw is None:  # special token: its literal text
                raw = handle.piece(i).encode("utf-8")
            chunks.append(raw)
            pieces.append(bytes_label(raw))
        data = b"".join(chunks)
        text = data.decode("utf-8", errors="replace")
        incomplete = text.encode("utf-8") != data
        return Decoded(text=text, pieces=tuple(pieces), incomplete=incomplete)
    with handle.lock:
        text = handle.backend.decode(ids, skip_special_tokens=False)
    return Decoded(text=text, pieces=tuple(visible(handle.piece(i)) for i in ids), incomplete=False)


# ---------------------------------------------------------------------------------------------
# 6. Why the counts differ, in one line
# ---------------------------------------------------------------------------------------------


def why_they_differ(infos: list[TokenizerInfo]) -> str:
    """One sentence: each tokenizer learned its own vocabulary, with its own rules."""
    parts = []
    for info in infos:
        if info.byte_level:
            parts.append(f"{info.label} has {info.vocab_size:,} byte-level pieces (keeps case and spaces, "
                         "never unknown)")
        elif info.algorithm == "WordPiece":
            parts.append(f"{info.label} has {info.vocab_size:,} WordPiece pieces "
                         f"({'lowercases, ' if info.lowercases else ''}drops spaces, marks word-inner pieces "
                         f"with ##, {info.unk_token or '[UNK]'} for what it cannot spell)")
        else:
            parts.append(f"{info.label} has {info.vocab_size:,} {info.algorithm} pieces")
    return ("Each tokenizer learned its own vocabulary from its own training text: a bigger vocabulary "
            "keeps more whole words, a smaller one splits more: " + "; ".join(parts) + ".")
