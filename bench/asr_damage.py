"""Simulated ASR damage to a call's script turns (issue #18: caller emotion robust to transcripts).

Rendered audio is expensive, so the caller-emotion benchmark can damage the scripts' turns the way
the Whisper transcripts of the Kokoro renderings were damaged (BENCHMARKS.md, issue #18):

* ``merge``: a caller turn and the agent turn after it come out as one turn of the caller (turn
  boundaries lost across speakers; with ``rate`` as the share of caller turns merged);
* ``drop``: words (English) or characters (Mandarin) left out, each with probability ``rate``;
* ``swap``: words / characters misrecognised: replaced, each with probability ``rate``, by a word
  drawn from the other calls' text of the same language (plausible, unrelated words);
* ``homophone`` (Mandarin only; English turns are left alone): characters misheard as another
  character of the corpus with the same toneless pinyin (``pypinyin``, the corpus extra), each with
  probability ``rate``, as Whisper writes 光澜 as 光蓝 or 施工 as 诗宫; a character with no homophone in
  the corpus is kept;
* ``leak``: the agent's voice leaks into the caller's channel and is transcribed there too: an agent
  turn (each with probability ``rate``) comes out a second time as a caller turn, right after it;
* ``lose``: whole caller turns missing (the VAD or ASR heard nothing), each with probability ``rate``
  (the caller's first turn is kept, so every call keeps a caller);
* ``punct``: sentence punctuation as Whisper writes it: a sentence end inside a turn becomes a comma
  (Mandarin: ASCII ``,``, as Whisper writes them; English: the next word lower-cased), each with
  probability ``rate``, and a comma disappears with probability ``rate / 2``; Mandarin ``，`` becomes ``,``.

Every damage draws from ``random.Random(f"{seed}:{call id}:{kind}")``: the same call is damaged the
same way whatever else is in the set.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

KINDS = ("merge", "drop", "swap", "homophone", "leak", "lose", "punct")
_EN_WORD = re.compile(r"[A-Za-z0-9']+|[^A-Za-z0-9'\s]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _units(text: str, language: str) -> list[str]:
    """Words (en) or characters (zh) with the punctuation as its own units."""
    return list(text) if language == "zh" else _EN_WORD.findall(text)


def _join(units: Sequence[str], language: str) -> str:
    if language == "zh":
        return "".join(units)
    out = ""
    for u in units:
        out += u if (not out or not u[0].isalnum() and u[0] != "'") else " " + u
    return out


def _is_word(unit: str, language: str) -> bool:
    return bool(_CJK.match(unit)) if language == "zh" else unit[0].isalnum()


def vocabulary(calls: Sequence[dict]) -> dict[str, list[str]]:
    """The words / characters of every call's turns, per language (the pool ``swap`` draws from)."""
    vocab: dict[str, set[str]] = {}
    for call in calls:
        lang = call["language"]
        for turn in call["turns"]:
            if turn.get("text"):
                vocab.setdefault(lang, set()).update(u for u in _units(turn["text"], lang) if _is_word(u, lang))
    return {lang: sorted(words) for lang, words in vocab.items()}


def _homophones(chars: Sequence[str]) -> dict[str, list[str]]:
    """Each character -> the other characters of ``chars`` with its toneless pinyin (pypinyin's reading;
    without pypinyin, the fuzzy reading of :func:`callscope.language.sound_key`, which also folds
    zh/z, n/l and ang/an as Whisper's near-homophones do)."""
    try:
        from pypinyin import Style, lazy_pinyin

        def reading(ch: str) -> str:
            return lazy_pinyin(ch, style=Style.NORMAL)[0]
    except ImportError:
        from callscope.language import sound_key as reading

    by_sound: dict[str, list[str]] = {}
    for ch in chars:
        by_sound.setdefault(reading(ch), []).append(ch)
    return {ch: [o for o in group if o != ch] for group in by_sound.values() for ch in group}


_SENTENCE_END = {"zh": re.compile(r"[。！？!?；;](?=.)"), "en": re.compile(r"[.!?;](?= [A-Za-z])")}
_COMMA = {"zh": re.compile(r"[，,、]"), "en": re.compile(r",(?= )")}


def _punctuation(text: str, language: str, rate: float, rng: random.Random) -> str:
    """Sentence ends inside ``text`` read as commas, and commas lost, the way Whisper punctuates."""
    lang = "zh" if language == "zh" else "en"
    lowered: list[int] = []

    def end(match: re.Match[str]) -> str:
        if rng.random() >= rate:
            return match.group(0)
        lowered.append(match.end() + 1)
        return ","

    text = _SENTENCE_END[lang].sub(end, text)
    if lang == "en":
        chars = list(text)
        for n in lowered:
            if n < len(chars) and not (chars[n] == "I" and (n + 1 == len(chars) or not chars[n + 1].isalpha())):
                chars[n] = chars[n].lower()
        text = "".join(chars)
    text = _COMMA[lang].sub(lambda m: "" if rng.random() < rate / 2 else ("," if lang == "zh" else m.group(0)), text)
    return text


def damage(call: dict, kind: str, rate: float, vocab: dict[str, list[str]], seed: int = 0) -> dict:
    """A copy of ``call`` with its speech turns damaged by ``kind`` at ``rate`` (see the module doc)."""
    if kind not in KINDS:
        raise ValueError(f"unknown damage {kind!r}; use one of {KINDS}")
    rng = random.Random(f"{seed}:{call['id']}:{kind}")
    lang = call["language"]
    turns = [dict(t) for t in call["turns"] if t.get("speaker") and t.get("text")]
    if kind == "homophone":
        if lang == "zh":
            same = _homophones(vocab[lang])
            for t in turns:
                t["text"] = "".join(
                    rng.choice(same[u]) if same.get(u) and rng.random() < rate else u for u in t["text"]
                )
    elif kind in ("drop", "swap"):
        for t in turns:
            units = _units(t["text"], lang)
            out = []
            for u in units:
                if not _is_word(u, lang) or rng.random() >= rate:
                    out.append(u)
                elif kind == "swap":
                    out.append(rng.choice(vocab[lang]))
            t["text"] = _join(out, lang) or t["text"]
    elif kind == "merge":
        merged: list[dict] = []
        i = 0
        while i < len(turns):
            t = turns[i]
            if (t["speaker"] == "caller" and i + 1 < len(turns) and turns[i + 1]["speaker"] == "agent"
                    and rng.random() < rate):
                sep = "" if lang == "zh" else " "
                merged.append({**t, "text": t["text"] + sep + turns[i + 1]["text"]})
                i += 2
                continue
            merged.append(t)
            i += 1
        turns = merged
    elif kind == "leak":
        leaked: list[dict] = []
        for t in turns:
            leaked.append(t)
            if t["speaker"] == "agent" and rng.random() < rate:
                leaked.append({**t, "speaker": "caller"})
        turns = leaked
    elif kind == "punct":
        for t in turns:
            t["text"] = _punctuation(t["text"], lang, rate, rng)
    else:  # lose
        first = next((n for n, t in enumerate(turns) if t["speaker"] == "caller"), None)
        turns = [t for n, t in enumerate(turns) if t["speaker"] != "caller" or n == first or rng.random() >= rate]
    return {**call, "turns": turns}
