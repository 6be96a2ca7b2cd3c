"""Security settings, checked rather than promised.

* .streamlit/config.toml and Streamlit's effective configuration: XSRF protection on, CORS
  protection on with no wildcard origin, usage statistics off, file watcher off, error details hidden;
* a real server: a cross-origin request gets no permissive CORS header, the XSRF cookie is set, an
  upload without the XSRF token is refused;
* the code: no ``trust_remote_code=True`` anywhere we ship, every weight-loading ``from_pretrained``
  asks for safetensors, no ``torch.load``/``pickle`` of model files;
* the loader: a pickle planted next to the safetensors is never unpickled; ``get_spec`` refuses URLs,
  hub ids and relative paths that are not registry keys;
* shareable links: ``?model=`` is accepted only as a registry key (never a URL or a path).
"""

from __future__ import annotations

import ast
import json
import pickle
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest

from gen_viz import models
from tests.reliability.apptest_fuzz import new_app

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "gen_viz").rglob("*.py"))]
# classes whose from_pretrained reads no weights (configs, tokenizers, schedulers)
NO_WEIGHTS = ("Tokenizer", "Config", "Scheduler", "FeatureExtractor", "Processor", "GenerationConfig")


# ------------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------------


def _config_file() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_config_file_settings():
    cfg = _config_file()
    server, browser, client = cfg.get("server", {}), cfg.get("browser", {}), cfg.get("client", {})
    assert server.get("enableXsrfProtection") is True, "XSRF protection must be on"
    assert server.get("enableCORS", True) is True, "enableCORS=false would allow any origin"
    assert "*" not in server.get("corsAllowedOrigins", []), "no wildcard CORS origin"
    assert browser.get("gatherUsageStats") is False, "usage statistics must be off (no phoning home)"
    assert server.get("fileWatcherType") == "none", "file watcher off (torch.classes, pitfall 8)"
    assert client.get("showErrorDetails") in ("none", False), "tracebacks must not reach learners"
    assert server.get("maxUploadSize", 200) <= 50 and server.get("maxMessageSize", 200) <= 200


