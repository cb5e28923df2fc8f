"""Tell the agent from the caller.

Evidence, summed per speaker as "agent" points:

* the channel (dual-channel recordings follow ``channel_roles``): a strong prior;
* what they say, when a transcript is given: the agent's script ("thank you for
  calling", "how can I help", "my name is", the company's name; 感谢致电, 欢迎致电,
  请问有什么可以帮您, 工号) early in the call, and service phrases later ("let me
  check", "please hold", "anything else"; 请稍等, 还有什么可以帮您); the caller's
  "I'm calling about", "my order" (我想, 我的订单) count the other way;
* who speaks first (the agent answers inbound calls) and who talks more (a weak hint).

The speaker with most points is the agent; the main other speaker the caller. The
confidence is a logistic of the points margin: ~0.6 from timing hints alone, above
0.95 with a script greeting.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Sequence

from callscope.diarization.speakers import assign_speakers
from callscope.domain import Diarization, Role, SpeakerTurn, Transcript

log = logging.getLogger(__name__)

CHANNEL_PRIOR = 2.5  # points for the speaker on the agent channel
GREETING_WINDOW_S = 30.0  # the script greeting comes in a speaker's first 30 s of talk

GREETING_PATTERNS = (
    r"thank(s| you) for calling",
    r"thank(s| you) for (contacting|choosing|holding)",
    r"how (can|may|might) (i|we) (help|assist)",
    r"what can i (do|help)",
    r"\bmy name is\b",
    r"\bthis is \w+(,)? (speaking|from|with)\b",
    r"\b\w+ speaking\b",
    r"\bwelcome to\b",
    r"(感谢|欢迎)(您)?(致电|来电|您的来电)",
    r"(请问)?有什么(可以|能)?(帮|为)(您|你)",
    r"很高兴为您服务",
    r"工号",
    r"您好[，,]?(这里是|欢迎)",
    r"我是\S{0,8}(客服|专员)",
)
AGENT_PATTERNS = (
    r"let me (check|look|see|pull)",
    r"(please|kindly) hold",
    r"thank(s| you) for (holding|waiting|your patience)",
    r"(is there )?anything else i can",
    r"(could|can|may) i (have|get|take) your",
    r"for (security|verification)",
    r"i('ve| have) (just )?(sent|issued|raised|booked|processed|updated)",
    r"请稍等",
    r"稍等(一下)?",
    r"还有(什么|其他)(问题|可以|需要)",
    r"感谢您的耐心",
    r"请(提供|告诉我)",
    r"我(帮|为)您(查|看|处理)",
)
CALLER_PATTERNS = (
    r"i('m| am) calling (about|because|to)",
    r"\bmy (order|account|bill|package|parcel|card|phone|internet)\b",
    r"i (want|need|would like) (to|a)",
    r"i have (a|an) (problem|issue|question)",
    r"can you help me",
    r"我(想|要)",
    r"我的(订单|账户|快递|包裹|手机|宽带|卡)",
    r"我(有|遇到)(个|一个)?问题",
)


def _count(patterns: Sequence[str], text: str) -> int:
    return sum(1 for p in patterns if re.search(p, text))


def _texts(diarization: Diarization, transcript: Transcript) -> tuple[dict[str, str], dict[str, str]]:
    """(early text, all text) per speaker, from word or segment times."""
    labelled = assign_speakers(transcript, diarization)
    first_turn: dict[str, float] = {}
    for turn in sorted(diarization.turns, key=lambda t: t.start):
        first_turn.setdefault(turn.speaker, turn.start)
    early: dict[str, list[str]] = defaultdict(list)
    everything: dict[str, list[str]] = defaultdict(list)
    for segment in labelled.segments:
        pieces = [(w.speaker, w.start, w.word) for w in segment.words] or [
            (segment.speaker, segment.start, segment.text)
        ]
        for speaker, start, text in pieces:
            if speaker is None:
                continue
            everything[speaker].append(text)
            if start - first_turn.get(speaker, 0.0) <= GREETING_WINDOW_S:
                early[speaker].append(text)
    sep = "" if transcript.language == "zh" else " "

    def join(parts: list[str]) -> str:
        return re.sub(r"\s+", " ", sep.join(parts)).lower().replace("’", "'")

    return {k: join(v) for k, v in early.items()}, {k: join(v) for k, v in everything.items()}


def role_scores(
    diarization: Diarization,
    transcript: Transcript | None = None,
    company_names: Sequence[str] = (),
    agent_labels: Sequence[str] = ("agent",),
) -> dict[str, float]:
    """Agent points per speaker (see the module docstring)."""
    talk: dict[str, float] = defaultdict(float)
    first: dict[str, float] = {}
    for turn in sorted(diarization.turns, key=lambda t: t.start):
        talk[turn.speaker] += turn.end - turn.start
        first.setdefault(turn.speaker, turn.start)
    scores: dict[str, float] = {s: 0.0 for s in talk}
    if not scores:
        return scores
    if diarization.method == "channels":
        for speaker in scores:
            role = diarization.roles.get(speaker)
            if role is Role.AGENT or speaker in agent_labels:
                scores[speaker] += CHANNEL_PRIOR
            elif role is Role.CALLER:
                scores[speaker] -= CHANNEL_PRIOR
    opener = min(first, key=first.__getitem__)
    scores[opener] += 0.4
    talker = max(talk, key=talk.__getitem__)
    scores[talker] += 0.2
    if transcript is not None and transcript.segments:
        early, everything = _texts(diarization, transcript)
        names = [n.lower() for n in company_names if n.strip()]
        for speaker in scores:
            opening = early.get(speaker, "")
            text = everything.get(speaker, "")
            greeting = _count(GREETING_PATTERNS, opening) + sum(1 for n in names if n in opening)
            scores[speaker] += 2.0 * min(greeting, 3)
            scores[speaker] += 0.75 * min(_count(AGENT_PATTERNS, text), 4)
            scores[speaker] -= 0.75 * min(_count(CALLER_PATTERNS, text), 4)
    return scores


def assign_roles(
    diarization: Diarization,
    transcript: Transcript | None = None,
    company_names: Sequence[str] = (),
) -> Diarization:
    """Label each speaker agent, caller (or unknown), with a confidence.

    Args:
        diarization: who spoke when (any method).
        transcript: the call's transcript, for script cues; without it only the channel
            convention and timing hints are used.
        company_names: names the agents say in their greeting ("Brightwave").

    Returns:
        A new diarization whose ``roles``/``role_confidence`` and turns' ``role`` are set.
    """
    scores = role_scores(diarization, transcript, company_names)
    if not scores:
        return diarization
    talk: dict[str, float] = defaultdict(float)
    for turn in diarization.turns:
        talk[turn.speaker] += turn.end - turn.start
    ranked = sorted(scores, key=lambda s: (-scores[s], -talk[s]))
    agent = ranked[0]
    roles: dict[str, Role] = {s: Role.UNKNOWN for s in scores}
    confidence: dict[str, float] = {s: 0.0 for s in scores}
    if len(ranked) == 1:
        # one voice: the agent only if it sounds like one (an IVR or voicemail otherwise)
        roles[agent] = Role.AGENT if scores[agent] >= 2.0 else Role.UNKNOWN
        confidence[agent] = _logistic(scores[agent] - 1.0) if roles[agent] is Role.AGENT else 0.0
    else:
        others = [s for s in ranked[1:]]
        caller = max(others, key=lambda s: (talk[s], -scores[s]))
        margin = scores[agent] - scores[caller]
        roles[agent], roles[caller] = Role.AGENT, Role.CALLER
        confidence[agent] = confidence[caller] = _logistic(margin)
        for speaker in others:
            if speaker != caller and scores[speaker] >= 2.0:  # a second agent (transfer, supervisor)
                roles[speaker] = Role.AGENT
                confidence[speaker] = _logistic(scores[speaker] - 1.0)
    _warn_channel_swap(diarization, roles)
    turns = tuple(
        SpeakerTurn(t.start, t.end, t.speaker, roles.get(t.speaker, Role.UNKNOWN), t.channel, t.confidence)
        for t in diarization.turns
    )
    return Diarization(
        turns=turns,
        roles=roles,
        role_confidence={k: round(v, 3) for k, v in confidence.items()},
        method=diarization.method,
        duration_s=diarization.duration_s,
    )


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _warn_channel_swap(diarization: Diarization, roles: dict[str, Role]) -> None:
    for speaker, before in diarization.roles.items():
        after = roles.get(speaker)
        if before in (Role.AGENT, Role.CALLER) and after in (Role.AGENT, Role.CALLER) and before != after:
            log.warning(
                "speaker %r is on the %s channel but talks like the %s; check channel_roles "
                "(CALLSCOPE_CHANNEL_ROLES) for this recording source",
                speaker,
                before.value,
                after.value,
            )
