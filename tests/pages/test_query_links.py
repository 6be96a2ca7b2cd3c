"""Shareable links: query values are validated and capped; bad ones fall back to defaults."""

from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from gen_viz.ui import query

    st.write(f"text={query.text('text', 'default', max_len=20)!r}")
    st.write(f"seed={query.integer('seed', 7, 0, 1000)}")
    st.write(f"temp={query.number('temp', 1.0, 0.0, 5.0)}")
    st.write(f"model={query.choice('model', 'minilm', ['minilm', 'gpt2'])}")
    query.sync(text="shared", seed=3, empty="")


def run(**params):
    at = AppTest.from_function(_script)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return [m.value for m in at.markdown], at


def test_good_values_are_read():
    shown, _ = run(text="hello", seed="42", temp="0.5", model="gpt2")
    assert shown == ["text='hello'", "seed=42", "temp=0.5", "model=gpt2"]


def test_bad_values_fall_back():
    shown, _ = run(text="<script>" + "x" * 100, seed="-5", temp="nan", model="https://evil.example/m")
    assert shown == ["text='<script>xxxxxxxxxxxx'", "seed=7", "temp=1.0", "model=minilm"]
    shown, _ = run(seed="1e999", temp="inf", model="/etc")
    assert shown[1:] == ["seed=7", "temp=1.0", "model=minilm"]


def test_sync_writes_the_url():
    _, at = run()
    assert at.query_params["text"] == "shared" and at.query_params["seed"] == "3"
    assert "empty" not in at.query_params
