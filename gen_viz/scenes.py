"""Captioned shape scenes: the training data of the bundled text-to-image model.

One coloured shape on a plain white background, described by a caption in
one of several phrasings ("a small red circle on the left", "red circle,
left side, small"). The scene space is small on purpose (3 shapes x 6
colours x 5 places x 2 sizes = 180 scenes) so a 3M-parameter UNet can learn
it on a laptop CPU in about an hour, and the places are far apart so a
32x32 picture can show them unambiguously.

Everything here is plain numpy + PIL: no torch, no Streamlit.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")
# Well separated hues (RGB 0-255) that stay readable on white.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 135, 0),
    "yellow": (235, 200, 0),
    "green": (30, 160, 50),
    "blue": (30, 80, 225),
    "purple": (140, 45, 185),
}
# Anchor of each place, as fractions of the image side (x, y), y grows downwards.
POSITIONS: dict[str, tuple[float, float]] = {
    "left": (0.28, 0.5),
    "right": (0.72, 0.5),
    "top": (0.5, 0.29),
    "bottom": (0.5, 0.71),
    "centre": (0.5, 0.5),
}
# Half-extent of the shape, as a fraction of the image side.
SIZES: dict[str, float] = {"small": 0.13, "large": 0.2}
BACKGROUND = (255, 255, 255)

JITTER_POS = 0.03  # +- fraction of the side the centre may move
JITTER_SIZE = 0.10  # +- relative change of the half-extent
SUPERSAMPLE = 4  # draw at 4x then downsample: anti-aliased edges

# Caption vocabulary used in training. Unseen paraphrases (eval) use other words.
SIZE_WORDS = {"small": ("small", "little"), "large": ("large", "big")}
POS_PHRASES = {
    "left": ("on the left", "at the left", "to the left"),
    "right": ("on the right", "at the right", "to the right"),
    "top": ("at the top", "on top", "near the top"),
    "bottom": ("at the bottom", "near the bottom", "on the bottom"),
    "centre": ("in the centre", "in the middle", "in the center"),
}
SIDE_WORDS = {"left": "left side", "right": "right side", "top": "top", "bottom": "bottom", "centre": "centre"}
TEMPLATES = (
    "a {size} {colour} {shape} {pos}",
    "{size} {colour} {shape} {pos}",
    "a {colour} {shape} {pos}",  # size left open: either size is right
    "{colour} {shape}, {side}, {size}",
    "there is a {size} {colour} {shape} {pos}",
    "{Pos}, a {size} {colour} {shape}",
    "a picture of a {size} {colour} {shape} {pos}",
    "the {shape} is {colour}, {size} and {pos}",
)


@dataclass(frozen=True)
class Scene:
    """One shape: its attributes and exact geometry (pixels of an image of side `side`)."""

    shape: str
    colour: str
    position: str
    size: str
    cx: float  # centre x, pixels
    cy: float  # centre y, pixels
    r: float  # half-extent, pixels
    side: int = 32


def scene_at(shape: str, colour: str, position: str, size: str, side: int = 32,
             dx: float = 0.0, dy: float = 0.0, scale: float = 1.0) -> Scene:
    """The scene for named attributes, with optional offsets (fractions) and size scale."""
    for name, value, allowed in (("shape", shape, SHAPES), ("colour", colour, COLOURS),
                                 ("position", position, POSITIONS), ("size", size, SIZES)):
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(allowed)}")
    fx, fy = POSITIONS[position]
    return Scene(shape, colour, position, size, cx=(fx + dx) * side, cy=(fy + dy) * side,
                 r=SIZES[size] * scale * side, side=side)


def random_scene(rng: np.random.Generator, side: int = 32) -> Scene:
    """A uniformly random scene with a little jitter in place and size."""
    return scene_at(
        SHAPES[rng.integers(len(SHAPES))],
        list(COLOURS)[rng.integers(len(COLOURS))],
        list(POSITIONS)[rng.integers(len(POSITIONS))],
        list(SIZES)[rng.integers(len(SIZES))],
        side=side,
        dx=rng.uniform(-JITTER_POS, JITTER_POS),
        dy=rng.uniform(-JITTER_POS, JITTER_POS),
        scale=1.0 + rng.uniform(-JITTER_SIZE, JITTER_SIZE),
    )


def shape_polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]] | None:
    """Vertices of a square or triangle (None for a circle). Areas: circle pi r^2, square 3.24 r^2, triangle 2.2 r^2."""
    if shape == "square":
        h = 0.9 * r
        return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    if shape == "triangle":
        big = 1.3 * r  # circumradius of an upward equilateral triangle centred on (cx, cy)
        return [(cx + big * math.cos(a), cy + big * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if shape == "circle":
        return None
    raise ValueError(f"unknown shape {shape!r}")


def _draw(shape: str, cx: float, cy: float, r: float, side: int, fill, background, mode: str) -> Image.Image:
    k = SUPERSAMPLE
    img = Image.new(mode, (side * k, side * k), background)
    draw = ImageDraw.Draw(img)
    poly = shape_polygon(shape, cx * k, cy * k, r * k)
    if poly is None:
        draw.ellipse([(cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k], fill=fill)
    else:
        draw.polygon(poly, fill=fill)
    return img.resize((side, side), Image.Resampling.BOX)


def render(scene: Scene) -> np.ndarray:
    """The scene as an RGB uint8 array of shape (side, side, 3)."""
    img = _draw(scene.shape, scene.cx, scene.cy, scene.r, scene.side, COLOURS[scene.colour], BACKGROUND, "RGB")
    return np.asarray(img, dtype=np.uint8)


def shape_mask(shape: str, cx: float, cy: float, r: float, side: int = 32) -> np.ndarray:
    """Soft coverage (0..1 float32, shape (side, side)) of a shape: used to judge generated images."""
    img = _draw(shape, cx, cy, r, side, 255, 0, "L")
    return np.asarray(img, dtype=np.float32) / 255.0


# ---------------------------------------------------------------- captions

def captions_for(shape: str, colour: str, position: str, size: str) -> list[str]:
    """Every training caption that describes this scene (templates x word choices), sorted, unique."""
    out = set()
    for template in TEMPLATES:
        for size_word, pos in itertools.product(SIZE_WORDS[size], POS_PHRASES[position]):
            out.add(template.format(size=size_word, colour=colour, shape=shape, pos=pos,
                                    Pos=pos[0].upper() + pos[1:], side=SIDE_WORDS[position]))
    return sorted(out)


def random_caption(scene: Scene, rng: np.random.Generator) -> str:
    options = captions_for(scene.shape, scene.colour, scene.position, scene.size)
    return options[rng.integers(len(options))]


def all_scene_keys() -> list[tuple[str, str, str, str]]:
    """(shape, colour, position, size) for all 180 scenes, in a fixed order."""
    return list(itertools.product(SHAPES, COLOURS, POSITIONS, SIZES))


def all_captions() -> list[str]:
    """The full, sorted set of training captions (a few thousand)."""
    out = set()
    for key in all_scene_keys():
        out.update(captions_for(*key))
    return sorted(out)


def canonical_caption(shape: str, colour: str, position: str, size: str) -> str:
    return TEMPLATES[0].format(size=size, colour=colour, shape=shape, pos=POS_PHRASES[position][0])


@dataclass(frozen=True)
class Example:
    """A prompt for evaluation and the attributes a correct image has (size None: not judged)."""

    prompt: str
    shape: str
    colour: str
    position: str
    size: str | None


def eval_prompts() -> list[Example]:
    """90 prompts: every shape x colour x place once, sizes alternating, in the first template."""
    out = []
    for i, (shape, colour, position) in enumerate(itertools.product(SHAPES, COLOURS, POSITIONS)):
        size = ("small", "large")[i % 2]
        out.append(Example(canonical_caption(shape, colour, position, size), shape, colour, position, size))
    return out


# Ten wordings never used in training: synonyms for colours, shapes, sizes and places.
UNSEEN_PARAPHRASES: tuple[Example, ...] = (
    Example("a crimson ball on the left", "circle", "red", "left", None),
    Example("an azure box over on the right", "square", "blue", "right", None),
    Example("tiny green triangle up at the top", "triangle", "green", "top", "small"),
    Example("a huge yellow disc in the lower part of the picture", "circle", "yellow", "bottom", "large"),
    Example("an orange square placed right in the middle", "square", "orange", "centre", None),
    Example("violet circle towards the left edge", "circle", "purple", "left", None),
    Example("a little scarlet triangle in the lower half", "triangle", "red", "bottom", "small"),
    Example("emerald square on the upper side", "square", "green", "top", None),
    Example("the image shows a large navy circle on the right", "circle", "blue", "right", "large"),
    Example("a small golden triangle sitting in the centre", "triangle", "yellow", "centre", "small"),
)


# ---------------------------------------------------------------- judging a generated image

INK_THRESHOLD = 0.35  # "ink" = 1 - min(R, G, B)/255: 0 on white, >= 0.8 on every palette colour


@dataclass
class Judgement:
    """What a generated image shows, measured, and whether it matches the prompt's attributes."""

    colour: str | None
    position: str | None
    shape: str | None
    size: str | None
    shape_iou: float  # overlap of the object with the best-fitting ideal shape
    background_dev: float  # mean |pixel - white| (0-255) outside the object: 0 = perfectly clean (grain + tint)
    background_std: float  # std of the background pixels (0-255): the grain (leftover noise), tint excluded
    colour_ok: bool
    position_ok: bool
    shape_ok: bool
    size_ok: bool | None  # None when the prompt leaves the size open
    clean: bool  # background_dev below CLEAN_DEV: pure white, strict

    @property
    def grain_free(self) -> bool:
        return self.background_std < GRAIN_STD

    @property
    def all_ok(self) -> bool:
        return self.colour_ok and self.position_ok and self.shape_ok


