"""BertViz head view and model view as one self-contained HTML page: no CDN, no network.

BertViz (Jesse Vig, Apache-2.0) draws its views with d3 and jQuery, loaded
through require.js from cdnjs. GenViz runs offline, so this module builds the
same page with every script inline:

* d3 v5: ``mpld3/js/d3.v5.min.js`` from the installed ``mpld3`` package;
* jQuery: ``xstatic/pkg/jquery/data/jquery.min.js`` from ``xstatic-jquery``;
* require.js: not needed. ``xstatic-requirejs`` cannot be installed here (its
  sdist needs ``pkg_resources`` at build time), and BertViz only uses two AMD
  calls, ``require.config({...})`` (which we strip, it only lists CDN paths) and
  ``requirejs(['jquery', 'd3'], callback)``. A six-line shim provides
  ``require``/``requirejs`` that hand the callback the two globals. The shim
  defines no ``define``, so d3 and jQuery register as plain globals.
* BertViz's own ``head_view.js`` / ``model_view.js``, read from the installed
  ``bertviz`` package (its Python module is not imported: it pulls in IPython).

Safety (GUIDE pitfall 6): tokens reach the page only inside the JSON parameters,
and ``json.dumps`` does not escape ``</script>``. ``_safe_json`` escapes ``<``,
``>``, ``&`` and the two JavaScript line separators as ``\\u`` escapes, so no token
can end the script block; BertViz then writes tokens with d3's ``.text()``
(never as markup). Attention values are rounded before they are embedded.
"""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from functools import lru_cache
from pathlib import Path

import numpy as np

HEAD_VIEW = "head_view"
MODEL_VIEW = "model_view"

_AMD_SHIM = """
window.requirejs = window.require = function (deps, callback) {
  var mods = {jquery: window.jQuery, d3: window.d3};
  return callback.apply(window, deps.map(function (name) { return mods[name]; }));
};
window.require.config = function () {};
"""


class BertVizUnavailable(RuntimeError):
    """A JavaScript asset is missing (a package is not installed)."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise BertVizUnavailable(f"The Python package providing {name!r} is not installed (pip install -r requirements.txt).")
    return Path(next(iter(spec.submodule_search_locations)))


def _read(path: Path) -> str:
    if not path.is_file():
        raise BertVizUnavailable(f"Missing JavaScript asset {path.name} (reinstall the requirements).")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def _asset(name: str) -> str:
    """The JavaScript sources, read once per process (immutable strings)."""
    if name == "d3":
        return _read(_package_dir("mpld3") / "js" / "d3.v5.min.js")
    if name == "jquery":
        return _read(_package_dir("xstatic.pkg.jquery") / "data" / "jquery.min.js")
    if name in (HEAD_VIEW, MODEL_VIEW):
        source = _read(_package_dir("bertviz") / f"{name}.js")
        # drop the CDN path table: the shim above answers require() from inline globals
        stripped, n = re.subn(r"require\.config\(\{.*?\}\);", "", source, count=1, flags=re.S)
        if n != 1 or "PYTHON_PARAMS" not in stripped:
            raise BertVizUnavailable(f"Unexpected bertviz {name}.js layout: cannot serve it offline.")
        return stripped
    raise KeyError(name)


def _safe_json(value: object) -> str:
    """JSON that is also safe inside <script>: no '<', '>' or '&' characters survive."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _script(source: str) -> str:
    # library sources are trusted files, but never let one end our block early
    return "<script>\n" + source.replace("</script", "<\\/script") + "\n</script>\n"


def display_tokens(labels: list[str]) -> list[str]:
    """BertViz shows tokens as text; GPT-2's space marker is shown as a space, as BertViz does."""
    return [str(t).replace("Ġ", " ").replace("▁", " ") for t in labels]


def build_html(
    view: str,
    weights: np.ndarray,
    labels: list[str],
    layer: int = 0,
    heads: list[int] | None = None,
    include_layers: list[int] | None = None,
    decimals: int = 3,
) -> str:
    """A complete HTML document for BertViz's ``head_view`` or ``model_view``.

    ``weights`` is (layers, heads, T, T) for all layers; ``include_layers`` picks which
    ones to show (fewer layers = a lighter page).
    """
    if view not in (HEAD_VIEW, MODEL_VIEW):
        raise ValueError(f"view must be {HEAD_VIEW!r} or {MODEL_VIEW!r}")
    w = np.asarray(weights, dtype=float)
    if w.ndim != 4 or w.shape[2] != w.shape[3] or w.shape[2] != len(labels):
        raise ValueError(f"weights must be (layers, heads, T, T) with T = {len(labels)} tokens, got {w.shape}")
    n_layers, n_heads = w.shape[:2]
    layers = list(range(n_layers)) if include_layers is None else [int(i) for i in include_layers if 0 <= i < n_layers]
    if not layers:
        raise ValueError("include_layers selects no layer")
    tokens = display_tokens(labels)
    attn = np.round(w[layers], decimals).tolist()
    vis_id = f"bertviz-{uuid.uuid4().hex}"
    data = [{"name": None, "attn": attn, "left_text": tokens, "right_text": tokens}]
    if view == HEAD_VIEW:
        params = {"attention": data, "default_filter": "0", "root_div_id": vis_id,
                  "layer": layer if layer in layers else layers[0], "heads": heads, "include_layers": layers}
        controls = '<span style="user-select:none">Layer: <select id="layer"></select></span>'
    else:
        params = {"attention": data, "default_filter": "0", "display_mode": "light", "root_div_id": vis_id,
                  "include_layers": layers, "include_heads": list(range(n_heads)), "total_heads": n_heads}
        controls = ""
    view_js = _asset(view).replace("PYTHON_PARAMS", _safe_json(params), 1)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>\n"
        # the page may not fetch anything: a stray URL in a library cannot reach the network
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
        "<style>body{margin:0;background:white;color:black;font-family:'Helvetica Neue',Helvetica,Arial,sans-serif}"
        "</style></head><body>\n"
        f'<div id="{vis_id}">{controls}<div id="vis"></div></div>\n'
        + _script(_asset("jquery"))
        + _script(_asset("d3"))
        + _script(_AMD_SHIM)
        + _script(view_js)
        + "</body></html>\n"
    )


def estimated_height(view: str, n_tokens: int, n_layers: int, n_heads: int) -> int:
    """Pixel height for the iframe, following BertViz's own layout constants."""
    if view == HEAD_VIEW:
        return int(n_tokens * 22.5 + 30 + 60)
    box = 7 * (12 / max(n_heads, 1))
    thumb = n_tokens * box + 10
    detail = n_tokens * 18 + 2 * 15 + 25
    return int(max(n_layers * thumb + 38, detail) + 30)
