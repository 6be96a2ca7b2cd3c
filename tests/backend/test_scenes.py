"""The captioned shape renderer and the judge that scores generated images (issue 4)."""

import numpy as np
import pytest

from gen_viz import scenes


def test_vocabulary_meets_the_issue():
    assert {"circle", "square", "triangle"} <= set(scenes.SHAPES)
    assert len(scenes.COLOURS) >= 6
    assert {"left", "right", "top", "bottom", "centre"} <= set(scenes.POSITIONS)
    assert set(scenes.SIZES) == {"small", "large"}


def test_render_shape_and_background():
    img = scenes.render(scenes.scene_at("circle", "red", "left", "large"))
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert (img[0, 0] == 255).all() and (img[-1, -1] == 255).all()  # plain white corners
    ink = 1 - img.min(axis=2) / 255
    ys, xs = np.nonzero(ink > 0.5)
    assert xs.mean() < 14  # on the left half
    assert abs(ys.mean() - 16) < 2


@pytest.mark.parametrize("side", [32, 64])
def test_render_other_sizes(side):
    assert scenes.render(scenes.scene_at("triangle", "blue", "top", "small", side=side)).shape == (side, side, 3)


def test_areas_order_square_circle_triangle():
    areas = {s: scenes.shape_mask(s, 16, 16, 6).sum() for s in scenes.SHAPES}
    assert areas["square"] > areas["circle"] > areas["triangle"]


def test_unknown_attribute_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown colour"):
        scenes.scene_at("circle", "chartreuse", "left", "large")


def test_captions_varied_and_describe_the_scene():
    caps = scenes.captions_for("circle", "red", "left", "small")
    assert "a small red circle on the left" in caps
    assert "red circle, left side, small" in caps
    assert len(caps) >= 20 and all("red" in c and "circle" in c for c in caps)
    assert len(set(scenes.all_captions())) > 5000


def test_eval_prompts_cover_every_combination():
    ex = scenes.eval_prompts()
    assert len(ex) >= 60
    assert {(e.shape, e.colour, e.position) for e in ex} == {
        (s, c, p) for s in scenes.SHAPES for c in scenes.COLOURS for p in scenes.POSITIONS}
    train = set(scenes.all_captions())
    assert len(scenes.UNSEEN_PARAPHRASES) == 10
    assert not any(e.prompt in train for e in scenes.UNSEEN_PARAPHRASES)


def test_judge_is_right_on_rendered_scenes():
    rng = np.random.default_rng(7)
    for _ in range(60):
        sc = scenes.random_scene(rng)
        j = scenes.judge(scenes.render(sc), scenes.Example("", sc.shape, sc.colour, sc.position, sc.size))
        assert j.all_ok and j.size_ok and j.clean, (sc, j)
        assert j.background_dev < 1.0


def test_judge_flags_noise_and_blank_images():
    rng = np.random.default_rng(0)
    img = scenes.render(scenes.scene_at("square", "green", "centre", "large")).astype(np.int16)
    noisy = np.clip(img + rng.normal(0, 40, img.shape), 0, 255).astype(np.uint8)
    assert not scenes.judge(noisy).clean
    blank = np.full((32, 32, 3), 255, np.uint8)
    j = scenes.judge(blank, scenes.Example("", "circle", "red", "left", None))
    assert j.colour is None and not j.all_ok
