"""AppTest for the diffusion lesson: default run, every control, bad input (issue 8)."""

import numpy as np
import pytest
import torch

from tests.apptest import open_lesson

torch.set_num_threads(1)
PAGE = "pages/4_Diffusion.py"


def open_page(**params):
    at = open_lesson(PAGE, query=params)
    assert not at.exception, at.exception
    return at


def texts(at):
    return [e.value for kind in ("markdown", "caption", "info", "warning", "error") for e in getattr(at, kind)]


@pytest.fixture(scope="module")
def at():
    return open_page(steps="6")


def test_default_run_shows_a_generation(at):
    assert any("Diffusion" in t.value for t in at.title)
    frame = at.slider(key="dz_frame")
    assert frame.value == frame.max == 6  # the last frame (the output) is shown first
    assert len(at.get("imgs")) >= 1 or len(at.get("image")) >= 1
    assert any("Prompt:" in t for t in texts(at))


def test_scrub_play_and_downloads(at):
    at.slider(key="dz_frame").set_value(2).run()
    assert not at.exception
    assert any("Step 2 of 6" in t for t in texts(at))
    at.toggle(key="dz_play").set_value(True).run()
    assert not at.exception and any("looping" in t for t in texts(at))
    at.slider(key="dz_frame").set_value(0).run()
    assert any("Step 0 of 6" in t for t in texts(at))


def test_every_control_then_generate(at):
    at.text_input(key="dz_prompt").set_value("a small blue triangle at the top").run()
    assert any("press **Generate**" in t for t in texts(at))
    at.radio(key="dz_sampler").set_value("DDIM").run()
    at.slider(key="dz_steps").set_value(5).run()
    at.slider(key="dz_guidance").set_value(1.0).run()
    at.number_input(key="dz_seed").set_value(7).run()
    at.button(key="dz_generate").click().run()
    assert not at.exception
    assert any("blue triangle" in t and "DDIM, 5 steps" in t for t in texts(at))
    assert any("no second prediction" in t for t in texts(at))  # guidance 1: nothing to take apart


def test_guidance_tab_and_scan(at):
    at.slider(key="dz_guidance").set_value(3.0).run()
    at.button(key="dz_generate").click().run()
    at.slider(key="dz_guid_step").set_value(2).run()
    assert any("Step 2 (t =" in t and "cond − uncond" in t for t in texts(at))
    at.button(key="dz_scan").click().run()
    assert not at.exception and any("guidance 0, 1, 3, 7" in t for t in texts(at))


def test_forward_process_controls(at):
    at.slider(key="dz_fwd_t").set_value(500).run()
    assert any("t = 500" in t for t in texts(at))
    at.number_input(key="dz_fwd_seed").set_value(3).run()
    for key, value in (("dz_fwd_shape", "square"), ("dz_fwd_colour", "green"), ("dz_fwd_pos", "top"),
                       ("dz_fwd_size", "small")):
        at.selectbox(key=key).set_value(value).run()
    at.radio(key="dz_fwd_source").set_value("The last generated image").run()
    assert not at.exception
    at.radio(key="dz_fwd_source").set_value("Upload a picture").run()
    assert not at.exception and any("No file yet" in t for t in texts(at))


def test_bad_input_empty_prompt_and_html():
    at = open_page(steps="5", prompt="<img src=x onerror=alert(1)>")
    assert not at.exception
    shown = [t for t in texts(at) if "Prompt:" in t]
    assert shown and "<img" not in shown[0] and "&lt;img" in shown[0]
    at.text_input(key="dz_prompt").set_value("").run()
    at.button(key="dz_generate").click().run()
    assert not at.exception
    assert any("Empty prompt" in t for t in texts(at))


def test_out_of_range_url_values_are_clamped_with_a_notice():
    at = open_page(steps="5000", guidance="-3", seed="abc")
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any("Steps must be between" in w for w in warnings)
    assert any("Guidance must be between" in w for w in warnings)
    assert at.slider(key="dz_steps").value == 100 and at.slider(key="dz_guidance").value == 0.0
