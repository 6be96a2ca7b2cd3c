"""Build the English prose corpus for the bundled tiny GPT-2.

    python scripts/build_gpt2_corpus.py --out build/tiny_gpt2/corpus

Fetches four Debian packages with `apt-get download` (needs `apt-get update`
done once; no root needed for `download`), unpacks them with `dpkg-deb -x`
into a temporary directory, and keeps only running prose:

1. python3.11-doc: the reStructuredText sources of Python's documentation
   (tutorial, HOWTOs, FAQ, glossary, language and library reference, what's
   new). License: PSF License Agreement / Zero-Clause BSD for the docs.
2. debian-handbook (en-US HTML): "The Debian Administrator's Handbook" by
   Raphael Hertzog and Roland Mas. License: GPL-2.0+ or CC-BY-SA-3.0.
3. postgresql-doc-15 (HTML): the PostgreSQL 15 manual, which has long
   expository chapters. License: PostgreSQL License (BSD-like).
4. python-django-doc (HTML): Django 3.2's documentation (topics, how-tos,
   reference, release notes). License: BSD-3-Clause.

Both licenses allow redistribution and derived works; the model card repeats
the attribution. Code blocks, doctest sessions, tables, directives and short
fragments are dropped: we want sentences.

The split is by document: every document whose name hashes into bucket 0 of
50 goes to `heldout.txt` (about 2%), the rest to `train.txt`. Documents are
separated by a blank line plus the end-of-text marker `<|endoftext|>`.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

EOT = "<|endoftext|>"
PACKAGES = ("python3.11-doc", "debian-handbook", "postgresql-doc-15", "python-django-doc")
# (package, folder with the HTML pages, file names to skip: indexes and search pages)
HTML_SOURCES = (
    ("debian-handbook", "usr/share/doc/debian-handbook/html/en-US", ()),
    ("postgresql-doc-15", "usr/share/doc/postgresql-doc-15/html", ("bookindex.html",)),
    ("python-django-doc", "usr/share/doc/python-django-doc/html", ("genindex.html", "search.html",
                                                                     "py-modindex.html")),
)
HELDOUT_BUCKETS = 50  # 1 bucket in 50 held out

# Python doc folders worth keeping (c-api, distutils, includes are mostly API lists).
PY_DIRS = ("tutorial", "howto", "faq", "reference", "library", "whatsnew", "using",
           "installing", "extending", "glossary.rst.txt")

_ROLE = re.compile(r":[a-zA-Z:+-]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`")   # :func:`~os.path` -> os.path
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")                         # `text <url>`_ -> text
_LITERAL = re.compile(r"``([^`]*)``")
_EMPH = re.compile(r"\*\*?([^*]+)\*\*?")
_REF = re.compile(r"`([^`]+)`_*")
_UNDERLINE = re.compile(r"^([=\-~^\"'*#+`.:_])\1{2,}\s*$")
_WORD = re.compile(r"[A-Za-z]+")


def _clean_inline(text: str) -> str:
    text = _ROLE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _LITERAL.sub(r"\1", text)
    text = _REF.sub(r"\1", text)
    text = _EMPH.sub(r"\1", text)
    text = text.replace("\\ ", "").replace("|", "")
    return re.sub(r"\s+", " ", text).strip()


def is_prose(par: str) -> bool:
    """A paragraph is prose when it is mostly words and long enough to be a sentence."""
    words = par.split()
    if len(words) < 8 or not par[:1].isalpha() and par[:1] not in "\"'(":
        return False
    alpha = sum(1 for w in words if _WORD.fullmatch(w.strip(".,;:!?()\"'")))
    if alpha / len(words) < 0.7:
        return False
    return par.rstrip()[-1:] in ".!?:)\"'"


def rst_to_paragraphs(src: str) -> list[str]:
    """Keep top-level and directive-body prose paragraphs of a reST file."""
    paragraphs: list[str] = []
    blocks = re.split(r"\n\s*\n", src)
    skip_indent = None  # indentation of a literal block / directive we are inside
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        indent = len(lines[0]) - len(lines[0].lstrip())
        if skip_indent is not None and indent > skip_indent:
            continue  # still inside a code block or a non-prose directive
        skip_indent = None
        first = lines[0].strip()
        if first.startswith(".."):
            # directive: prose-bearing ones (note, versionadded...) keep their body
            keep = re.match(r"\.\.\s+(note|warning|seealso|versionadded|versionchanged|"
                            r"deprecated|function|method|class|attribute|data|exception|"
                            r"describe|impl-detail)::", first)
            if not keep:
                skip_indent = indent
            continue
        if first.startswith((">>>", "...", "$", "#", "+", "|", "*", "-", "=")) or \
                any(_UNDERLINE.match(ln.strip()) for ln in lines):
            if block.rstrip().endswith("::"):
                skip_indent = indent
            continue
        text = " ".join(ln.strip() for ln in lines)
        if text.endswith("::"):
            skip_indent = indent
            text = text[:-2].rstrip() + ":"
            if text.endswith(" :"):
                text = text[:-2] + "."
        text = _clean_inline(text)
        if is_prose(text):
            paragraphs.append(text)
    return paragraphs


class _ParagraphHTML(HTMLParser):
    """Collects the text of <p> elements that are not inside <pre>/<table>/<code>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buf: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("pre", "table", "script", "style"):
            self._skip += 1
        elif tag == "p" and not self._skip:
            self._buf = []

    def handle_endtag(self, tag):
        if tag in ("pre", "table", "script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "p" and self._buf is not None:
            text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
            if is_prose(text):
                self.paragraphs.append(text)
            self._buf = None

    def handle_data(self, data):
        if self._buf is not None and not self._skip:
            self._buf.append(data)


def html_to_paragraphs(src: str) -> list[str]:
    parser = _ParagraphHTML()
    parser.feed(src)
    return [html.unescape(p) for p in parser.paragraphs]


def fetch(pkg: str, workdir: Path) -> Path:
    """apt-get download + dpkg-deb -x; returns the unpacked root."""
    subprocess.run(["apt-get", "download", pkg], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deb = sorted(workdir.glob(f"{pkg}_*.deb"))[-1]
    root = workdir / pkg
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def documents(workdir: Path) -> list[tuple[str, str]]:
    """(name, text) per source document, in a fixed order."""
    docs: list[tuple[str, str]] = []
    py = fetch("python3.11-doc", workdir) / "usr/share/doc/python3.11/html/_sources"
    for sub in PY_DIRS:
        paths = [py / sub] if sub.endswith(".txt") else sorted((py / sub).rglob("*.rst.txt"))
        for path in paths:
            pars = rst_to_paragraphs(path.read_text(encoding="utf-8", errors="replace"))
            if pars:
                docs.append((f"python/{path.relative_to(py)}", "\n".join(pars)))
    for pkg, folder, skip in HTML_SOURCES:
        root = fetch(pkg, workdir) / folder
        for path in sorted(root.rglob("*.html")):
            if path.name in skip or "_static" in path.parts:
                continue
            pars = html_to_paragraphs(path.read_text(encoding="utf-8", errors="replace"))
            if pars:
                docs.append((f"{pkg}/{path.relative_to(root)}", "\n".join(pars)))
    return docs


def is_heldout(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % HELDOUT_BUCKETS == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("build/tiny_gpt2/corpus"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        docs = documents(Path(tmp))
    train = [t for n, t in docs if not is_heldout(n)]
    held = [t for n, t in docs if is_heldout(n)]
    sep = f"\n{EOT}\n"
    (args.out / "train.txt").write_text(sep.join(train) + "\n", encoding="utf-8")
    (args.out / "heldout.txt").write_text(sep.join(held) + "\n", encoding="utf-8")
    (args.out / "manifest.txt").write_text(
        "".join(f"{'heldout' if is_heldout(n) else 'train'}\t{n}\n" for n, _ in docs), encoding="utf-8")
    n_train = sum(len(t) for t in train)
    n_held = sum(len(t) for t in held)
    print(f"documents: {len(train)} train ({n_train:,} chars), {len(held)} held out ({n_held:,} chars)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
