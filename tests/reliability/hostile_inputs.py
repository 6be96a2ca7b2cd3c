"""The hostile-input corpus: what a classroom (or an attacker) can type, paste or put in a link.

Used by the AppTest suite (every text/number widget and every URL parameter of every page)
and by the browser suite (payloads that would run JavaScript if any page rendered them as HTML).
"""

from __future__ import annotations

import math

# A flag that only a script executing in the page could set: the browser tests assert it stays undefined.
PWNED_FLAG = "__pwned"

TEXT: dict[str, str] = {
    "empty": "",
    "whitespace": " \t\n  \u00a0\u2003\n",
    "huge_100k": ("The animal didn't cross the street because it was too tired. " * 1700)[:100_000],
    "single_char_100k": "a" * 100_000,
    "emoji_zwj": "👩‍👩‍👧‍👦 family 🏳️‍🌈 flag 👍🏽 thumbs \u200d\u200d",
    "rtl": "\u202eevil.exe\u202c مرحبا بالعالم שלום עולם",
    "cjk": "生成式人工智能 生成AI 생성형 인공지능 ｶﾀｶﾅ",
    "control_chars": "a\x01b\x02c\x07d\x08e\x1bf[31mred\x1b[0m\x7f\x85\u2028\u2029",
    "nul": "before\x00after\x00",
    "lone_surrogates": "hi \ud800 there \udfff end",
    "markdown": "# Heading\n**bold** _it_ [link](http://example.invalid) ![img](x) | a | b |\n|---|---|\n$x^2$ :red[red]",
    "html": "<b>bold</b><i>it</i><div style='position:fixed;inset:0;background:red'>overlay</div>",
    "script": f"<script>window.{PWNED_FLAG}=1</script>",
    "img_onerror": f'<img src=x onerror="window.{PWNED_FLAG}=1">',
    "svg_onload": f"<svg/onload=window.{PWNED_FLAG}=1>",
    "javascript_link": f"[click](javascript:window.{PWNED_FLAG}=1) <a href=\"javascript:window.{PWNED_FLAG}=1\">x</a>",
    "script_close": f"</script><script>window.{PWNED_FLAG}=1</script>",
    "iframe": f'<iframe srcdoc="<script>parent.{PWNED_FLAG}=1</script>"></iframe>',
    "template_injection": "{{7*7}} ${7*7} {0} %s %(x)s \\x00 \\u0000",
    "path_like": "../../../../etc/passwd",
    "special_tokens": "<|endoftext|>[CLS][SEP][MASK][PAD]<unk>",
    "long_word": "supercalifragilistic" * 500,
    "newlines_only": "\n" * 5000,
}

# Short versions for the browser (typing 100k characters in a browser is a test of the browser).
XSS: dict[str, str] = {
    "img_onerror": TEXT["img_onerror"],
    "script": TEXT["script"],
    "svg_onload": TEXT["svg_onload"],
    "script_close": TEXT["script_close"],
}

# Numbers for float widgets (NaN/inf are what a hostile websocket client can send; the UI never does).
FLOATS: dict[str, float] = {
    "nan": math.nan,
    "inf": math.inf,
    "neg_inf": -math.inf,
    "huge": 1e308,
    "neg_huge": -1e308,
    "negative": -1.0,
    "neg_zero": -0.0,
    "tiny": 5e-324,
}

# Numbers for int widgets: what fits the protocol's int64.
INTS: dict[str, int] = {
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "negative": -1,
    "zero": 0,
}

# What a crafted link can carry in any query parameter (always text on the wire).
QUERY: dict[str, str] = {
    "empty": "",
    "whitespace": "   ",
    "huge": "x" * 100_000,
    "nan": "nan",
    "inf": "inf",
    "neg_inf": "-inf",
    "huge_number": "1e999",
    "huge_int": "9" * 400,
    "negative": "-1",
    "float_for_int": "3.5",
    "hex": "0x1f",
    "script": TEXT["script"],
    "img_onerror": TEXT["img_onerror"],
    "javascript": "javascript:alert(1)",
    "url": "https://example.invalid/evil-model",
    "hub_id": "evil-org/evil-model",
    "abs_path": "/etc",
    "rel_path": "../../etc/passwd",
    "nul": "a\x00b",
    "control": "a\x1b[31mb\x07",
    "emoji_zwj": TEXT["emoji_zwj"],
    "rtl": TEXT["rtl"],
    "cjk": TEXT["cjk"],
}

# Query parameter names tried on every page even if no page reads them (plus the ones found in the source).
COMMON_QUERY_NAMES = ["model", "q", "text", "prompt", "seed", "temperature", "top_k", "top_p", "step",
                      "steps", "layer", "head", "word", "words", "tokenizer", "diffusion_model", "guidance"]