def test_effective_streamlit_config():
    """What Streamlit actually uses when started from the repository (file + defaults + environment)."""
    code = (
        "import json; from streamlit import config; config.get_config_options(force_reparse=True);"
        "print(json.dumps({k: config.get_option(k) for k in ['server.enableXsrfProtection',"
        "'server.enableCORS','server.corsAllowedOrigins','browser.gatherUsageStats','server.fileWatcherType',"
        "'client.showErrorDetails','server.address']}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    eff = json.loads(out.stdout.strip().splitlines()[-1])
    assert eff["server.enableXsrfProtection"] is True
    assert eff["server.enableCORS"] is True
    assert "*" not in (eff["server.corsAllowedOrigins"] or [])
    assert eff["browser.gatherUsageStats"] is False
    assert eff["server.fileWatcherType"] == "none"
    assert eff["client.showErrorDetails"] in ("none", False)


def test_running_server_enforces_cors_and_xsrf(live_server):
    """Against a real ``streamlit run``: no permissive CORS answer, XSRF cookie set, tokenless upload refused."""
    url = live_server
    req = urllib.request.Request(f"{url}/_stcore/health", headers={"Origin": "http://evil.example"})
    with urllib.request.urlopen(req, timeout=10) as r:
        allow = r.headers.get("Access-Control-Allow-Origin")
        cookies = " ".join(r.headers.get_all("Set-Cookie") or [])
    assert allow not in ("*", "http://evil.example"), f"CORS answers {allow!r} to a foreign origin"
    # the server hands the XSRF cookie out with the health check the frontend calls first
    assert "_streamlit_xsrf" in cookies, "no XSRF cookie: protection is off"

    # an upload without the XSRF token/cookie pair (what a foreign site would send) is refused
    boundary = "genvizboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
            f"Content-Type: image/png\r\n\r\nxx\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(
        f"{url}/_stcore/upload_file/fake-session/fake-file", data=body, method="PUT",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": "http://evil.example"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as err:
        status = err.code
    assert status == 403, f"a cross-site upload without XSRF token got HTTP {status}, not 403"


# ------------------------------------------------------------------------------------------------
# the code we ship
# ------------------------------------------------------------------------------------------------


def test_no_trust_remote_code_anywhere():
    offenders = []
    for path in SHIPPED:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            compact = line.replace(" ", "")
            if "trust_remote_code=True" in compact or "trust_remote_code=1" in compact:
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "trust_remote_code=True found:\n" + "\n".join(offenders)


def _from_pretrained_calls(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained":
            owner = ast.unparse(node.func.value)
            yield node, owner, {kw.arg: kw.value for kw in node.keywords if kw.arg}


def test_weights_are_loaded_as_safetensors_only():
    """Every from_pretrained that reads weights passes use_safetensors=True, and trust_remote_code is never truthy."""
    offenders = []
    for path in SHIPPED:
        for node, owner, kws in _from_pretrained_calls(path):
            where = f"{path.relative_to(ROOT)}:{node.lineno}: {owner}.from_pretrained"
            trc = kws.get("trust_remote_code")
            if trc is not None and not (isinstance(trc, ast.Constant) and trc.value is False):
                offenders.append(f"{where}: trust_remote_code={ast.unparse(trc)}")
            if any(word in owner for word in NO_WEIGHTS):
                continue
            ust = kws.get("use_safetensors")
            if not (isinstance(ust, ast.Constant) and ust.value is True):
                offenders.append(f"{where}: no use_safetensors=True")
    assert not offenders, "weights that could load from pickle files:\n" + "\n".join(offenders)


def test_no_pickle_or_torch_load_of_files():
    offenders = []
    for path in SHIPPED:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = ast.unparse(node.func)
                if name in ("torch.load", "pickle.load", "pickle.loads", "joblib.load"):
                    kws = {kw.arg: kw.value for kw in node.keywords}
                    wo = kws.get("weights_only")
                    if name == "torch.load" and isinstance(wo, ast.Constant) and wo.value is True:
                        continue
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not offenders, "\n".join(offenders)


# ------------------------------------------------------------------------------------------------
# the loader at run time
# ------------------------------------------------------------------------------------------------


class _Boom:
    """Unpickling this writes a marker file: proof that a pickle was executed."""

    marker = ""

    def __reduce__(self):
        return (Path(self.marker).write_text, ("pickle executed",))


def test_planted_pickle_is_never_unpickled(tmp_path, tiny_gpt2_dir):
    marker = tmp_path / "PWNED"
    _Boom.marker = str(marker)
    (tiny_gpt2_dir / "pytorch_model.bin").write_bytes(pickle.dumps(_Boom()))
    (tiny_gpt2_dir / "training_args.bin").write_bytes(pickle.dumps(_Boom()))
    tm = models.load_text_model(str(tiny_gpt2_dir))
    assert tm.info.n_layers == 2
    assert not marker.exists(), "a pickle next to the safetensors was executed"


def test_loader_passes_safe_options(monkeypatch, tiny_gpt2_dir):
    import transformers

    seen = {}
    real = transformers.AutoModelForCausalLM.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        seen.update(kwargs)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", classmethod(spy))
    models.load_text_model(str(tiny_gpt2_dir))
    assert seen.get("use_safetensors") is True and seen.get("trust_remote_code") is False
    assert seen.get("local_files_only") is True


@pytest.mark.parametrize("bad", [
    "https://huggingface.co/evil-org/evil-model",
    "http://127.0.0.1:1/model",
    "file:///etc",
    "evil-org/evil-model",
    "openai-community/gpt2",  # a real hub id is still not a registry key
    "gpt2-xl",
    "assets/models",  # relative paths are refused
    "../../etc",
    "",
    "javascript:alert(1)",
    "gpt2\x00",
    "x" * 10_000,
])
def test_get_spec_refuses_non_registry_ids(bad):
    with pytest.raises(models.ModelUnavailable) as err:
        models.get_spec(bad)
    assert len(str(err.value)) < 300, "the refusal must be one short line, not an echo of the input"


def test_get_spec_accepts_registry_keys_and_absolute_dirs(tmp_path):
    for key in models.REGISTRY:
        assert models.get_spec(key).key == key
    assert models.get_spec(str(tmp_path)).source == "local"


def test_registry_points_only_at_known_places():
    for spec in models.REGISTRY.values():
        if spec.source == "hub":
            assert spec.hub_id and "://" not in spec.hub_id and spec.hub_id.count("/") == 1
        else:
            assert spec.hub_id is None


@pytest.mark.parametrize("value", ["https://huggingface.co/evil/m", "evil-org/evil-model", "/etc", "/tmp",
                                   "../assets", "openai-community/gpt2", "javascript:alert(1)"])
def test_model_from_link_only_as_registry_key(value):
    at = new_app("app.py", {"model": value})
    assert not at.exception
    assert at.session_state["text_model"] == models.DEFAULT_TEXT_MODEL


def test_model_from_link_registry_key_is_used():
    at = new_app("app.py", {"model": "minilm"})
    assert not at.exception
    assert at.session_state["text_model"] == "minilm"


def test_local_dir_from_link_is_refused_even_if_it_holds_a_model(tiny_gpt2_dir):
    at = new_app("pages/1_Tokens.py", {"model": str(tiny_gpt2_dir)})
    assert at.session_state["text_model"] == models.DEFAULT_TEXT_MODEL
    assert str(tiny_gpt2_dir) not in [o for o in at.sidebar.selectbox(key="_w_text_model").options]
