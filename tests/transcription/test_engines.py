"""Engine helpers that need no model: timestamp splitting, language choice."""

from __future__ import annotations

import pytest

from callscope.errors import ConfigError
from callscope.transcription.engines import (
    compression_ratio,
    pick_language,
    split_by_timestamps,
)

TS = 50364  # <|0.00|> in the multilingual vocabulary
EOT = 50257


def ts(seconds: float) -> int:
    return TS + round(seconds / 0.02)


def test_split_by_timestamps() -> None:
    tokens = [ts(0.0), 1, 2, ts(2.4), ts(2.4), 3, ts(5.0)]
    assert split_by_timestamps(tokens, TS, EOT, 9.0) == [
        {"start": 0.0, "end": 2.4, "tokens": [1, 2]},
        {"start": 2.4, "end": 5.0, "tokens": [3]},
    ]


def test_unfinished_last_segment_is_kept() -> None:
    tokens = [ts(0.0), 1, ts(1.0), ts(1.2), 2, 3]  # audio ends mid-sentence: no closing timestamp
    segments = split_by_timestamps(tokens, TS, EOT, 4.0)
    assert segments[-1] == {"start": 1.2, "end": 4.0, "tokens": [2, 3]}


def test_text_without_timestamps() -> None:
    assert split_by_timestamps([5, 6], TS, EOT, 3.0) == [{"start": 0.0, "end": 3.0, "tokens": [5, 6]}]
    assert split_by_timestamps([ts(0.0), ts(3.0)], TS, EOT, 3.0) == []


def test_pick_language_is_restricted() -> None:
    windows = [({"en": 0.2, "zh": 0.3, "ja": 0.5}, 10.0), ({"en": 0.1, "zh": 0.6, "ja": 0.3}, 20.0)]
    language, probability = pick_language(windows, ("en", "zh"))
    assert language == "zh" and probability == pytest.approx((0.3 * 10 + 0.6 * 20) / (0.5 * 10 + 0.7 * 20))
    assert pick_language(windows, ())[0] == "zh"
    assert pick_language(windows, ("en",)) == ("en", 1.0)
    with pytest.raises(ConfigError):
        pick_language(windows, ("xx",))


def test_compression_ratio() -> None:
    assert compression_ratio("") == 0.0
    assert compression_ratio("thank you " * 30) > 2.4 > compression_ratio("My order number is 4567 and it has not arrived.")
