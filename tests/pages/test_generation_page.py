"""AppTest for the generation lesson (issue 7): every control, bad inputs, no exceptions."""

from __future__ import annotations

import pytest

from tests.apptest import open_lesson

PAGE = "pages/3_Generation.py"


def open_page(model: str | None = None):
    """Run the page as a learner reaches it: through the app (so the sidebar's page links resolve)."""
    at = open_lesson(PAGE, state={"text_model": model} if model else None)
    assert not at.exception, at.exception
    return at


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [s.value for s in at.success]
    return " ".join(str(p) for p in parts)


@pytest.fixture(scope="module")
def at():
    return open_page()


def test_default_render_shows_the_distribution_and_pseudocode(at):
    assert "generate_text" in at.code[0].value
    assert at.text_area(key="gen_prompt").value.startswith("The animal")
    assert "tokens in the running" in _texts(at)


def test_knobs_reshape_without_error(at):
    at.number_input(key="gen_temp").set_value(0.5).run()
    at.number_input(key="gen_topk").set_value(5).run()
    assert not at.exception
    assert "leave **5** of" in _texts(at)
    at.number_input(key="gen_topp").set_value(0.5).run()
    at.radio(key="gen_mode").set_value("greedy").run()
    assert not at.exception
    assert "leave **1** of" in _texts(at)
    at.radio(key="gen_mode").set_value("sample").run()
    at.number_input(key="gen_topk").set_value(0).run()
    at.number_input(key="gen_topp").set_value(1.0).run()
    assert not at.exception


def test_step_play_branch_and_reset(at):
    at.number_input(key="gen_seed").set_value(7).run()
    at.button(key="gen_step").click().run()
    assert not at.exception
    assert len(at.session_state["gen_lines"]["A"].steps) == 1
    at.number_input(key="gen_n").set_value(4).run()
    at.button(key="gen_play").click().run()
    assert not at.exception
    main = at.session_state["gen_lines"]["A"]
    assert len(main.steps) == 5 or main.done
    # fork at step 1 with the model's favourite alternative that was not chosen
    at.number_input(key="gen_branch_n").set_value(3).run()
    enabled = [b for b in at.button if (b.key or "").startswith("gen_alt_") and not b.disabled]
    enabled[0].click().run()
    assert not at.exception
    lines = at.session_state["gen_lines"]
    assert "B" in lines and lines["B"].parent == "A" and lines["B"].steps[lines["B"].fork_at].forced
    at.button(key="gen_reset").click().run()
    assert not at.exception
    assert list(at.session_state["gen_lines"]) == ["A"] and not at.session_state["gen_lines"]["A"].steps


def test_same_seed_gives_the_same_text():
    texts = []
    for _ in range(2):
        at = open_page()
        at.number_input(key="gen_seed").set_value(3).run()
        at.number_input(key="gen_n").set_value(6).run()
        at.button(key="gen_play").click().run()
        texts.append([s.token_id for s in at.session_state["gen_lines"]["A"].steps])
    assert texts[0] == texts[1] and texts[0]


def test_surprise_and_knobs_tabs(at):
    at.text_area(key="gen_surprise_text").set_value("The module provides functions for working with files.").run()
    assert not at.exception
    assert any(m.label == "Perplexity" for m in at.metric)
    assert "GPT-2 small" in " ".join(str(d.value) for d in at.dataframe) or "GPT-2 small" in _texts(at)


@pytest.mark.parametrize("field, value, fragment", [
    ("gen_temp", -3.0, "cannot be negative"),
    ("gen_temp", 1e6, "clamped"),
    ("gen_temp", 0.0, "greedy"),
    ("gen_topk", 10**6, "more than the vocabulary"),
    ("gen_topp", 5.0, "at most 1"),
    ("gen_topp", 0.0, "above 0"),
])
def test_bad_knob_values_are_clamped_with_a_notice(field, value, fragment):
    at = open_page()
    at.number_input(key=field).set_value(value).run()
    assert not at.exception
    assert fragment in _texts(at)


def test_empty_prompt_starts_from_the_begin_token():
    at = open_page()
    at.text_area(key="gen_prompt").set_value("").run()
    assert not at.exception
    assert "begin token" in _texts(at)
    at.button(key="gen_step").click().run()
    assert not at.exception and len(at.session_state["gen_lines"]["A"].steps) == 1


def test_long_prompt_keeps_the_last_part_and_html_stays_text():
    at = open_page()
    at.text_area(key="gen_prompt").set_value("<b>bold</b> <script>alert(1)</script> " + "word " * 390).run()
    assert not at.exception
    assert "only the last" in _texts(at)
    at.button(key="gen_step").click().run()
    assert not at.exception
    rendered = " ".join(str(h.proto.body) for h in at.get("html"))
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered


def test_minilm_is_not_offered_as_a_generator():
    at = open_page("minilm")
    assert not at.exception
    assert "encoder" in _texts(at) and "cannot generate" in _texts(at)
