"""A short summary per call: why the customer called, what the agent did, the outcome.

The local LLM (:mod:`callscope.llm`) writes 2-3 sentences in the call's language, with the
instruction in that language (given an English instruction, the 1.5B model copies Mandarin
calls back instead of summarising them), and says whether the issue was resolved. Its answer
is checked (length, language, not a copy of a turn); otherwise, or without an LLM, the summary
is extractive: the caller's reason, the agent's key answer and the last thing the agent said
would happen, in the caller's words and the agent's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from callscope.language import detect_text_language, has_cjk, to_simplified
from callscope.domain import CallSummary, Role
from callscope.analysis.faq import answer_candidates
from callscope.analysis.issues import CallRecord
from callscope.llm import get_llm

if TYPE_CHECKING:
    from callscope.llm import LocalLLM

log = logging.getLogger(__name__)

Turn = tuple[Role, str]
MAX_PROMPT_CHARS = {"en": 6000, "zh": 2500}  # fits the model's 4096-token context with room to answer

_EN_SYSTEM = "You summarise customer-service phone calls for a supervisor."
# the request opens with these (system line, transcript block): the caller-emotion request of
# caller_judge.py opens the same way, so llama.cpp's prompt cache serves the transcript to both
TRANSCRIPT_BLOCKS = {"en": "Call transcript:\n{transcript}\n\n", "zh": "通话记录：\n{transcript}\n\n"}
_EN_USER = TRANSCRIPT_BLOCKS["en"] + (
    "Write a summary in 2 or 3 short sentences: why the customer called, what the agent did, and the "
    "outcome or next step. Then, on a new line, write \"Resolved: yes\" if the customer's issue was "
    "resolved during the call, or \"Resolved: no\" if not."
)
_ZH_SYSTEM = "你负责为主管总结客服电话。"
_ZH_USER = TRANSCRIPT_BLOCKS["zh"] + (
    "请用中文写两到三句话的摘要：客户为什么来电，客服做了什么，结果或下一步。"
    "然后另起一行，如果问题在通话中已解决，写“已解决：是”，否则写“已解决：否”。"
)
SYSTEM_PROMPTS = {"en": _EN_SYSTEM, "zh": _ZH_SYSTEM}
_RESOLVED = re.compile(r"(?:resolved|已解决|解决)\s*[:：]\s*(yes|no|是|否)", re.IGNORECASE)
_THANKS_EN = re.compile(r"\b(?:thank(?:s| you)|great|perfect|brilliant|that helps|that's all|sorted|lovely)\b", re.IGNORECASE)
_THANKS_ZH = re.compile(r"谢谢|太好了|好的|明白了|没问题")
_OPEN_EN = re.compile(
    r"\b(?:still (?:not|doesn't|isn't|don't)|not happy|unacceptable|complaint|cancel (?:my|the) (?:contract|account)|"
    r"speak to (?:a|your) manager|call (?:you |me )?back|transfer(?:ring)? you|escalat)", re.IGNORECASE)
_OPEN_ZH = re.compile(r"还是不行|投诉|不满意|转接|回电|升级处理|经理")


def _label(role: Role, language: str) -> str:
    if language == "zh":
        return {Role.CALLER: "客户", Role.AGENT: "客服"}.get(role, "其他")
    return {Role.CALLER: "Customer", Role.AGENT: "Agent"}.get(role, "Other")


def transcript_text(turns: Sequence[Turn], language: str) -> str:
    """The turns as "Customer: …" lines, the middle cut when the call is too long for the prompt."""
    lines = [f"{_label(role, language)}: {' '.join(text.split())}" for role, text in turns if text.strip()]
    limit = MAX_PROMPT_CHARS.get(language, 6000)
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    head, tail, size = [], [], 0
    for i in range(len(lines)):  # keep the start (the reason) and the end (the outcome)
        for side, line in ((head, lines[i]), (tail, lines[-1 - i])):
            if size + len(line) > limit or len(head) + len(tail) >= len(lines):
                return "\n".join([*head, "…", *reversed(tail)])
            side.append(line)
            size += len(line) + 1
    return text


def _sentences(text: str, language: str) -> list[str]:
    parts = re.split(r"(?<=[。！？!?])|(?<=\.)\s+", text) if language != "zh" else re.split(r"(?<=[。！？!?])", text)
    return [p.strip() for p in parts if p and p.strip()]


def clean_summary(raw: str, language: str, turns: Sequence[Turn]) -> tuple[str, bool | None] | None:
    """(summary, resolved) from the LLM's answer, or None when it is not a usable summary."""
    resolved: bool | None = None
    match = _RESOLVED.search(raw)
    if match:
        resolved = match.group(1).lower() in ("yes", "是")
        raw = raw[: match.start()] + raw[match.end() :]
    text = re.sub(r"^(?:summary|摘要)\s*[:：]\s*", "", raw.strip(), flags=re.IGNORECASE)
    text = " ".join(line.strip(" -*") for line in text.splitlines() if line.strip())
    text = text.strip()
    # The model sometimes runs on past the 2-3 sentences asked for (and out of tokens): keep three.
    sentences = _sentences(text, language)
    if len(sentences) > 3:
        text = ("" if language == "zh" else " ").join(sentences[:3])
    if language == "zh":
        text = to_simplified(text.replace(" ", ""))
        cjk = sum(1 for ch in text if has_cjk(ch))
        if not (15 <= len(text) <= 200) or cjk < 0.6 * len(text):
            return None
    else:
        words = len(text.split())
        if not (8 <= words <= 90) or has_cjk(text) or detect_text_language(text) != "en":
            return None
    flat = re.sub(r"\s+", "", text)
    for _, said in turns:  # a copy of what someone said is not a summary
        said_flat = re.sub(r"\s+", "", said)
        if len(said_flat) >= 20 and (said_flat in flat and len(said_flat) > 0.6 * len(flat)):
            return None
    if "客户：" in text or "Customer:" in text or "Agent:" in text:
        return None  # the transcript echoed back
    return text, resolved