CLEAN_DEV = 6.0  # mean deviation from white outside the object, 0-255 levels (JPEG-grade noise is ~2-4)
GRAIN_STD = 4.0  # background std below this: no visible leftover noise (a flat tint may remain)


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(k):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def judge(image: np.ndarray, expected: Example | None = None) -> Judgement:
    """Measure colour (majority palette colour of the object's pixels), position (centroid -> nearest
    anchor), shape and size (best IoU over ideal circles/squares/triangles centred on the centroid)
    and background cleanliness; compare with `expected` when given."""
    img = np.asarray(image, dtype=np.float32)
    side = img.shape[0]
    ink = 1.0 - img.min(axis=2) / 255.0  # (H, W)
    mask = ink > INK_THRESHOLD
    outside = ~_dilate(mask, 2)
    bg_dev = float(np.abs(255.0 - img[outside]).mean()) if outside.any() else 255.0
    bg_std = float(img[outside].std(axis=0).mean()) if outside.sum() > 1 else 255.0
    colour = position = shape = size = None
    best_iou = 0.0
    if mask.sum() >= 3:
        # colour: each object pixel votes for its nearest palette colour
        names = list(COLOURS)
        pal = np.array([COLOURS[n] for n in names], dtype=np.float32)  # (6, 3)
        px = img[mask]  # (n, 3)
        votes = np.argmin(((px[:, None, :] - pal[None]) ** 2).sum(-1), axis=1)
        colour = names[int(np.bincount(votes, minlength=len(names)).argmax())]
        # position: ink-weighted centroid -> nearest anchor
        ys, xs = np.nonzero(mask)
        w = ink[mask]
        cx, cy = float((xs * w).sum() / w.sum()) + 0.5, float((ys * w).sum() / w.sum()) + 0.5
        position = min(POSITIONS, key=lambda p: (POSITIONS[p][0] * side - cx) ** 2 + (POSITIONS[p][1] * side - cy) ** 2)
        # shape + size: fit each ideal shape (over radii) to the soft ink map
        soft = np.clip(ink / 0.8, 0, 1)
        best_r = 0.0
        for name in SHAPES:
            for r in np.arange(0.08, 0.27, 0.01) * side:  # every ideal shape is centred on its centroid
                ideal = shape_mask(name, cx, cy, r, side)
                iou = np.minimum(ideal, soft).sum() / max(1e-6, np.maximum(ideal, soft).sum())
                if iou > best_iou:
                    best_iou, shape, best_r = float(iou), name, float(r)
        size = "small" if best_r / side < (SIZES["small"] + SIZES["large"]) / 2 else "large"
    clean = bg_dev < CLEAN_DEV
    if expected is None:
        return Judgement(colour, position, shape, size, best_iou, bg_dev, bg_std, False, False, False, None, clean)
    return Judgement(colour, position, shape, size, best_iou, bg_dev, bg_std,
                     colour_ok=colour == expected.colour, position_ok=position == expected.position,
                     shape_ok=shape == expected.shape,
                     size_ok=None if expected.size is None else size == expected.size, clean=clean)
