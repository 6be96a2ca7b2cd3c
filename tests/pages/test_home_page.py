"""AppTest: the home page runs, and the sidebar model choice survives a page switch."""

from tests.apptest import app_test

from gen_viz import models


def test_home_runs_and_shows_lessons():
    at = app_test().run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "security guard" in " ".join(h.value for h in at.subheader).lower()
    assert "king - man + woman" in text
    assert at.sidebar.selectbox[0].label == "Text model"


def test_model_choice_survives_page_switch():
    at = app_test().run()
    at.sidebar.selectbox(key="_w_text_model").set_value("minilm").run()
    assert not at.exception
    assert at.session_state["text_model"] == "minilm"
    at.switch_page("pages/1_Tokens.py").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="_w_text_model").value == "minilm"


def test_unavailable_optional_model_falls_back_with_message(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    at = app_test().run()
    at.sidebar.selectbox(key="_w_text_model").set_value("gpt2").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "not in the local Hugging Face cache" in warnings
    assert at.session_state["text_model"] == models.DEFAULT_TEXT_MODEL
