"""Hostile input fed to every input of every page with AppTest: no exception, ever.

For each page (home + every lesson page found in pages/) the widgets are discovered, not listed by
hand, so a new input is fuzzed the day it lands:

* every text_input / text_area / chat_input gets every string of the corpus (tests/reliability/
  hostile_inputs.py: empty, whitespace, 100k characters, emoji with joiners, RTL, CJK, control
  characters, NUL, lone surrogates, Markdown, HTML, <script>, <img onerror>, javascript: links ...),
  and with a few of them every main-area button is pressed (generate / step / run with hostile text);
* every number_input and slider gets NaN, +-inf, +-1e308, int64 extremes, negatives and
  just-outside-the-bounds values (what a hostile websocket client can send; the UI never does);
* every query parameter a page reads (found in its source) plus common names gets every hostile
  URL value, all at once per run.

Failures are collected per page and reported together (page, widget, payload, exception).
"""

from __future__ import annotations

import pytest

from tests.reliability.apptest_fuzz import (
    ALL_PAGES,
    CHOICE_KINDS,
    SWITCH_KINDS,
    WidgetRef,
    LESSON_PAGES,
    NUMBER_KINDS,
    choose,
    is_harness_error,
    TEXT_KINDS,
    discover,
    exceptions,
    locate,
    messages,
    new_app,
    numeric_values,
    query_param_names,
)
from tests.reliability.hostile_inputs import QUERY, TEXT

# with these the page's buttons are pressed too (kept short: a button may run a model)
BUTTON_PAYLOADS = ["empty", "nul", "huge_100k"]
# the sidebar's local-model-directory box gets a shorter list: it only matters once its button is pressed
SIDEBAR_PAYLOADS = ["empty", "nul", "lone_surrogates", "huge_100k", "path_like", "script", "rtl"]


def _fresh(page: str, flip: WidgetRef | None = None):
    at = new_app(page)
    assert not at.exception, f"{page} fails on its default run: {exceptions(at)}"
    if flip is not None:  # a mode switch (toggle/checkbox) turned the other way first
        w = locate(at, flip)
        w.set_value(not w.value)
        at.run()
        assert not at.exception, f"{page} fails after flipping {flip}: {exceptions(at)}"
    return at


def _buttons(at):
    side = {b.id for b in at.sidebar.button}
    return [b for b in at.button if b.id not in side and not getattr(b.proto, "disabled", False)]


def _fuzz_text_widget(page, ref, flip, failures) -> int:
    """Every corpus string into one text widget (plus the page's buttons for a few). Returns runs done."""
    at = _fresh(page, flip)
    mode = f" [{flip} flipped]" if flip else ""
    tried = 0
    names = SIDEBAR_PAYLOADS if ref.in_sidebar else list(TEXT)
    for name in names:
        widget = locate(at, ref)
        if widget is None:  # the page no longer draws it (e.g. a newline turned a line into an area)
            at = _fresh(page, flip)
            widget = locate(at, ref)
            if widget is None:
                failures.append(f"{ref}{mode}: not drawn on a fresh run")
                return tried
        try:
            widget.set_value(TEXT[name])
            at.run()
        except UnicodeEncodeError:
            # lone surrogates cannot be encoded into Streamlit's protobuf messages, so no client can
            # deliver them to a widget; the URL route (the one that can carry them) is tested below
            # and in the browser suite
            at = _fresh(page, flip)
            continue
        except Exception as err:  # a harness-level failure is a failure of the page too (timeout, crash)
            failures.append(f"{ref}{mode} <- {name}: run failed: {type(err).__name__}: {str(err)[:200]}")
            at = _fresh(page, flip)
            continue
        tried += 1
        if at.exception:
            failures.append(f"{ref}{mode} <- {name}: {exceptions(at)}")
            at = _fresh(page, flip)
            continue
        if ref.in_sidebar:
            for b in at.sidebar.button:
                if b.label.startswith("Use this directory") and not getattr(b.proto, "disabled", False):
                    b.click()
                    at.run()
                    if at.exception:
                        failures.append(f"{ref} <- {name} + 'Use this directory': {exceptions(at)}")
                        at = _fresh(page, flip)
                    break
        elif name in BUTTON_PAYLOADS:
            for label in [b.label for b in _buttons(at)]:
                match = [b for b in _buttons(at) if b.label == label]
                if not match:
                    continue
                match[0].click()
                at.run()
                tried += 1
                if at.exception:
                    failures.append(f"{ref}{mode} <- {name} + button {label!r}: {exceptions(at)}")
                    at = _fresh(page, flip)
                    break
    return tried


@pytest.mark.parametrize("page", ALL_PAGES)
def test_hostile_text_in_every_text_input(page):
    """Default mode, then each main-area toggle/checkbox flipped (it may swap a line for an area)."""
    at = _fresh(page)
    switches = [r for r in discover(at, SWITCH_KINDS) if not r.in_sidebar]
    done: set[WidgetRef] = set()
    failures, tried = [], 0
    for flip in [None, *switches]:
        at = _fresh(page, flip)
        for ref in discover(at, TEXT_KINDS):
            if ref in done:
                continue
            done.add(ref)
            tried += _fuzz_text_widget(page, ref, flip, failures)
    assert not failures, f"{page}: {len(failures)} of {tried} hostile text runs failed:\n" + "\n".join(failures)


