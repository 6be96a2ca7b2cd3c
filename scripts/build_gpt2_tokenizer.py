"""Build GPT-2's real tokenizer as a Hugging Face ``tokenizer.json``, offline.

The Hub is unreachable on our build machines, but the ``openai-whisper`` source
distribution on PyPI ships ``whisper/assets/gpt2.tiktoken``: GPT-2's 50,256 BPE
ranks (the same file tiktoken uses for ``r50k_base``). This script

1. downloads that sdist with pip (a package registry, not the Hub),
2. checks the file's sha256,
3. recovers the merge list from the ranks (each token's last merge is the one
   BPE performs when only lower-ranked merges are allowed),
4. writes ``assets/tokenizers/gpt2/`` (tokenizer.json + tokenizer_config.json).

The result is committed; the app never runs this script.

    python scripts/build_gpt2_tokenizer.py [--sdist path/to/openai_whisper-*.tar.gz]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

EXPECTED_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
OUT = Path(__file__).resolve().parents[1] / "assets" / "tokenizers" / "gpt2"
EOT = "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (from the original encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def fetch_ranks(sdist: Path | None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "openai-whisper==20250625", "-d", tmp],
                check=True,
            )
            sdist = next(Path(tmp).glob("openai_whisper-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("whisper/assets/gpt2.tiktoken"))
            data = tar.extractfile(member).read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256:
        raise SystemExit(f"gpt2.tiktoken sha256 mismatch: {digest} != {EXPECTED_SHA256}")
    return data


def recover_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """For every multi-byte token, run BPE on its bytes with merges ranked below it: two parts remain."""
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) == 1:
            continue
        parts = [bytes([b]) for b in token]
        while True:
            best = None  # (rank, index) of the lowest-ranked adjacent pair allowed
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < rank and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]
        if len(parts) != 2:
            raise SystemExit(f"token {token!r} (rank {rank}) does not split into one merge: {parts}")
        merges.append((parts[0], parts[1]))
    return merges


def build(data: bytes) -> Tokenizer:
    ranks = {}
    for line in data.decode().splitlines():
        if line:
            b64, rank = line.split()
            ranks[base64.b64decode(b64)] = int(rank)
    byte_char = bytes_to_unicode()
    show = lambda b: "".join(byte_char[x] for x in b)  # noqa: E731
    vocab = {show(tok): rank for tok, rank in ranks.items()}
    merges = [(show(a), show(b)) for a, b in recover_merges(ranks)]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken(EOT, special=True, normalized=False)])
    assert tok.token_to_id(EOT) == 50256
    return tok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sdist", type=Path, help="an already downloaded openai_whisper sdist")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    tok = build(fetch_ranks(args.sdist))
    args.out.mkdir(parents=True, exist_ok=True)
    tok.save(str(args.out / "tokenizer.json"))
    config = {
        "tokenizer_class": "GPT2TokenizerFast",
        "model_max_length": 1024,
        "bos_token": EOT,
        "eos_token": EOT,
        "unk_token": EOT,
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
    }
    (args.out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    ids = tok.encode("hello world").ids
    print(f"wrote {args.out}: vocab {tok.get_vocab_size()}, 'hello world' -> {ids}")
    assert ids == [31373, 995], ids


if __name__ == "__main__":
    main()