def resolved_from_turns(turns: Sequence[Turn], language: str) -> bool | None:
    """A heuristic: the caller's last words thank the agent and nothing was left open."""
    caller = [t for r, t in turns if r == Role.CALLER and t.strip()]
    if not caller:
        return None
    whole = " ".join(t for _, t in turns)
    open_ = (_OPEN_ZH if language == "zh" else _OPEN_EN).search(whole)
    thanks = (_THANKS_ZH if language == "zh" else _THANKS_EN).search(" ".join(caller[-2:]))
    if open_:
        return False
    return True if thanks else None


def extractive_summary(turns: Sequence[Turn], language: str, reason: str = "") -> str:
    """The caller's reason, the agent's key answer and the agent's last commitment, as said."""

    record = CallRecord(id="call", reason=reason, language=language, turns=tuple(turns))
    answers = answer_candidates(record, max_turns=6)
    key = _sentences(answers[0], language)[0] if answers else ""
    last = ""
    if len(answers) > 1:
        last = _sentences(answers[-1], language)[-1]
    parts = []
    if language == "zh":
        if reason:
            parts.append(f"来电原因：{reason.rstrip('。？?！!')}。")
        if key:
            parts.append(f"客服：{key.rstrip('。')}。")
        if last and last != key:
            parts.append(f"最后：{last.rstrip('。')}。")
        return "".join(parts)
    if reason:
        parts.append(f"The caller said: \"{reason.strip()}\"")
    if key:
        parts.append(f"The agent said: \"{key.strip()}\"")
    if last and last != key:
        parts.append(f"At the end: \"{last.strip()}\"")
    return " ".join(parts)


def summarize_call(
    turns: Sequence[Turn],
    language: str,
    *,
    reason: str = "",
    llm: LocalLLM | None | Literal["auto"] = "auto",
) -> CallSummary:
    """The call's summary: the LLM's (checked) when available, else extractive."""
    language = language if language in ("en", "zh") else detect_text_language(" ".join(t for _, t in turns))
    resolved = resolved_from_turns(turns, language)
    if llm == "auto":
        llm = get_llm()
    if llm is not None and any(t.strip() for _, t in turns):
        template, system = (_ZH_USER, _ZH_SYSTEM) if language == "zh" else (_EN_USER, _EN_SYSTEM)
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": template.format(transcript=transcript_text(turns, language))}]
        try:
            raw = llm.chat(messages, max_tokens=160)
        except Exception as exc:  # the call keeps its extractive summary
            log.warning("call summary: the local LLM failed (%s)", exc)
            raw = ""
        cleaned = clean_summary(raw, language, turns) if raw else None
        if cleaned is not None:
            text, said_resolved = cleaned
            return CallSummary(text, said_resolved if said_resolved is not None else resolved, "llm")
        if raw:
            log.info("call summary: rejected the LLM's answer %r", raw[:120])
    return CallSummary(extractive_summary(turns, language, reason), resolved, "extractive")
