"""The benchmark corpus generator never lets make_calls render a call with a whispered voice."""

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"


def _make_corpus():
    sys.path.insert(0, str(CORPUS))
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


POOLS = {"en": {"agent_female": ["af_nicole", "af_heart", "af_bella"], "agent_male": ["am_michael"],
                "caller_female": ["af_sky"], "caller_male": ["am_adam"]}}


def _fake_make_calls(first_agent_voice: dict[str, str]):
    """A stand-in for shared/tools/make_calls.py: the agent's voice is fixed per call id, the caller's drawn."""

    def pick_voices(call, rng, tts):
        assert tts == "kokoro"
        pitch = int(rng.integers(-60, 61))
        return {"agent": {"voice": first_agent_voice[call["id"]], "gender": "female", "pitch": pitch},
                "caller": {"voice": "am_adam", "gender": "male", "pitch": pitch}}

    return SimpleNamespace(np=np, stable_int=lambda seed, cid: len(cid) + seed, pick_voices=pick_voices,
                           KOKORO_POOLS=POOLS)


def test_a_whispered_agent_voice_is_replaced_and_other_calls_are_left_alone():
    mc = _make_corpus()
    calls = [{"id": "c_en_001", "language": "en"}, {"id": "c_en_002", "language": "en"}]
    fake = _fake_make_calls({"c_en_001": "af_nicole", "c_en_002": "af_heart"})
    changed = mc.avoid_whispered_voices(calls, fake)
    assert changed == ["c_en_001"]
    pinned = calls[0]["voices"]
    assert set(pinned) == {"agent"}
    assert pinned["agent"]["voice"] in {"af_heart", "af_bella"}
    assert "voices" not in calls[1]
    # deterministic: the same input pins the same voice
    again = [{"id": "c_en_001", "language": "en"}]
    mc.avoid_whispered_voices(again, fake)
    assert again[0]["voices"] == pinned


def test_the_committed_corpus_pins_16_voices_none_of_them_whispered():
    mc = _make_corpus()
    assert "af_nicole" in mc.WHISPERED_VOICES
    calls = json.loads((CORPUS / "scenarios.json").read_text(encoding="utf-8"))["calls"]
    pinned = [c for c in calls if "voices" in c]
    assert len(pinned) == 16
    for call in pinned:
        for spec in call["voices"].values():
            assert spec["voice"] not in mc.WHISPERED_VOICES
