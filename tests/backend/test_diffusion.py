"""gen_viz.diffusion: forward noising against diffusers, the recorded loop, guidance, loaders, uploads.

Models here are tiny and randomly initialised (diffusers' own testing habit): the maths and the plumbing are
under test, not the pictures.
"""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from gen_viz import diffusion as D
from gen_viz import scenes

torch.set_num_threads(1)
TEXT_DIM = 32


def tiny_unet(cross_dim=TEXT_DIM, pooled=True):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    extra = dict(class_embed_type="projection", projection_class_embeddings_input_dim=cross_dim) if pooled else {}
    return UNet2DConditionModel(
        sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross_dim, attention_head_dim=8, norm_num_groups=8, **extra).eval()


@pytest.fixture(scope="module")
def model():
    """The bundled model's design in miniature: random tiny BERT (MiniLM's tokenizer) + tiny UNet."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tok = AutoTokenizer.from_pretrained(D.minilm_dir(), local_files_only=True)
    torch.manual_seed(0)
    enc = BertModel(BertConfig(vocab_size=tok.vocab_size, hidden_size=TEXT_DIM, num_hidden_layers=1,
                               num_attention_heads=2, intermediate_size=64)).eval()
    unet = tiny_unet()
    cfg = D.tiny_scheduler_config()
    info = D._build_info("tiny", "text-to-image", "test", unet, cfg, enc, "tiny BERT", None, 0.0)
    return D.DiffusionModel(unet, cfg, enc, tok, info, pooled_projection=True, max_tokens=D.MAX_TOKENS)


def test_add_noise_equals_the_schedulers():
    from diffusers import DDPMScheduler

    cfg = D.tiny_scheduler_config()
    img = scenes.render(scenes.scene_at("circle", "red", "left", "large"))
    for t in (0, 10, 500, 999):
        ours = D.add_noise(img, t, cfg, seed=3)
        sched = DDPMScheduler.from_config(cfg)
        x0 = D.image_to_tensor(img)
        eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(3))
        ref = sched.add_noise(x0, eps, torch.tensor([t]))
        assert np.array_equal(ours, D.tensor_to_image(ref))
        ab = sched.alphas_cumprod[t]
        assert torch.allclose(ref, ab.sqrt() * x0 + (1 - ab).sqrt() * eps, atol=1e-5)
    assert np.abs(D.add_noise(img, 0, cfg).astype(int) - img.astype(int)).max() <= 3  # t=0: almost the photo
    with pytest.raises(D.DiffusionError):
        D.add_noise(img, 1000, cfg)


def test_schedule_arrays():
    from diffusers import DDPMScheduler

    s = D.schedule_arrays(D.tiny_scheduler_config())
    assert len(s.betas) == 1000
    assert np.allclose(s.signal ** 2 + s.noise ** 2, 1.0)
    assert np.all(np.diff(s.alphas_cumprod) < 0)
    assert np.allclose(s.alphas_cumprod, DDPMScheduler(**D.tiny_scheduler_config()).alphas_cumprod.numpy(), atol=1e-6)


@pytest.mark.parametrize("sampler", D.SAMPLERS)
def test_trajectory_records_every_step(model, sampler):
    tr = D.generate(model, "a red circle on the left", seed=1, steps=4, sampler=sampler, guidance=3.0)
    assert tr.frames.shape == (5, 16, 16, 3)  # steps + 1 (the start)
    assert tr.pred_noise.shape == (4, 3, 16, 16) and tr.pred_clean.shape == (4, 16, 16, 3)
    assert tr.noise_cond.shape == tr.noise_uncond.shape == (4, 3, 16, 16)
    assert len(tr.timesteps) == 4 and tr.timesteps[0] == 999  # trailing spacing starts at pure noise
    bare = D.generate(model, "a red circle on the left", seed=1, steps=4, sampler=sampler, guidance=3.0, record=False)
    assert np.array_equal(tr.image, bare.image)  # the last frame is the loop's output
    assert bare.frames.shape[0] == 1 and bare.pred_noise is None


def test_same_seed_same_image_and_generators_are_private(model):
    a = D.generate(model, "a blue square", seed=5, steps=3, sampler="DDPM")
    torch.manual_seed(123)  # the global RNG plays no part
    b = D.generate(model, "a blue square", seed=5, steps=3, sampler="DDPM")
    c = D.generate(model, "a blue square", seed=6, steps=3, sampler="DDPM")
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames[0], c.frames[0])


def test_guidance_is_the_cfg_formula_and_scale_one_is_conditional(model):
    tr = D.generate(model, "a green triangle", seed=2, steps=3, guidance=4.0)
    u, c = tr.noise_uncond.astype(np.float32), tr.noise_cond.astype(np.float32)
    assert np.allclose(tr.pred_noise.astype(np.float32), u + 4.0 * (c - u), atol=2e-2)
    one = D.generate(model, "a green triangle", seed=2, steps=3, guidance=1.0)
    assert one.noise_cond is None  # no unconditional pass at scale 1
    # step 1 at scale 1 == the prompt-conditioned prediction on the same start
    sched = D.make_scheduler(model.scheduler_config, "DDIM")
    sched.set_timesteps(3)
    x = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(2))
    eps_c = D.predict_noise(model, x, sched.timesteps[0], D.encode_prompts(model, ["a green triangle"]))
    assert torch.allclose(torch.from_numpy(one.pred_noise[0].astype(np.float32)), eps_c[0], atol=1e-2)
    assert np.allclose(tr.noise_cond[0].astype(np.float32), eps_c[0].numpy(), atol=1e-2)
    # the CFG formula itself at scale 1 reduces to cond
    assert np.allclose(u + 1.0 * (c - u), c, atol=1e-6)


@pytest.mark.parametrize("sampler", D.SAMPLERS)
def test_batch_matches_single(model, sampler):
    batch = D.generate_batch(model, ["a red circle", "a blue square"], [9, 10], steps=3, sampler=sampler, guidance=2.0)
    for i, (p, s) in enumerate((("a red circle", 9), ("a blue square", 10))):
        single = D.generate(model, p, seed=s, steps=3, sampler=sampler, guidance=2.0, record=False).image
        assert np.abs(batch[i].astype(int) - single.astype(int)).max() <= 2


def test_validate_request_clamps_with_notes():
    r = D.validate_request("", 1, 1000, "DDIM", 99.0)
    assert r.steps == D.STEPS_RANGE[1] and r.guidance == D.GUIDANCE_RANGE[1]
    assert any("Empty prompt" in n for n in r.notes) and any("clamped" in n for n in r.notes)
    assert D.validate_request("x", 1, 0, "DDIM", float("nan")).guidance == D.GUIDANCE_RANGE[0]
    assert D.validate_request("<b>hi</b>", 1, 10, "DDPM", 1.0).prompt == "<b>hi</b>"  # kept as text
    with pytest.raises(D.DiffusionError):
        D.validate_request("x", 1, 10, "Euler", 1.0)


def test_empty_prompt_is_unconditional(model):
    tr = D.generate(model, "", seed=0, steps=2)
    assert tr.unconditional and tr.noise_cond is None and any("Empty prompt" in n for n in tr.notes)


def test_explain_prompt(model):
    v = D.explain_prompt(model, "a red circle", ["red", "blue"])
    assert v.tokens[0] == "[CLS]" and v.tokens[-1] == "[SEP]" and "red" in v.tokens
    assert v.hidden.shape == (len(v.tokens), TEXT_DIM) and v.similarity.shape == (2,)


# ---------------------------------------------------------------- uploads and pictures

def _png(img: Image.Image, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def test_upload_conversions():
    rgba = Image.new("RGBA", (40, 20), (255, 0, 0, 0))
    arr, notes = D.load_upload(_png(rgba), 32)
    assert arr.shape == (32, 32, 3) and (arr == 255).all()  # transparent -> white
    assert any("Transparent" in n for n in notes) and any("Cropped" in n for n in notes)
    grey16 = Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16))
    arr, notes = D.load_upload(_png(grey16), 32)
    assert arr.shape == (32, 32, 3) and arr.max() > 200 and any("8 bits" in n for n in notes)
    grey = Image.new("L", (8, 8), 100)
    arr, notes = D.load_upload(_png(grey, "JPEG"), 32)
    assert arr.shape == (32, 32, 3)


def test_upload_refusals():
    with pytest.raises(D.DiffusionError, match="not an image"):
        D.load_upload(b"<html>not a picture</html>", 32)
    with pytest.raises(D.DiffusionError, match="limit"):
        D.load_upload(b"0" * (D.MAX_UPLOAD_BYTES + 1), 32)
    huge = Image.new("1", (5000, 5000))
    with pytest.raises(D.DiffusionError, match="4096"):
        D.load_upload(_png(huge), 32)


def test_gif_png_filmstrip(model):
    tr = D.generate(model, "a red circle", seed=0, steps=3)
    gif = Image.open(io.BytesIO(D.gif_bytes(tr.frames)))
    assert gif.format == "GIF" and gif.n_frames == 4
    png = Image.open(io.BytesIO(D.png_bytes(tr.image)))
    assert png.size == (16, 16)
    strip, idx = D.filmstrip(tr.frames, count=8, size=32)
    assert idx == [0, 1, 2, 3] and strip.shape[0] == 32


# ---------------------------------------------------------------- other model routes (tiny random components)

def test_unconditional_ddpm_route(tmp_path):
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
                       down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
                       norm_num_groups=8)
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler(num_train_timesteps=100)).save_pretrained(tmp_path)
    m = D.load_pipeline(tmp_path)
    assert not m.conditional and m.info.kind == "unconditional" and m.info.sample_shape == (3, 8, 8)
    tr = D.generate(m, "ignored prompt", seed=0, steps=2, sampler="DDPM")
    assert tr.frames.shape == (3, 8, 8, 3) and tr.unconditional
    assert any("no text encoder" in n for n in tr.notes)


def _tiny_clip_tokenizer(path):
    from transformers import CLIPTokenizer

    chars = list("abcdefghijklmnopqrstuvwxyz")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (path / "vocab.json").write_text(json.dumps(vocab))
    (path / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(path / "vocab.json"), str(path / "merges.txt"), model_max_length=12)


def test_stable_diffusion_route_matches_the_pipeline(tmp_path):
    """Our loop on a (tiny, random) Stable Diffusion pipeline gives the pipeline's own image (minGPT-style reference)."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tok_dir = tmp_path / "tok"
    tok_dir.mkdir()
    tok = _tiny_clip_tokenizer(tok_dir)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                        num_attention_heads=4, max_position_embeddings=12, bos_token_id=0,
                                        eos_token_id=1, pad_token_id=1))
    unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32),
                                layers_per_block=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=8, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(16, 32), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=8, sample_size=16)
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, num_train_timesteps=1000)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    out_dir = tmp_path / "sd"
    pipe.save_pretrained(out_dir)

    m = D.load_pipeline(out_dir)
    assert m.conditional and m.info.latent and m.info.kind == "latent text-to-image" and m.info.image_size == 16
    tr = D.generate(m, "a cat", seed=4, steps=3, sampler="DDIM", guidance=5.0)
    assert tr.frames.shape == (4, 16, 16, 3) and tr.pred_noise.shape == (3, 4, 8, 8)

    seen = []
    ref_pipe = StableDiffusionPipeline.from_pretrained(out_dir, local_files_only=True)
    ref_pipe.set_progress_bar_config(disable=True)
    ref = ref_pipe("a cat", num_inference_steps=3, guidance_scale=5.0, output_type="np",
                   generator=torch.Generator().manual_seed(4),
                   callback_on_step_end=lambda p, i, t, kw: seen.append(int(t)) or kw).images[0]
    assert seen == tr.timesteps.tolist()
    ref_u8 = np.clip(ref * 255 + 0.5, 0, 255).astype(np.uint8)
    assert np.abs(ref_u8.astype(int) - tr.image.astype(int)).max() <= 2


def test_load_pipeline_refuses_a_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(D.DiffusionError, match="model_index"):
        D.load_pipeline(tmp_path)
