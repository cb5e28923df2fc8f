"""Emotion of a call per turn and per speaker: text sentiment fused with voice arousal.

Per turn, :class:`~callscope.analysis.sentiment.TextSentiment` gives class
probabilities (neutral / positive / frustrated / anxious) and a sentiment; when the
audio is given, prosodic arousal relative to the speaker's own turns
(:mod:`callscope.analysis.prosody`) shifts them: a raised voice makes *frustrated*
(and, less, *anxious*) likelier and *neutral* less likely, a calm one the reverse.

Per call and role, turns are weighted by how much they say, and the negative
classes also count their strongest turns (QA teams act on a caller who got angry
once, even if most turns were neutral), but only when the caller says something that
is a cue of that class somewhere in the call ("third time", 担心, "I've been waiting
two weeks"): a fault told in negative words alone ("my phone has no signal at all")
is what happened, not how the caller feels; when the call holds cues of both, the class
with more of them. Once the caller has shown a cued negative state, later thanks and
relief ("好的谢谢你，我放心多了") do not count as positive: the caller label is how the
caller felt about the issue, not about the answer. *Positive* counts its strongest turns
too, but only from a turn that is clearly positive once its courtesy formulas are gone
("you've been wonderful!"), not from mild approval or a polite "thanks". The call-level label, trajectory and
``ended_better`` read only the *substance* of each turn: greeting, thanking,
closing and acknowledgement formulas ("Hi.", "Great, thanks, bye.", 好的，谢谢，再见)
are stripped first (:meth:`CueLexicon.strip_courtesy`), because a polite caller is
not a happy one; a courtesy-only turn counts as (lightly weighted) calm. With audio,
the caller's pitch range and speaking rate against the agent's
(:func:`~callscope.analysis.prosody.speaker_contrast`) shift the call label: a
livelier voice makes *neutral* less likely and every emotion likelier (a calmer one
does not make *neutral* likelier). It does not
favour *frustrated* over *anxious*: anger and fear are both high-arousal, and on
the test calls anxious callers were as lively as angry ones.

A caller turn that repeats what the agent said just before or during it (the agent's
voice leaking into the caller's channel and transcribed there, see :func:`echo_turns`)
is left out of the caller's numbers: it is the agent's wording, not the caller's mood.

Given the local LLM's reading of the caller (``opinion``, :mod:`callscope.analysis.caller_judge`), the caller
label follows it only where the cues leave the label open (:func:`settle_with_opinion`): cues of both
negative classes in equal number, or a negative label with no cue behind it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from callscope.analysis.prosody import (
    ProsodyFeatures,
    ProsodyOptions,
    arousal_scores,
    segment_prosody,
    speaker_contrast,
)
from callscope.analysis.sentiment import CLASSES, SentimentResult, TextSentiment, default_sentiment
from callscope.domain import AnalyzedTurn, AudioReader, Emotion, EmotionScore, Role
from callscope.language import CJK_CLASS
from callscope.progress import Hook, no_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TurnText:
    """One speaker turn with its text (input of :func:`analyze_emotions`)."""

    speaker: str
    role: Role
    start: float
    end: float
    text: str
    channel: int | None = None


@dataclass(frozen=True, slots=True)
class EmotionOptions:
    """Fusion and call-summary settings.

    Attributes:
        arousal_shift: log-odds added per unit of arousal to (neutral, positive,
            frustrated, anxious).
        peak_share: weight of the strongest turns (vs the mean) in a speaker's
            frustrated/anxious score.
        positive_peak_share: the same for *positive*, counted only when the strongest
            positive turns reach ``positive_peak_level`` (0: positive is the mean only).
        positive_peak_level: how clearly positive (class probability of the turn's
            substance) those turns must be.
        escalation_rise: how much a caller turn's frustration must exceed the
            previous turns' to count as an escalation.
        escalation_level: the frustration probability it must reach.
        better_margin: sentiment gain (end vs start) for ``ended_better``.
        discount_courtesy: summarise calls on the turns' substance, without courtesy
            formulas (off: the whole text, as before).
        courtesy_weight: weight (vs its size) of a turn that is only courtesy; it
            counts as calm (neutral), not as positive.
        call_arousal_shift: log-odds added to the caller's call-level (neutral,
            positive, frustrated, anxious) per unit of caller-vs-agent liveliness
            (only when the caller is the livelier one).
        contrast_floor: that liveliness is raised to at least this first (0: a
            calmer caller does not shift the label; None: it makes *neutral* likelier).
        echo_share: a caller turn at least this share of whose words (characters in
            Mandarin; and at least 8) appear in order in one agent turn within
            ``echo_window_s`` of it is an echo of the agent and does not count for the
            caller (:func:`echo_turns`; None: off).
        echo_window_s: how far apart (s) the two turns may be.
        peak_needs_cue: *frustrated* / *anxious* count their strongest turns only when the
            speaker's turns hold a cue of that class somewhere (a cue phrase such as "third
            time", 担心, or a situation pattern such as "I've been waiting two weeks"); without
            one, the class is the weighted mean only. A fault told plainly ("my phone has no
            signal at all") reads negative to the text model, but it is what happened, not
            how the caller feels; when the turns hold cues of both classes, only the class with
            more cue hits counts its peaks (both on a tie). Off: every class counts its peaks.
        relief_after_cue: from the caller's first turn that reads frustrated or anxious and
            holds a cue of that class, the positive probability of that turn and of every later
            caller turn is left out (the rest renormalised): thanks or relief once the agent has
            helped ("Great, that's a relief", 我放心多了) say the answer pleased the caller,
            not how the caller felt about the issue (off: as before).
        second_opinion: use the local LLM's reading of the caller (``opinion`` of
            :func:`analyze_emotions`, from :func:`~callscope.analysis.caller_judge.judge_caller`) where
            the cues leave the caller label open (:func:`settle_with_opinion`); off, or without an
            opinion: the cue method alone.
        prosody: pitch/energy analysis settings.
    """

    arousal_shift: tuple[float, float, float, float] = (-0.4, 0.1, 0.6, 0.3)
    peak_share: float = 0.5
    positive_peak_share: float = 0.5
    positive_peak_level: float = 0.85
    escalation_rise: float = 0.3
    escalation_level: float = 0.5
    better_margin: float = 0.15
    discount_courtesy: bool = True
    courtesy_weight: float = 0.5
    call_arousal_shift: tuple[float, float, float, float] = (-0.4, 0.2, 0.2, 0.2)
    contrast_floor: float | None = 0.0
    echo_share: float | None = 0.6
    echo_window_s: float = 5.0
    peak_needs_cue: bool = True
    relief_after_cue: bool = True
    second_opinion: bool = True
    prosody: ProsodyOptions = field(default_factory=ProsodyOptions)


@dataclass(frozen=True, slots=True)
class EmotionReport:
    """Emotions of one call."""

    turns: tuple[AnalyzedTurn, ...]
    caller: EmotionScore
    agent: EmotionScore | None
    trajectory: tuple[float, ...]  # caller sentiment per quarter of the call
    escalations: tuple[float, ...]  # times (s) of sharp rises of caller anger
    ended_better: bool | None  # caller sentiment at the end above the start; None: too few turns
    caller_vs_agent_arousal: float | None = None  # caller's pitch range and rate against the agent's
    caller_opinion: dict[Emotion, float] | None = None  # the LLM's reading of the caller, when one was given
    caller_by_cues: Emotion | None = None  # the cue method's caller label, when the opinion changed it

    def to_dict(self) -> dict[str, Any]:
        return {
            "caller": self.caller.to_dict(),
            "caller_vs_agent_arousal": (
                None if self.caller_vs_agent_arousal is None else round(self.caller_vs_agent_arousal, 3)
            ),
            "agent": self.agent.to_dict() if self.agent else None,
            "caller_opinion": (
                None if self.caller_opinion is None else {str(k): round(v, 3) for k, v in self.caller_opinion.items()}
            ),
            "caller_by_cues": None if self.caller_by_cues is None else str(self.caller_by_cues),
            "trajectory": [round(v, 3) for v in self.trajectory],
            "escalations": [round(v, 3) for v in self.escalations],
            "ended_better": self.ended_better,
            "turns": [
                {
                    "speaker": t.speaker,
                    "role": str(t.role),
                    "start": round(t.start, 3),
                    "end": round(t.end, 3),
                    "text": t.text,
                    "emotion": t.emotion.to_dict(),
                }
                for t in self.turns
            ],
        }


_TOKEN = re.compile(rf"[a-z0-9']+|[{CJK_CLASS}]")


def echo_turns(turns: Sequence[TurnText], share: float, window_s: float, min_tokens: int = 8) -> set[int]:
    """Indices of the caller turns that repeat a nearby agent turn (agent leakage on the caller's channel).

    A caller turn is an echo when at least ``share`` of its tokens (lower-cased words, Mandarin
    characters), and at least ``min_tokens`` of them, appear in order in one agent turn that
    overlaps it or lies within ``window_s`` seconds of it. Short turns are never echoes: a
    caller's "Right, thank you for your help." shares most of its words with any agent's
    closing formula.
    """
    tokens = [_TOKEN.findall(t.text.lower()) for t in turns]
    agents = [i for i, t in enumerate(turns) if t.role == Role.AGENT and tokens[i]]
    out: set[int] = set()
    for i, t in enumerate(turns):
        if t.role == Role.AGENT or len(tokens[i]) < min_tokens:
            continue
        for j in agents:
            a = turns[j]
            if a.start - t.end > window_s or t.start - a.end > window_s:
                continue
            blocks = SequenceMatcher(None, tokens[i], tokens[j], autojunk=False).get_matching_blocks()
            if sum(b.size for b in blocks) >= max(share * len(tokens[i]), min_tokens):
                out.add(i)
                break
    return out


def _text_weight(text: str) -> float:
    """How much a turn says: ~1 for a full sentence, small for "Yes." or 嗯."""
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    words = len(re.findall(r"[A-Za-z0-9']+", text))
    size = words + cjk / 1.8
    return float(min(1.0, 0.15 + size / 10.0))


def _fuse_turn(text: SentimentResult, arousal: float | None, options: EmotionOptions) -> np.ndarray:
    p = np.array([text.probabilities[c] for c in CLASSES], dtype=np.float64)
    if arousal is None:
        return p
    z = np.log(p + 1e-6) + np.asarray(options.arousal_shift) * arousal
    z -= z.max()
    q = np.exp(z)
    return q / q.sum()


def _score(probs: np.ndarray, sentiment: float, arousal: float | None) -> EmotionScore:
    k = int(np.argmax(probs))
    return EmotionScore(label=CLASSES[k], confidence=round(float(probs[k]), 4), sentiment=sentiment, arousal=arousal)


def _without_relief(probs: list[np.ndarray], cued: list[set[Emotion]]) -> list[np.ndarray]:
    """``probs`` (one speaker's turns in time order) with *positive* left out (the rest renormalised)
    from the first turn whose label is frustrated or anxious and among its ``cued`` classes on."""
    k = CLASSES.index(Emotion.POSITIVE)
    out, upset = [], False
    for p, kinds in zip(probs, cued, strict=True):
        upset = upset or CLASSES[int(np.argmax(p))] in kinds & {Emotion.FRUSTRATED, Emotion.ANXIOUS}
        if upset and p.sum() - p[k] > 0:
            p = p.copy()
            p[k] = 0.0
            p /= p.sum()
        out.append(p)
    return out


NEGATIVE = (Emotion.FRUSTRATED, Emotion.ANXIOUS)


def settle_with_opinion(label: Emotion, backed: Sequence[Emotion], opinion: Mapping[Emotion, float]) -> Emotion:
    """The caller label once the LLM's ``opinion`` is heard, where the cues leave it open.

    ``backed``: the negative classes the caller's cues back (``peak_needs_cue``: the class with more
    cued turns, both on a tie). Two cases, nothing else changes:

    * the cues back frustration and worry equally: the class the opinion finds likelier of the two;
    * the label is frustrated or anxious but no cue backs it (the text model read a fault told in
      negative words, "从昨晚到现在都连不上", as the caller's mood): neutral when the opinion's likeliest
      class is neutral.
    """
    if label not in NEGATIVE:
        return label
    if set(backed) == set(NEGATIVE):
        return max(NEGATIVE, key=lambda k: opinion.get(k, 0.0))
    if label not in backed and max(opinion, key=lambda k: opinion[k]) == Emotion.NEUTRAL:
        return Emotion.NEUTRAL
    return label


def _summarise(
    probs: list[np.ndarray],
    sentiments: list[float],
    weights: list[float],
    arousals: list[float | None],
    peak: float,
    shift: np.ndarray | None = None,
    positive_peak: float = 0.0,
    positive_level: float = 1.0,
    peaks: Sequence[Emotion] = (Emotion.FRUSTRATED, Emotion.ANXIOUS),
) -> EmotionScore:
    """One score for a speaker: weighted mean; the classes in ``peaks`` (of frustrated and
    anxious) also count their strongest turns.

    Positive counts its strongest turns (with ``positive_peak``) only when they reach
    ``positive_level``: a clear "that's great news!" is a happy caller, a mildly positive
    turn is politeness. ``shift``: log-odds added at the end (call-level prosody).
    """
    if not probs or sum(weights) <= 0:
        return EmotionScore(Emotion.NEUTRAL, 0.0, 0.0, None)
    p = np.vstack(probs)
    w = np.asarray(weights)
    mean = (p * w[:, None]).sum(axis=0) / w.sum()
    top = np.zeros(len(CLASSES))
    for k in (CLASSES.index(Emotion.FRUSTRATED), CLASSES.index(Emotion.ANXIOUS)):
        strength = p[:, k] * w  # a one-word turn cannot carry the call
        best = np.argsort(strength)[::-1][: max(1, min(2, len(strength) // 3 or 1))]
        top[k] = float(p[best, k].mean())
    combined = mean.copy()
    for k in (CLASSES.index(Emotion.FRUSTRATED), CLASSES.index(Emotion.ANXIOUS)):
        if CLASSES[k] in peaks:
            combined[k] = (1 - peak) * mean[k] + peak * top[k]
    k = CLASSES.index(Emotion.POSITIVE)
    strength = p[:, k] * w
    best = np.argsort(strength)[::-1][: max(1, min(2, len(strength) // 3 or 1))]
    if positive_peak > 0 and float(p[best, k].mean()) >= positive_level:
        combined[k] = (1 - positive_peak) * mean[k] + positive_peak * float(p[best, k].mean())
    combined /= combined.sum()
    if shift is not None:
        z = np.log(combined + 1e-6) + shift
        combined = np.exp(z - z.max())
        combined /= combined.sum()
    sentiment = float(np.average(sentiments, weights=w))
    known = [a for a in arousals if a is not None]
    arousal = float(max(known)) if known else None
    return _score(combined, round(sentiment, 4), None if arousal is None else round(arousal, 4))


def _trajectory(turns: Sequence[TurnText], sentiments: list[float], weights: list[float], start: float, end: float):
    if not turns or end <= start:
        return ()
    edges = np.linspace(start, end, 5)
    values: list[float | None] = []
    for q in range(4):
        num = den = 0.0
        for t, s, w in zip(turns, sentiments, weights, strict=True):
            overlap = min(t.end, edges[q + 1]) - max(t.start, edges[q])
            if overlap > 0:
                num += overlap * w * s
                den += overlap * w
        values.append(num / den if den > 0 else None)
    known = [v for v in values if v is not None]
    if not known:
        return ()
    filled = []
    last = known[0]
    for v in values:
        last = v if v is not None else last
        filled.append(round(float(last), 4))
    return tuple(filled)


def analyze_emotions(
    turns: Sequence[TurnText],
    audio: AudioReader | None = None,
    language: str | None = None,
    *,
    sentiment: TextSentiment | None = None,
    options: EmotionOptions | None = None,
    opinion: Mapping[Emotion, float] | None = None,
    hook: Hook = no_progress,
) -> EmotionReport:
    """Label every turn and each role of a call with an emotion.

    Args:
        turns: the call's turns with text, in any order.
        audio: the recording; dual-channel turns are read from their ``channel``,
            others from the mix. ``None``: text only.
        language: ``"en"``/``"zh"``; ``None`` detects per turn.
        sentiment: a loaded scorer to reuse (default: the process-wide one).
        options: fusion settings.
        opinion: the local LLM's probability of each caller emotion
            (:func:`~callscope.analysis.caller_judge.judge_caller`); it settles the caller label where
            the cues leave it open (``EmotionOptions.second_opinion``). None: the cues alone.
        hook: progress, called as ``hook("emotion", done_turns, total_turns)``.

    Returns:
        The per-turn emotions, caller and agent summaries, the caller's sentiment
        per quarter of the call, escalation times and whether the call ended better.

    Raises:
        ValueError: a turn ends before it starts.
    """
    options = options or EmotionOptions()
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    for t in ordered:
        if t.end < t.start or t.start < 0:
            raise ValueError(
                f"turn of {t.speaker!r} at {t.start:.2f}-{t.end:.2f} s: it must start >= 0 and end after it starts"
            )
    if not ordered:
        return EmotionReport((), EmotionScore(Emotion.NEUTRAL, 0.0, 0.0, None), None, (), (), None)
    scorer = sentiment or default_sentiment()
    texts = scorer.score([t.text for t in ordered], language=language)
    hook("emotion", len(ordered) / 2, len(ordered))

    arousals: list[float | None] = [None] * len(ordered)
    features: list[ProsodyFeatures | None] = []
    if audio is not None:
        for t in ordered:
            channel = t.channel if audio.channels > 1 and t.channel is not None and t.channel < audio.channels else None
            features.append(segment_prosody(audio, t.start, t.end, channel=channel, options=options.prosody))
        arousals = arousal_scores(features, [t.speaker for t in ordered])
    hook("emotion", len(ordered), len(ordered))

    probs = [_fuse_turn(r, a, options) for r, a in zip(texts, arousals, strict=True)]
    analyzed = tuple(
        AnalyzedTurn(
            speaker=t.speaker,
            role=t.role,
            start=t.start,
            end=t.end,
            text=t.text,
            emotion=_score(p, r.sentiment, None if a is None else round(a, 4)),
        )
        for t, r, p, a in zip(ordered, texts, probs, arousals, strict=True)
    )
    weights = [_text_weight(t.text) for t in ordered]
    # the substance of each turn (courtesy formulas stripped) for the call-level numbers
    core_texts, core_weights = list(texts), list(weights)
    substance = [bool(t.text.strip()) for t in ordered]  # turns with more than courtesy in them
    if options.discount_courtesy:
        cores = [scorer.cues.strip_courtesy(t.text, r.language) for t, r in zip(ordered, texts, strict=True)]
        redo = [i for i, (t, c) in enumerate(zip(ordered, cores, strict=True)) if c and c != t.text.strip()]
        for i, result in zip(redo, scorer.score([cores[i] for i in redo], language=language), strict=True):
            core_texts[i] = result
        # a turn that is only courtesy says "nothing is wrong": calm, not happy
        calm = SentimentResult(0.0, {c: float(c == Emotion.NEUTRAL) for c in CLASSES}, "")
        for i, c in enumerate(cores):
            if not c:
                core_texts[i] = calm
        core_weights = [_text_weight(c) if c else options.courtesy_weight * weights[i] for i, c in enumerate(cores)]
        substance = [bool(c) for c in cores]
    core_probs = [
        probs[i] if core_texts[i] is texts[i] else _fuse_turn(core_texts[i], arousals[i], options)
        for i in range(len(ordered))
    ]

    def role_index(role: Role) -> list[int]:
        return [i for i, t in enumerate(ordered) if t.role == role and t.text.strip()]

    caller_idx = role_index(Role.CALLER) or [
        i for i, t in enumerate(ordered) if t.role != Role.AGENT and t.text.strip()
    ]
    if options.echo_share is not None:
        echoes = echo_turns(ordered, options.echo_share, options.echo_window_s)
        caller_idx = [i for i in caller_idx if i not in echoes] or caller_idx
    agent_idx = role_index(Role.AGENT)

    def substantive(idx: list[int]) -> list[int]:
        """The turns with substance; all of them when every turn is courtesy."""
        return [i for i in idx if core_weights[i] > 0] or idx  # (courtesy_weight 0 drops them)

    def cued(i: int) -> set[Emotion]:
        """The classes of the cue phrases and situation patterns turn ``i`` holds."""
        return {Emotion(cue.split(":", 1)[0]) for cue in (*texts[i].cues, *core_texts[i].cues)}

    def backed(idx: list[int]) -> list[Emotion]:
        """The negative classes whose cues the turns hold most often (both on a tie; none without cues)."""
        kinds = [cued(i) for i in substantive(idx)]
        hits = {k: sum(k in found for found in kinds) for k in NEGATIVE}
        return [k for k in NEGATIVE if 0 < hits[k] == max(hits.values())]

    def summary(idx: list[int], shift: np.ndarray | None = None, *, relief: bool = False) -> EmotionScore:
        """``relief``: apply ``relief_after_cue`` (the caller's summary)."""
        peaks = backed(idx) if options.peak_needs_cue else list(NEGATIVE)
        idx = substantive(idx)
        kinds = [cued(i) for i in idx]
        probs = [core_probs[i] for i in idx]
        if relief and options.relief_after_cue:
            probs = _without_relief(probs, kinds)
        return _summarise(
            probs,
            [core_texts[i].sentiment for i in idx],
            [core_weights[i] or weights[i] for i in idx],
            [arousals[i] for i in idx],
            options.peak_share,
            shift,
            options.positive_peak_share,
            options.positive_peak_level,
            peaks,
        )

    contrast = None
    if features and agent_idx:
        contrast = speaker_contrast([features[i] for i in caller_idx], [features[i] for i in agent_idx])
    # only a caller livelier than the agent counts: a calmer one says little (agents are
    # trained to sound upbeat, and on the neural-voice calls the contrast of a calm caller
    # measured the two voices, turning 2 of 16 emotional callers neutral)
    shift = None if contrast is None else np.asarray(options.call_arousal_shift) * (
        contrast if options.contrast_floor is None else max(contrast, options.contrast_floor)
    )
    caller = summary(caller_idx, shift, relief=True)
    by_cues = None
    if opinion is not None and options.second_opinion:
        settled = settle_with_opinion(caller.label, backed(caller_idx), opinion)
        if settled != caller.label:
            by_cues = caller.label
            caller = replace(caller, label=settled, confidence=round(float(opinion.get(settled, 0.0)), 4))
    agent = summary(agent_idx) if agent_idx else None
    # the trajectory and ended_better follow what the caller says, not "thanks, bye"
    caller_core = [i for i in caller_idx if substance[i]] or caller_idx

    call_start = 0.0
    call_end = max(audio.duration_s if audio is not None else 0.0, max(t.end for t in ordered))
    trajectory = _trajectory(
        [ordered[i] for i in caller_core],
        [core_texts[i].sentiment for i in caller_core],
        [core_weights[i] or weights[i] for i in caller_core],
        call_start,
        call_end,
    )

    escalations = []
    anger = [float(probs[i][CLASSES.index(Emotion.FRUSTRATED)]) * min(1.0, weights[i] * 1.5) for i in caller_idx]
    for k in range(1, len(caller_idx)):
        before = float(np.mean(anger[max(0, k - 2) : k]))
        if anger[k] >= options.escalation_level and anger[k] - before >= options.escalation_rise:
            escalations.append(round(ordered[caller_idx[k]].start, 3))

    ended_better = None
    if len(caller_core) >= 3:
        n_edge = max(1, len(caller_core) // 3)
        head = caller_core[:n_edge]
        tail = caller_core[-n_edge:]
        early = float(
            np.average([core_texts[i].sentiment for i in head], weights=[core_weights[i] or weights[i] for i in head])
        )
        late = float(
            np.average([core_texts[i].sentiment for i in tail], weights=[core_weights[i] or weights[i] for i in tail])
        )
        ended_better = late > early + options.better_margin
    log.debug("emotion: caller %s, agent %s", caller.label, agent.label if agent else None)
    return EmotionReport(
        turns=analyzed,
        caller=caller,
        agent=agent,
        trajectory=trajectory,
        escalations=tuple(escalations),
        ended_better=ended_better,
        caller_vs_agent_arousal=contrast,
        caller_opinion=None if opinion is None else dict(opinion),
        caller_by_cues=by_cues,
    )


def turns_from_rttm_and_text(rttm: str, text: str, channels: dict[str, int] | None = None) -> list[TurnText]:
    """Pair an RTTM's turns with a ``role: text`` transcript, in order (reference files).

    Lines of the transcript (``agent: ...`` / ``caller: ...``) are matched to the
    RTTM's turns of the same speaker in time order.

    Args:
        rttm: RTTM text whose speaker names are the roles.
        text: the transcript, one ``speaker: words`` line per turn.
        channels: speaker -> channel; default Twilio dual-channel (caller 0, agent 1).

    Raises:
        ValueError: the two files disagree on how many turns each speaker has.
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for line in rttm.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            spans.setdefault(parts[7], []).append((start, start + dur))
    for v in spans.values():
        v.sort()
    lines = []
    for line in text.splitlines():
        if ":" not in line:
            continue
        speaker, said = line.split(":", 1)
        lines.append((speaker.strip().lower(), said.strip()))
    counts: dict[str, int] = {}
    out = []
    for speaker, said in lines:
        k = counts.get(speaker, 0)
        counts[speaker] = k + 1
        if k >= len(spans.get(speaker, [])):
            raise ValueError(f"the transcript has more {speaker!r} lines than the RTTM has turns")
        start, end = spans[speaker][k]
        role = Role(speaker) if speaker in ("agent", "caller") else Role.UNKNOWN
        channel = (channels if channels is not None else {"caller": 0, "agent": 1}).get(speaker)
        out.append(TurnText(speaker, role, start, end, said, channel))
    return sorted(out, key=lambda t: t.start)
