"""The local LLM's reading of how the caller felt: a second opinion for the caller emotion.

One request per call, one generated token: the model reads the transcript and the probability
of each of four answer words (calm / pleased / frustrated / worried; 平静 / 高兴 / 不满 / 担心 for
Mandarin calls) is read from its first token (:meth:`~callscope.llm.LocalLLM.choose`). The
request begins exactly like the call-summary request (:mod:`callscope.analysis.summary`: same
system line, same transcript block), so llama.cpp's prompt cache serves the transcript to
whichever of the two comes second. :func:`~callscope.analysis.emotion.analyze_emotions` decides
how much the opinion counts (``EmotionOptions.second_opinion``); without the model there is no
opinion and the cue method alone labels the call.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from callscope.analysis.summary import SYSTEM_PROMPTS, TRANSCRIPT_BLOCKS, Turn, transcript_text
from callscope.domain import Emotion
from callscope.errors import CallscopeError

if TYPE_CHECKING:
    from callscope.llm import LocalLLM

log = logging.getLogger(__name__)

# the languages whose calls are judged: on the dev calls' Whisper text the Mandarin answers told frustrated
# from anxious callers 22 times of 22, the English ones 13 of 22 (nearly always "frustrated"; BENCHMARKS.md)
JUDGED_LANGUAGES = ("zh",)
# answer words in the order of (neutral, positive, frustrated, anxious); each starts differently
ANSWERS = {"en": ("calm", "pleased", "frustrated", "worried"), "zh": ("平静", "高兴", "不满", "担心")}
_CLASSES = (Emotion.NEUTRAL, Emotion.POSITIVE, Emotion.FRUSTRATED, Emotion.ANXIOUS)
_QUESTIONS = {
    "en": (
        "How did the customer feel about their problem during this call? calm: states the problem "
        "matter-of-factly; pleased: happy or delighted; frustrated: annoyed, angry, complaining; worried: "
        "anxious, afraid, nervous. Answer with one word: calm, pleased, frustrated or worried."
    ),
    "zh": (
        "客户在这通电话里对自己的问题是什么情绪？平静：就事论事地说明问题；高兴：开心、满意；"
        "不满：生气、抱怨、恼火；担心：焦虑、害怕、紧张。只回答一个词：平静、高兴、不满或担心。"
    ),
}


def judge_messages(turns: Sequence[Turn], language: str) -> list[dict]:
    """The chat request: the summary's system line and transcript block, then the question."""
    lang = "zh" if language == "zh" else "en"
    transcript = TRANSCRIPT_BLOCKS[lang].format(transcript=transcript_text(turns, lang))
    return [{"role": "system", "content": SYSTEM_PROMPTS[lang]},
            {"role": "user", "content": transcript + _QUESTIONS[lang]}]


def judge_caller(
    turns: Sequence[Turn], language: str, llm: LocalLLM | None, *, languages: Collection[str] = JUDGED_LANGUAGES
) -> dict[Emotion, float] | None:
    """The LLM's probability of each caller emotion (normalised over the four), or None.

    None when there is no model, the call's language is not in ``languages``, the call has no
    words, the request fails, or the model's first token begins none of the answer words.
    """
    lang = "zh" if language == "zh" else "en"
    if llm is None or lang not in languages or not any(text.strip() for _, text in turns):
        return None
    try:
        mass = llm.choose(judge_messages(turns, lang), ANSWERS[lang])
    except CallscopeError as exc:  # the call keeps its cue label
        log.warning("caller emotion: the local LLM failed (%s)", exc)
        return None
    total = sum(mass.values())
    if total <= 0:
        return None
    return {c: mass[word] / total for c, word in zip(_CLASSES, ANSWERS[lang], strict=True)}
