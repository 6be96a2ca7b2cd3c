"""Streamlit widgets of the diffusion lesson (the page file stays thin).

Caching: a generated trajectory is kept per (model, prompt, seed, steps, sampler, guidance) in a small
server-wide LRU store (`st.cache_resource`), not `st.cache_data`, because generation draws a live
progress bar, and elements drawn inside a `cache_data` function are replayed on every cache hit.
Stored arrays are made read-only, so no session can change another's result; each generation uses its
own scheduler and torch.Generator (gen_viz.diffusion.generate).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import fields

import numpy as np
import streamlit as st

from gen_viz import diffusion, scenes
from gen_viz.plots import diffusion as plots
from gen_viz.ui import faults, html, loaders, query

DEFAULT_PROMPT = "a large red circle on the left"
STEPS_UI = (5, 100)
GUIDANCE_UI = (0.0, 10.0)
SEED_UI = (0, 2**31 - 1)
SCAN_SCALES = (0.0, 1.0, 3.0, 7.0)
DISPLAY = 224  # pixels on screen for a 32x32 frame (crisp nearest-neighbour enlargement)


class TrajectoryStore:
    """A bounded, thread-safe LRU of finished trajectories (read-only arrays)."""

    def __init__(self, max_entries: int = 48):
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, traj: diffusion.Trajectory) -> None:
        for f in fields(traj):
            value = getattr(traj, f.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        with self._lock:
            self._data[key] = traj
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)


@st.cache_resource(show_spinner=False)
def trajectory_store() -> TrajectoryStore:
    return TrajectoryStore()


def get_trajectory(model_key: str, allow_download: bool, prompt: str, seed: int, steps: int, sampler: str,
                   guidance: float, show_progress: bool = True) -> diffusion.Trajectory:
    """The cached trajectory, or generate it now with a progress bar."""
    key = (model_key, prompt, int(seed), int(steps), sampler, float(guidance))
    store = trajectory_store()
    traj = store.get(key)
    if traj is not None:
        return traj
    dm = loaders.try_diffusion_model(model_key, allow_download)[0]
    if dm is None:
        raise diffusion.DiffusionError("The diffusion model is not available.")
    bar = st.progress(0.0, text="Denoising…") if show_progress else None

    def progress(i: int, n: int) -> None:
        if bar is not None:
            bar.progress(i / n, text=f"Denoising: step {i} of {n}")

    traj = diffusion.generate(dm, prompt, seed, steps, sampler, guidance, record=True, progress=progress)
    if bar is not None:
        bar.empty()
    store.put(key, traj)
    return traj


@st.cache_data(max_entries=32, show_spinner=False)
def gif_for(frames: np.ndarray) -> bytes:
    """Keyed by the frames themselves (hashed by Streamlit), so two models never share an animation."""
    return diffusion.gif_bytes(frames)


@st.cache_data(max_entries=16, show_spinner="Generating the same seed at several guidance scales…")
def guidance_scan(model_key: str, allow_download: bool, prompt: str, seed: int, steps: int, sampler: str,
                  scales: tuple[float, ...]) -> np.ndarray:
    dm = loaders.try_diffusion_model(model_key, allow_download)[0]
    return diffusion.guidance_scan(dm, prompt, seed, steps, sampler, scales)


@st.cache_data(max_entries=32, show_spinner=False)
def prompt_view(model_key: str, allow_download: bool, prompt: str, words: tuple[str, ...]) -> diffusion.PromptView:
    dm = loaders.try_diffusion_model(model_key, allow_download)[0]
    return diffusion.explain_prompt(dm, prompt, list(words))


@st.cache_data(max_entries=8, show_spinner=False)
def schedule(scheduler_config_items: tuple) -> diffusion.Schedule:
    return diffusion.schedule_arrays(dict(scheduler_config_items))


def _config_items(dm) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in dm.scheduler_config.items()
                        if not k.startswith("_")))


def _clamp_note(name: str, value, lo, hi):
    if value < lo or value > hi:
        st.warning(f"{name} must be between {lo} and {hi}: {value} was clamped.")
        return min(max(value, lo), hi)
    return value


# ---------------------------------------------------------------------------------------------
# forward process
# ---------------------------------------------------------------------------------------------


def forward_section(dm, model_key: str) -> None:
    st.subheader("1. Add noise: the foggy photo")
    st.markdown(
        "Training starts from a clean picture and buries it in noise, a little more at every timestep *t*. "
        "The scheduler mixes the two: **x_t = √ᾱ_t · image + √(1−ᾱ_t) · noise**. At *t = 0* it is the photo; "
        "by the last step only static is left. The model learns to undo one step of this."
    )
    side = dm.info.image_size if not dm.info.latent else 64
    source = st.radio("Image", ["A rendered scene", "The last generated image", "Upload a picture"],
                      horizontal=True, key="dz_fwd_source")
    image, notes = None, []
    if source == "A rendered scene":
        c = st.columns(4)
        shape = c[0].selectbox("Shape", scenes.SHAPES, key="dz_fwd_shape")
        colour = c[1].selectbox("Colour", list(scenes.COLOURS), key="dz_fwd_colour")
        position = c[2].selectbox("Place", list(scenes.POSITIONS), key="dz_fwd_pos")
        size = c[3].selectbox("Size", list(scenes.SIZES), index=1, key="dz_fwd_size")
        image = scenes.render(scenes.scene_at(shape, colour, position, size, side=side))
    elif source == "The last generated image":
        last = st.session_state.get("dz_last_image")
        if last is None:
            st.info("Generate an image in section 2 first; showing a rendered scene meanwhile.")
            image = scenes.render(scenes.scene_at("circle", "red", "left", "large", side=side))
        else:
            image = np.asarray(last)
            if image.shape[0] != side:
                image = diffusion.load_upload(diffusion.png_bytes(image), side)[0]
    else:
        up = st.file_uploader("A picture (PNG, JPEG, WebP, GIF, BMP, TIFF; at most 8 MB)", key="dz_fwd_upload",
                              type=["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"])
        if up is None:
            st.info("No file yet: showing a rendered scene.")
            image = scenes.render(scenes.scene_at("circle", "red", "left", "large", side=side))
        else:
            try:
                image, notes = diffusion.load_upload(up.getvalue(), side)
            except diffusion.DiffusionError as err:
                st.error(str(err))
                image = scenes.render(scenes.scene_at("circle", "red", "left", "large", side=side))
    for n in notes:
        st.caption(n)
    _forward_view(image, _config_items(dm), dm.info.num_train_timesteps)


@st.fragment
def _forward_view(image: np.ndarray, config_items: tuple, T: int) -> None:
    sch = schedule(config_items)
    c = st.columns([1, 1, 2])
    t = c[2].slider("Timestep t", 0, T - 1, value=T // 4, key="dz_fwd_t")
    seed = c[2].number_input("Noise seed", 0, 10_000, value=0, key="dz_fwd_seed")
    noisy = diffusion.add_noise(image, t, dict(config_items), seed=int(seed))
    c[0].image(diffusion.upscale(image, DISPLAY), caption="clean image x₀", width=DISPLAY)
    c[1].image(diffusion.upscale(noisy, DISPLAY), caption=f"x_t at t = {t}", width=DISPLAY)
    c[2].plotly_chart(plots.schedule_figure(sch.signal, sch.noise, sch.alphas_cumprod, t), width="stretch",
                      key="dz_sched_fig")
    c[2].caption(f"At t = {t}: image weight {sch.signal[t]:.3f}, noise weight {sch.noise[t]:.3f}, "
                 f"ᾱ = {sch.alphas_cumprod[t]:.3f} ({dict(config_items).get('beta_schedule', 'linear')} schedule).")


# ---------------------------------------------------------------------------------------------
# reverse process
# ---------------------------------------------------------------------------------------------


def read_request(dm) -> dict:
    """The generation controls, seeded from the URL once per session; returns validated values."""
    query.seed("dz_prompt", query.text("prompt", DEFAULT_PROMPT if dm.conditional else "", max_len=300))
    query.seed("dz_sampler", query.choice("sampler", "DDPM", list(diffusion.SAMPLERS)))
    url_steps = query.integer("steps", 50, -10**6, 10**6)
    url_guidance = query.number("guidance", 3.0, -1e6, 1e6)
    url_seed = query.integer("seed", 0, -10**12, 10**12)
    st.session_state.setdefault("dz_steps", int(_clamp_note("Steps", url_steps, *STEPS_UI)))
    st.session_state.setdefault("dz_guidance", float(_clamp_note("Guidance", url_guidance, *GUIDANCE_UI)))
    st.session_state.setdefault("dz_seed", int(_clamp_note("Seed", url_seed, *SEED_UI)))

    prompt = st.text_input("Prompt", key="dz_prompt", max_chars=300, disabled=not dm.conditional,
                           help="Try a colour, a shape, a place and a size: 'a small blue triangle at the top'.")
    c = st.columns(4)
    steps = c[0].slider("Steps", *STEPS_UI, key="dz_steps")
    sampler = c[1].radio("Sampler", diffusion.SAMPLERS, key="dz_sampler", horizontal=True,
                         help="DDPM: adds fresh noise at every step (the bundled model's best). DDIM: deterministic, no fresh noise.")
    guidance = c[2].slider("Guidance scale", *GUIDANCE_UI, step=0.5, key="dz_guidance",
                           disabled=not dm.conditional)
    seed = c[3].number_input("Seed", *SEED_UI, key="dz_seed", step=1)
    return dict(prompt=prompt or "", steps=int(steps), sampler=sampler, guidance=float(guidance), seed=int(seed))


def reverse_section(dm, model_key: str, allow_download: bool) -> diffusion.Trajectory | None:
    st.subheader("2. Remove the noise, step by step")
    st.markdown(
        "Generation runs the film backwards: start from pure static, ask the UNet *which part of this is noise?*, "
        "remove some of it, repeat. Each step gives three pictures: the current noisy image, the noise the model "
        "predicts, and the clean image it would reach if it removed all of that noise at once."
    )
    if not dm.conditional:
        st.info("This model has no text encoder: it generates unconditionally (no prompt).")
    req = read_request(dm)
    query.sync(prompt=req["prompt"] if req["prompt"] != DEFAULT_PROMPT else None, steps=req["steps"],
               sampler=req["sampler"], guidance=req["guidance"], seed=req["seed"])
    if dm.conditional and not req["prompt"].strip():
        st.info("Empty prompt: the model generates unconditionally (guidance has nothing to steer towards).")
    clicked = st.button("Generate", type="primary", key="dz_generate")
    wanted = (model_key, req["prompt"].strip(), req["seed"], req["steps"], req["sampler"], req["guidance"])
    if clicked or "dz_shown" not in st.session_state:
        st.session_state["dz_shown"] = wanted  # first visit: show the default prompt at once
    shown = st.session_state["dz_shown"]
    if shown[0] != model_key:
        st.session_state["dz_shown"] = shown = wanted
    try:
        traj = get_trajectory(shown[0], allow_download, *shown[1:])
    except diffusion.DiffusionError as err:
        st.error(str(err))
        return None
    except Exception as err:  # the model failing mid-loop: a message, and the rest of the page works
        faults.report("The denoising loop", err)
        return None
    if shown != wanted:
        st.caption("The controls changed: press **Generate** to run them. Showing the previous result.")
    for note in traj.notes:
        st.warning(note)
    st.session_state["dz_last_image"] = np.array(traj.image)
    st.markdown(f"**Prompt:** {html.esc(traj.prompt) if traj.prompt else '*(none: unconditional)*'} · "
                f"{traj.sampler}, {traj.steps} steps, guidance {traj.guidance:g}, seed {traj.seed} · "
                f"generated in {traj.seconds:.1f} s")
    player(traj)
    return traj


@st.fragment
def player(traj: diffusion.Trajectory) -> None:
    """Scrub through stored frames: no model call here, only numpy slicing and images."""
    n = len(traj.timesteps)
    i = st.slider("Step (0 = pure noise)", 0, n, value=n, key="dz_frame")
    if i == 0:
        st.caption(f"Step 0 of {n}: pure noise, where every generation starts.")
    else:
        st.caption(f"Step {i} of {n} (t = {int(traj.timesteps[i - 1])}): the model looked at the previous image, "
                   f"predicted its noise (middle) and the clean picture under it (right), and removed part of the "
                   f"noise (left).")
    c = st.columns(3)
    c[0].image(diffusion.upscale(traj.frames[i], DISPLAY), width=DISPLAY,
               caption=f"noisy image after step {i} of {n}" if i else "step 0: pure noise")
    if i > 0 and traj.pred_noise is not None:
        t = int(traj.timesteps[i - 1])
        c[1].image(diffusion.upscale(diffusion.noise_to_image(traj.pred_noise[i - 1]), DISPLAY), width=DISPLAY,
                   caption=f"predicted noise at step {i} (t = {t})")
        if traj.pred_clean is not None:
            c[2].image(diffusion.upscale(traj.pred_clean[i - 1], DISPLAY), width=DISPLAY,
                       caption=f"predicted clean image at step {i}")
    else:
        c[1].caption("Move the slider to a step to see what the model predicted there.")
    strip, idx = diffusion.filmstrip(traj.frames, count=8)
    st.image(strip, caption="Filmstrip: steps " + ", ".join(str(k) for k in idx))
    d = st.columns([1, 1, 1, 3])
    play = d[0].toggle("▶ Play", key="dz_play", help="An animation of all frames (no model call).")
    gif = gif_for(np.asarray(traj.frames))
    d[1].download_button("Frames as GIF", gif, file_name="genviz-diffusion.gif", mime="image/gif", key="dz_dl_gif")
    d[2].download_button("This frame as PNG", diffusion.png_bytes(diffusion.upscale(traj.frames[i], 256)),
                         file_name=f"genviz-diffusion-step{i}.png", mime="image/png", key="dz_dl_png")
    if play:
        st.caption(f"Playing all {n + 1} frames, looping (an animated GIF: no model call).")
        st.image(gif, width=DISPLAY)
    if traj.pred_noise is not None:
        std = traj.pred_noise.astype(np.float32).std(axis=(1, 2, 3))
        gap = None
        if traj.noise_cond is not None:
            gap = np.abs(traj.noise_cond.astype(np.float32) - traj.noise_uncond.astype(np.float32)).mean(axis=(1, 2, 3))
        st.plotly_chart(plots.trajectory_figure(traj.timesteps, std, gap, current=i or None), width="stretch",
                        key="dz_traj_fig")


# ---------------------------------------------------------------------------------------------
# guidance and the text encoder
# ---------------------------------------------------------------------------------------------


def guidance_section(dm, model_key: str, allow_download: bool, traj: diffusion.Trajectory | None) -> None:
    st.subheader("3. Guidance, taken apart")
    st.markdown(
        "Classifier-free guidance runs the UNet twice per step: once with the prompt and once with an empty "
        "prompt. Their difference is *what the prompt adds*; the guidance scale multiplies it: "
        "**noise = uncond + scale × (cond − uncond)**. Scale 1 is the plain prompt-conditioned prediction; "
        "0 ignores the prompt."
    )
    if traj is None:
        return
    if traj.noise_cond is None:
        st.info("This run had no second prediction to compare: guidance is 1, the prompt is empty, or the model "
                "is unconditional. Set a guidance scale other than 1 and generate.")
    else:
        n = len(traj.timesteps)
        k = st.slider("Step", 1, n, value=max(1, n // 3), key="dz_guid_step")
        u, c_ = traj.noise_uncond[k - 1].astype(np.float32), traj.noise_cond[k - 1].astype(np.float32)
        diff = c_ - u
        st.caption(f"Step {k} (t = {int(traj.timesteps[k - 1])}): the prompt moves the noise prediction by "
                   f"{float(np.abs(diff).mean()):.3f} per value on average (difference cond − uncond), "
                   f"and guidance {traj.guidance:g} multiplies that.")
        cols = st.columns(4)
        cols[0].image(diffusion.upscale(diffusion.noise_to_image(u), 160), caption="empty prompt (uncond)", width=160)
        cols[1].image(diffusion.upscale(diffusion.noise_to_image(c_), 160), caption="with the prompt (cond)", width=160)
        scale = 2.5 / max(1e-6, float(np.abs(diff).max()))
        cols[2].image(diffusion.upscale(diffusion.noise_to_image(diff * scale), 160), width=160,
                      caption=f"difference cond − uncond (×{scale:.1f} to be visible)")
        cols[3].image(diffusion.upscale(diffusion.noise_to_image(traj.pred_noise[k - 1]), 160), width=160,
                      caption=f"guided: uncond + {traj.guidance:g} × difference")
    if dm.conditional and traj.prompt:
        if st.button(f"Same seed at guidance {', '.join(f'{s:g}' for s in SCAN_SCALES)}", key="dz_scan"):
            st.session_state["dz_scan_for"] = (model_key, traj.prompt, traj.seed, traj.steps, traj.sampler)
        if st.session_state.get("dz_scan_for") == (model_key, traj.prompt, traj.seed, traj.steps, traj.sampler):
            try:
                imgs = guidance_scan(model_key, allow_download, traj.prompt, traj.seed, traj.steps, traj.sampler,
                                     SCAN_SCALES)
            except Exception as err:  # the model failing mid-loop: a message, not a traceback
                faults.report("The guidance row", err)
                return
            st.caption(f"Seed {traj.seed}, same starting noise, guidance {', '.join(f'{s:g}' for s in SCAN_SCALES)}: "
                       "0 ignores the prompt, higher values follow it harder (too high over-saturates).")
            cols = st.columns(len(SCAN_SCALES))
            for col, img, s in zip(cols, imgs, SCAN_SCALES):
                col.image(diffusion.upscale(img, 160), caption=f"guidance {s:g}", width=160)


REFERENCE_WORDS = tuple(list(scenes.COLOURS) + list(scenes.SHAPES) + ["left", "right", "top", "bottom", "centre",
                                                                      "small", "large"])


def text_section(dm, model_key: str, allow_download: bool, prompt: str) -> None:
    st.subheader("4. How the prompt reaches the picture")
    if not dm.conditional:
        st.info("This model has no text encoder: nothing reads a prompt.")
        return
    st.markdown(
        f"The prompt is split into tokens and run through a frozen text encoder ({html.esc(dm.info.text_encoder)}). "
        "Each token comes out as a vector of "
        f"{dm.info.cross_attention_dim} numbers that depends on its neighbours. At every step, the UNet's "
        "cross-attention layers compare each patch of the image with these vectors and pull in what fits: "
        "this is how *red* and *left* end up in the picture (Stable Diffusion reads CLIP's vectors the same way)."
    )
    if not prompt.strip():
        st.info("Empty prompt: the encoder sees only its start and end tokens.")
    view = prompt_view(model_key, allow_download, prompt.strip(), REFERENCE_WORDS)
    chips = " ".join(f"<code>{html.esc(t)}</code>" for t in view.tokens)
    html.render(f"<div>Tokens ({len(view.tokens)}): {chips}</div>")
    c = st.columns(2)
    c[0].plotly_chart(plots.token_embedding_figure(view.tokens, view.hidden), width="stretch", key="dz_tok_fig")
    c[1].plotly_chart(plots.similarity_figure(view.words, view.similarity), width="stretch", key="dz_sim_fig")
    c[1].caption("Which scene words the whole prompt is closest to (cosine of mean-pooled encoder outputs). "
                 "A word never used in training (try *crimson* or *navy*) can still land near the right one: that is "
                 "why a pretrained encoder helps, though this small model follows such words only some of the time.")
