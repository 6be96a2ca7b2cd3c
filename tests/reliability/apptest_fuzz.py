"""Generic AppTest fuzzing helpers: find every input widget of a page and feed it hostile values.

Widgets are addressed by (kind, user key) when they have a key, else by (kind, label, n-th with that
label), and looked up again after every run because a page's widget tree changes as it reruns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
LESSON_PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("[0-9]_*.py"))
ALL_PAGES = ["app.py", *LESSON_PAGES]

TEXT_KINDS = ("text_input", "text_area", "chat_input")
SWITCH_KINDS = ("toggle", "checkbox")
CHOICE_KINDS = ("selectbox", "radio", "segmented_control", "pills")
NUMBER_KINDS = ("number_input", "slider", "select_slider")
TIMEOUT = 240


def new_app(script: str, query: dict[str, str] | None = None) -> AppTest:
    """An AppTest on ``script`` (run once), entered the way a learner does: through app.py.

    Lesson pages call the shared sidebar, whose ``st.page_link("app.py")`` needs the multipage
    context, so a page file cannot be run on its own with ``AppTest.from_file``.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if script == "app.py":
        if query:
            at.query_params.update(query)
        return at.run()
    at.run()
    if query:
        at.query_params.update(query)
    return at.switch_page(script).run()


@dataclass(frozen=True)
class WidgetRef:
    kind: str
    key: str | None
    label: str
    nth: int  # among widgets of this kind with this label (used when there is no key)
    in_sidebar: bool

    def __str__(self) -> str:
        where = "sidebar " if self.in_sidebar else ""
        return f"{where}{self.kind}({self.key or self.label!r})"


def _sidebar_ids(at: AppTest) -> set[str]:
    ids = set()
    for kind in TEXT_KINDS + NUMBER_KINDS + SWITCH_KINDS + CHOICE_KINDS + ("button",):
        for w in getattr(at.sidebar, kind, []):
            ids.add(w.id)
    return ids


def discover(at: AppTest, kinds: tuple[str, ...]) -> list[WidgetRef]:
    """Every enabled widget of the given kinds (main area and sidebar)."""
    side = _sidebar_ids(at)
    refs = []
    for kind in kinds:
        seen: dict[str, int] = {}
        for w in getattr(at, kind, []):
            label = getattr(w, "label", "") or getattr(w, "placeholder", "") or ""
            nth = seen.get(label, 0)
            seen[label] = nth + 1
            if getattr(w.proto, "disabled", False):
                continue
            refs.append(WidgetRef(kind, w.key, label, nth, w.id in side))
    return refs


def locate(at: AppTest, ref: WidgetRef):
    """The widget for ``ref`` in the current tree, or None if it is not drawn now."""
    if ref.key is not None:
        for w in getattr(at, ref.kind, []):
            if w.key == ref.key:
                return w
        return None
    matches = [w for w in getattr(at, ref.kind, []) if (getattr(w, "label", "") or getattr(w, "placeholder", "") or "") == ref.label]
    return matches[ref.nth] if ref.nth < len(matches) else None


def exceptions(at: AppTest) -> list[str]:
    return [f"{e.message}" + (f" | {e.stack_trace[-3:]}" if getattr(e, "stack_trace", None) else "") for e in at.exception]


def messages(at: AppTest) -> str:
    """Everything the page says in alerts and captions (to check that a notice was shown)."""
    parts = []
    for kind in ("info", "warning", "error", "success", "caption", "toast"):
        for el in getattr(at, kind, []):
            parts.append(str(getattr(el, "value", "") or getattr(el, "body", "")))
    return "\n".join(parts)


def numeric_values(widget) -> dict[str, object]:
    """Hostile values that fit this widget's protocol type."""
    from tests.reliability.hostile_inputs import FLOATS, INTS

    if widget.type == "select_slider":
        return {}  # options are fixed strings; nothing hostile to send beyond the options
    values: dict[str, object] = {**FLOATS, **INTS}
    if widget.type == "slider":
        lo, hi = widget.min, widget.max
        cur = widget.value
        if isinstance(cur, tuple):  # a range slider: send reversed and out-of-range pairs
            return {"reversed": (hi, lo), "below": (lo - 1e9, lo), "nan": (math.nan, hi),
                    "above": (hi, hi + 1e9)}
        values.update({"below_min": lo - 1, "above_max": hi + 1})
        return values
    from streamlit.proto.NumberInput_pb2 import NumberInput as NumberInputProto

    if widget.proto.data_type == NumberInputProto.INT:
        # Streamlit's own deserializer does int(value) before its finiteness check, so NaN/inf sent as a
        # double to an int number_input raise inside st.number_input (upstream bug, not a page bug). The
        # real frontend sends int_value for int inputs, so only a hand-made websocket client can do this,
        # and only to its own session. Keep the finite extremes.
        values = {k: v for k, v in values.items() if math.isfinite(v)}
    if widget.min is not None:
        values["below_min"] = widget.min - 1
    if widget.max is not None:
        values["above_max"] = widget.max + 1
    return values


def query_param_names(script: str) -> list[str]:
    """Query parameter names a page reads (from its source and the modules it names), plus common ones."""
    from tests.reliability.hostile_inputs import COMMON_QUERY_NAMES

    names = set(COMMON_QUERY_NAMES)
    sources = [ROOT / script, *sorted((ROOT / "gen_viz" / "ui").glob("*.py"))]
    pat = re.compile(r"""(?:query\.(?:text|integer|number|choice|flag|boolean)|query_params(?:\.get)?)\s*[\(\[]\s*["']([A-Za-z0-9_]+)["']""")
    for src in sources:
        try:
            names.update(pat.findall(src.read_text()))
        except OSError:
            pass
    return sorted(names)


def choose(widget, index: int):
    """Select option ``index`` of a selectbox/radio/segmented control/pills as a browser would.

    AppTest's own ``select_index`` re-applies the page's ``format_func`` to an already formatted
    label (``"head 0"`` -> ``"head head 0"``), so the widget state is written directly: the
    formatted option string, which is what the real frontend sends.
    """
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    target = widget.options[index]
    if widget.type in ("selectbox", "radio"):
        base = type(widget)

        class _Chosen(base):  # type: ignore[misc, valid-type]
            @property
            def _widget_state(self):
                ws = WidgetState()
                ws.id = self.id
                ws.string_value = target
                return ws

        widget.__class__ = _Chosen
        widget._value = target
        return widget
    return widget.set_value(target)


def is_harness_error(err: BaseException) -> bool:
    """True when the error came from AppTest itself (not from the page or Streamlit's runtime)."""
    import traceback

    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and "streamlit/testing" in frames[-1].filename and not isinstance(err, RuntimeError)