# one nasty string that combines most of the corpus (no lone surrogates: the protocol cannot carry them)
COMBINED = "".join(TEXT[k] for k in ("nul", "control_chars", "emoji_zwj", "rtl", "cjk", "img_onerror",
                                     "script_close", "special_tokens", "markdown")) + TEXT["long_word"]


@pytest.mark.parametrize("page", LESSON_PAGES)
def test_every_choice_with_hostile_text(page):
    """Each option of each main-area selectbox/radio/segmented control, with nasty text and with none."""
    at = _fresh(page)
    choices = [r for r in discover(at, CHOICE_KINDS) if not r.in_sidebar]
    text_refs = [r for r in discover(at, TEXT_KINDS) if not r.in_sidebar]
    failures, skipped, tried = [], [], 0
    for ref in choices:
        options = list(getattr(locate(at, ref), "options", []) or [])
        for index, option in enumerate(options):
            for label, payload in (("combined", COMBINED), ("empty", "")):
                at = _fresh(page)
                try:
                    for tref in text_refs[:1]:
                        w = locate(at, tref)
                        if w is not None:
                            w.set_value(payload)
                    at.run()
                    w = locate(at, ref)
                    if w is None:
                        continue
                    choose(w, index)
                    at.run()
                except Exception as err:
                    if is_harness_error(err):
                        skipped.append(f"{ref}={option!r}: {type(err).__name__}: {str(err)[:120]}")
                        continue
                    failures.append(f"{ref}={option!r} + {label} text: run failed: {type(err).__name__}: {str(err)[:200]}")
                    continue
                tried += 1
                if at.exception:
                    failures.append(f"{ref}={option!r} + {label} text: {exceptions(at)}")
    if skipped:
        print(f"{page}: AppTest could not drive {len(skipped)} choices:", *skipped, sep="\n  ")
    assert not failures, f"{page}: {len(failures)} of {tried} runs failed:\n" + "\n".join(failures)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_hostile_numbers_in_every_numeric_control(page):
    at = _fresh(page)
    refs = discover(at, NUMBER_KINDS)
    failures, tried = [], 0
    for ref in refs:
        widget = locate(at, ref)
        if widget is None:
            continue
        for name, value in numeric_values(widget).items():
            widget = locate(at, ref)
            if widget is None:
                at = _fresh(page)
                widget = locate(at, ref)
                if widget is None:
                    break
            try:
                widget.set_value(value)
                at.run()
            except Exception as err:
                failures.append(f"{ref} <- {name}={value!r}: run failed: {type(err).__name__}: {str(err)[:200]}")
                at = _fresh(page)
                continue
            tried += 1
            if at.exception:
                failures.append(f"{ref} <- {name}={value!r}: {exceptions(at)}")
                at = _fresh(page)
    assert not failures, f"{page}: {len(failures)} of {tried} hostile number runs failed:\n" + "\n".join(failures)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_hostile_query_parameters(page):
    names = query_param_names(page)
    failures = []
    for label, value in QUERY.items():
        try:
            at = new_app(page, {name: value for name in names})
        except UnicodeEncodeError:
            continue  # not deliverable through the protocol (see above)
        except Exception as err:
            failures.append(f"?{{all}}={label}: run failed: {type(err).__name__}: {str(err)[:200]}")
            continue
        if at.exception:
            failures.append(f"?{{all}}={label}: {exceptions(at)}")
    assert not failures, f"{page} with params {names}:\n" + "\n".join(failures)


@pytest.mark.parametrize("page", LESSON_PAGES)
def test_lesson_page_has_inputs_to_fuzz(page):
    """Guards the suite against passing vacuously: a lesson page takes the learner's input."""
    at = _fresh(page)
    main_text = [r for r in discover(at, TEXT_KINDS) if not r.in_sidebar]
    main_any = [r for r in discover(at, TEXT_KINDS + NUMBER_KINDS) if not r.in_sidebar]
    assert main_any, f"{page} has no input widget in its main area (still a placeholder?)"
    if "Diffusion" not in page:
        assert main_text, f"{page} has no text input in its main area (still a placeholder?)"


@pytest.mark.parametrize("page", LESSON_PAGES)
def test_cleaned_input_is_announced(page):
    """NUL/control characters and a 100k paste in the main text input give a visible notice, not silence."""
    at = _fresh(page)
    refs = [r for r in discover(at, TEXT_KINDS) if not r.in_sidebar]
    if not refs:
        pytest.fail(f"{page} has no text input in its main area")
    ref = refs[0]
    missing = []
    for name in ("nul", "huge_100k"):
        at = _fresh(page)
        locate(at, ref).set_value(TEXT[name]).run()
        assert not at.exception, exceptions(at)
        said = messages(at).lower()
        if not any(w in said for w in ("control", "character", "first", "removed", "long", "truncat", "limit")):
            missing.append(name)
    assert not missing, f"{page}: no visible notice after {missing} in {ref} (safe_text notices not shown)"
