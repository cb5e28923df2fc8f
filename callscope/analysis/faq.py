"""FAQ and self-service drafts from recorded calls, and gaps in the knowledge base.

For each frequent issue (:mod:`callscope.analysis.issues`) :func:`draft_faqs` writes a
:class:`~callscope.domain.FaqEntry` with status DRAFT:

* the canonical question per language (the clearest of the issue's most central caller
  questions, reworded by the local LLM when the rewording stays grounded) and the
  paraphrases callers used;
* an **extractive** answer per language: among the agent sentences that follow the
  caller's reason in each call (identity checks, hold messages, apologies and
  closings removed), the candidate most similar to the other calls' candidates is
  the answer agents give consistently;
* evidence call ids and frequency;
* whether it is answerable in self-service: not when agents in most of the issue's
  calls had to verify the caller or act on the account (reset, refund, dispute…);
* a quality score per language with its reasons (:mod:`callscope.analysis.faq_quality`):
  is the answer about the question? Drafts below the gate are flagged, never auto-published.

:func:`kb_gaps` compares issues with an existing knowledge base: frequent questions
no entry covers, entries callers asked for but the IVR failed to contain (from the
IVR's unanswered/transferred utterances), and stale entries nobody asked about in a
period. :func:`export_faqs` writes Markdown, CSV or JSON.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from callscope.analysis.answer_generator import (
    AnswerGenerator,
    RewriteRequest,
    facts_for,
    load_answer_generator,
    rewrite_answer,
)
from callscope.analysis.embeddings import Encoder, l2_normalise, load_encoder
from callscope.analysis.faq_question import canonical_questions
from callscope.analysis.issues import CallRecord, IssueMiningResult, MinedIssue
from callscope.analysis.reason import is_filler_sentence, split_sentences, strip_acknowledgement
from callscope.domain import AnswerMethod, AnswerSource, FaqEntry, FaqStatus, Role
from callscope.errors import ConfigError
from callscope.language import detect_text_language
from callscope.analysis.faq_quality import default_encoders, gate_drafts, gate_language
from callscope.llm import get_llm

if TYPE_CHECKING:
    from callscope.llm import LocalLLM

log = logging.getLogger(__name__)

__all__ = [
    "FaqOptions",
    "GapItem",
    "GapReport",
    "answer_candidates",
    "needs_agent",
    "draft_faqs",
    "kb_gaps",
    "export_faqs",
    "faq_to_dict",
]



@dataclass(frozen=True, slots=True)
class FaqOptions:
    """Knobs for drafting and gap analysis."""

    min_frequency: int = 2  # issues with fewer calls get no draft
    max_paraphrases: int = 10
    answer_turns: int = 4  # agent turns after the reason that may hold the answer
    encoder: str = "use-multilingual"  # absolute cosines are meaningful with it
    agent_share: float = 0.5  # needs an agent when more than this share of calls did (most of them)
    match_threshold: float = 0.45  # USE cosine for "this question is covered by that KB entry"
    generator: Path | None = None  # local transformers model that rewrites answers (CALLSCOPE_FAQ_GENERATOR)
    quality_gate: bool = True  # score each draft's answer against its question (faq_quality)
    answer_retries: int = 3  # when a language's answer fails the gate: the next ranked answers from other calls tried


# ------------------------------------------------------------------ answer mining

# Agent sentences that are not an answer.
_NOT_ANSWER_EN = re.compile(
    r"^(?:i'?m (?:so |very |really )?sorry|sorry|i (?:completely |totally )?understand|i apologi[sz]e|"
    r"thank(?:s| you)(?: for| so| very|[.!,]|$)|you'?re (?:very )?welcome|my pleasure|no problem|of course[.!]?$|"
    r"(?:have|enjoy) a|good (?:news|morning|afternoon)[.!,]?$|let me|bear with|please hold|one moment|just a moment|"
    r"don'?t worry|great[.!]?$|perfect[.!]?$|okay[.!]?$|right[.!]?$|absolutely[.!]?$|is there anything else|"
    r"anything else)",
    re.IGNORECASE,
)
_NOT_ANSWER_ZH = re.compile(
    r"^(?:非常抱歉|抱歉|对不起|不好意思|理解|明白|好的|不客气|感谢|谢谢|请您稍等|请稍等|稍等|让您久等|别着急|"
    r"您说得对|请问还有|还有其他|祝您)"
)
# Asking the caller for identification: a question, not an answer (and a sign the
# issue needs an agent).
_VERIFY_EN = re.compile(
    r"\b(?:(?:can|could|may) (?:i|you) (?:have|take|get|confirm|give me|tell me)\b.{0,40}"
    r"\b(?:number|name|pin|postcode|post code|date of birth|email|address)|verify your identity|"
    r"security (?:check|question)s?|account holder|enter your (?:\w+ )?(?:digit )?(?:account )?pin|"
    r"what'?s your (?:order|account) number|which number)",
    re.IGNORECASE,
)
_VERIFY_ZH = re.compile(
    r"(?:提供|告诉我|报一下|核实|验证|确认)[^。！？]{0,10}(?:订单号|身份证|账号|账户|手机号|姓名|名字)|"
    r"(?:登记|注册)在您本人名下|身份验证"
)
# The agent changed something on the account: self-service cannot do that.
_ACTION_EN = re.compile(
    r"\b(?:i'?ve|i have|i'?ll|i will|i can|i'?m going to|we'?ll|we have|we'?ve) (?:just )?(?:also )?"
    r"(?:unlocked|unlock|reset|raised|raise|refunded|refund|credited|credit|cancel(?:led)?|added|add|"
    r"upgraded|upgrade|applied|apply|issued|issue|waived|waive|removed|remove|changed|change|updated|update|"
    r"replaced|replace|booked|book|escalated|escalate|arranged|arrange|sent|send)\b"
    # a promise to notify ("we'll send you a text when it's fixed") is not an account action
    r"(?! (?:you )?(?:a |an )?(?:text|sms|message|e-?mail|update|notification|link)\b)|"
    r"\b(?:let me|i'?ll) (?:check|look up|run a check on) (?:the|your) (?:account|line|order)\b",
    re.IGNORECASE,
)
_ACTION_ZH = re.compile(
    r"(?:我|我们)(?:已经|马上|现在|这边|可以)?(?:帮|给)您(?:申请|办理|退|取消|重置|解锁|补偿|加|改|换)|"
    # a look-up counts when it is of the caller's own account, line or order (as in English:
    # "let me check for you" is not an account action, "let me check your account" is)
    r"(?:帮|给)您查(?:一下|一查)?(?:您的)?(?:账户|账号|帐户|帐号|线路|订单)"
)


_HOLD = re.compile(r"please hold|bear with me|one moment|just a moment|稍等|请稍候|别挂", re.IGNORECASE)


def _is_question_to_caller(sentence: str) -> bool:
    return sentence.rstrip().endswith(("?", "？"))


def _reason_turn_index(record: CallRecord) -> int | None:
    for i, (role, text) in enumerate(record.turns):
        if role != Role.AGENT and any(
            not is_filler_sentence(s, record.language) for s in split_sentences(text, record.language)
        ):
            if role == Role.CALLER or not any(r == Role.CALLER for r, _ in record.turns):
                return i
    return None


def answer_candidates(record: CallRecord, max_turns: int = 4) -> list[str]:
    """Agent turns after the caller's reason, cleaned down to their informative sentences.

    Args:
        record: the call.
        max_turns: how many agent turns after the reason to consider.

    Returns:
        Candidate answers in call order (possibly empty).
    """
    start = _reason_turn_index(record)
    if start is None:
        return []
    out = []
    taken = 0
    for role, text in record.turns[start + 1 :]:
        if role != Role.AGENT:
            continue
        taken += 1
        if taken > max_turns:
            break
        lang = record.language if record.language in ("en", "zh") else detect_text_language(text)
        keep = [
            s
            for s in split_sentences(text, lang)
            if not is_filler_sentence(s, lang)
            and not (_NOT_ANSWER_ZH if lang == "zh" else _NOT_ANSWER_EN).match(s)
            and not (_VERIFY_ZH if lang == "zh" else _VERIFY_EN).search(s)
            and not _HOLD.search(s)
            and not _is_question_to_caller(s)
        ]
        # What the agent did on the account is not an answer a caller can reuse.
        keep = [s for s in keep if not (_ACTION_ZH if lang == "zh" else _ACTION_EN).search(s)]
        keep = [strip_acknowledgement(s, lang) for s in keep]
        if keep:
            out.append(("" if lang == "zh" else " ").join(keep))
    return out


def needs_agent(record: CallRecord) -> bool:
    """True when the agent verified the caller or acted on the account in this call."""
    for role, text in record.turns:
        if role != Role.AGENT:
            continue
        if _VERIFY_EN.search(text) or _VERIFY_ZH.search(text) or _ACTION_EN.search(text) or _ACTION_ZH.search(text):
            return True
    return False


# ------------------------------------------------------------------------ drafting


def _encoder(options: FaqOptions, encoder: Encoder | None) -> Encoder:
    if encoder is not None:
        return encoder
    return load_encoder(options.encoder).encode



def _slug(words: Sequence[str]) -> str:
    ascii_words = [re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in words]
    return "-".join(w for w in ascii_words if w)[:40].strip("-")


def faq_id_for(issue: MinedIssue) -> str:
    """A stable, KB-safe id for the draft of ``issue``."""
    digest = hashlib.sha1(issue.id.encode("utf-8")).hexdigest()[:8]
    slug = _slug(issue.issue.keywords[:3])
    return f"faq-{slug}-{digest}" if slug else f"faq-{digest}"


def _rank_answers(
    candidates: Mapping[str, list[str]], languages: Mapping[str, str], embed: Encoder
) -> dict[str, list[tuple[str, str]]]:
    """Candidates per language, most consistent first: {lang: [(answer, call id), ...]}."""
    flat = [(call, text) for call, texts in candidates.items() for text in texts]
    if not flat:
        return {}
    vectors = l2_normalise(embed([t for _, t in flat]))
    calls = sorted(candidates)
    rows_of = {c: [i for i, (call, _) in enumerate(flat) if call == c] for c in calls}
    scores = np.zeros(len(flat), dtype=np.float32)
    for i, (call, _) in enumerate(flat):
        others = [c for c in calls if c != call and rows_of[c]]
        if others:
            # Centrality: how well this candidate matches the best candidate of every other call.
            scores[i] = float(np.mean([max(vectors[rows_of[c]] @ vectors[i]) for c in others]))
        # Ties (and single-call issues) go to the earliest answer in the call.
        scores[i] -= 1e-3 * rows_of[call].index(i)
    ranked: dict[str, list[tuple[float, int, str, str]]] = defaultdict(list)
    for i, (call, text) in enumerate(flat):
        lang = languages.get(call) or detect_text_language(text)
        ranked[lang].append((-float(scores[i]), i, text, call))
    return {lang: [(text, call) for _, _, text, call in sorted(items)] for lang, items in ranked.items()}


def _draft_answers(
    ranked: Mapping[str, list[tuple[str, str]]],
    questions: Mapping[str, list[str]],
    generator: AnswerGenerator | None,
) -> tuple[dict[str, str], dict[str, AnswerSource]]:
    """Per language: the extractive answer, rewritten by ``generator`` when it stays grounded."""
    answers: dict[str, str] = {}
    sources: dict[str, AnswerSource] = {}
    for lang, items in sorted(ranked.items()):
        text, call = items[0]
        question = (questions.get(lang) or [""])[0]
        request = RewriteRequest(question, text, facts_for(text, [t for t, _ in items[1:]]), lang)
        answers[lang], sources[lang] = rewrite_answer(generator, request, call_id=call)
    return answers, sources


def _retry_failed_answers(
    draft: FaqEntry,
    others: Sequence[FaqEntry],
    ranked: Mapping[str, list[tuple[str, str]]],
    generator: AnswerGenerator | None,
    options: FaqOptions,
    **gate: Any,
) -> FaqEntry:
    """For each language whose extractive answer failed the quality gate, try the next ranked answers
    taken from other calls (one call's agent may have answered badly, or been misheard) and
    keep the first that passes; a language stays as it was when none does."""
    for lang, source in sorted(draft.answer_sources.items()):
        if source.quality is None or source.quality_passed or source.method != AnswerMethod.EXTRACTIVE:
            continue  # a generated rewrite that fails stays for the reviewer, beside its extractive source
        tried = {source.call_id}
        for text, call in ranked.get(lang, []):
            if call in tried:
                continue
            if len(tried) > options.answer_retries:
                break
            tried.add(call)
            rest = [item for item in ranked[lang] if item != (text, call)]
            answers, sources = _draft_answers({lang: [(text, call), *rest]}, {lang: list(draft.questions.get(lang, ()))},
                                              generator)
            trial = replace(draft, answers={**draft.answers, lang: answers[lang]},
                            answer_sources={**draft.answer_sources, lang: sources[lang]})
            checked = gate_language(trial, lang, others, **gate)
            if checked.quality_passed:
                log.info("FAQ draft %s: the %s answer from call %s passes the quality gate", draft.id, lang, call)
                draft = replace(trial, answer_sources={**trial.answer_sources, lang: checked})
                break
    return draft


def draft_faqs(
    records: Sequence[CallRecord],
    result: IssueMiningResult,
    options: FaqOptions = FaqOptions(),
    *,
    encoder: Encoder | None = None,
    now: datetime | None = None,
    generator: AnswerGenerator | None = None,
    llm: LocalLLM | None | Literal["auto"] = "auto",
    kb_entries: Sequence[FaqEntry] = (),
) -> list[FaqEntry]:
    """Draft one FAQ entry per frequent issue, most frequent first.

    Args:
        records: the analysed calls (their ids are the issues' members).
        result: issues mined from these calls.
        options: drafting knobs.
        encoder: optional encode function (default: the bundled multilingual encoder).
        now: the drafts' ``updated_at`` (default: now, UTC).
        generator: rewrites the extractive answers (default: the local model named by
            ``options.generator``, else none: answers stay extractive).
        llm: rewords the canonical question (grounded in the callers' words) and judges the
            answers; "auto" = the local LLM when installed, None = none.
        kb_entries: the knowledge base's entries: other topics the quality gate compares
            each answer with (with the batch's other drafts).

    Returns:
        Draft :class:`FaqEntry` s (status DRAFT, ``self_service`` decided from the calls,
        ``answer_sources`` saying per language how the answer was made).

    Raises:
        ConfigError: ``options.generator`` is set but is not a loadable local model.
    """
    by_id = {r.id: r for r in records}
    embed = _encoder(options, encoder)
    if generator is None:
        generator = load_answer_generator(options.generator)
    if llm == "auto":
        llm = get_llm()
    stamp = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    drafts = []
    rankings: dict[str, Mapping[str, list[tuple[str, str]]]] = {}
    for issue in result.issues:
        calls = [by_id[m] for m in issue.issue.members if m in by_id]
        if len(calls) < options.min_frequency:
            continue
        order = {cid: i for i, cid in enumerate(issue.example_ids)}
        calls.sort(key=lambda r: (order.get(r.id, len(order)), r.id))
        questions: dict[str, list[str]] = defaultdict(list)
        for record in calls:
            lang = record.language or detect_text_language(record.reason)
            text = " ".join(record.reason.split())
            if text and text not in questions[lang]:
                questions[lang].append(text)
        # The canonical question first: the clearest of the most central reasons (calls are in
        # centrality order), reworded by the local LLM when the rewording stays grounded.
        for lang, qs in questions.items():
            qs[:] = canonical_questions(qs, lang, llm=llm, encode=embed, max_paraphrases=options.max_paraphrases)
        candidates = {r.id: answer_candidates(r, options.answer_turns) for r in calls}
        ranked = _rank_answers(candidates, {r.id: r.language for r in calls}, embed)
        answers, sources = _draft_answers(ranked, questions, generator)
        rankings[faq_id_for(issue)] = ranked
        agent_calls = sum(needs_agent(r) for r in calls)
        self_service = agent_calls / len(calls) <= options.agent_share
        drafts.append(
            FaqEntry(
                id=faq_id_for(issue),
                questions={lang: tuple(qs) for lang, qs in sorted(questions.items()) if qs},
                answers=answers,
                tags=tuple(issue.issue.keywords[:5]),
                action=None,
                self_service=self_service,
                status=FaqStatus.DRAFT,
                evidence_calls=tuple(r.id for r in calls),
                frequency=len(calls),
                updated_at=stamp,
                answer_sources=sources,
            )
        )
    if drafts and options.quality_gate:
        encoders = {"use-multilingual": embed} if encoder is not None else default_encoders()
        drafts = gate_drafts(drafts, encoders=encoders, kb_entries=kb_entries, llm=llm)
        drafts = [
            _retry_failed_answers(d, [o for o in drafts if o is not d], rankings[d.id], generator, options,
                                  encoders=encoders, kb_entries=kb_entries, llm=llm)
            for d in drafts
        ]
    log.info("drafted %d FAQ entries from %d issues", len(drafts), len(result.issues))
    return drafts


# ---------------------------------------------------------------------- gap analysis


@dataclass(frozen=True, slots=True)
class GapItem:
    """One finding of the gap analysis."""

    kind: str  # "uncovered", "not_contained" or "stale"
    subject: str  # issue id (uncovered) or KB entry id
    label: str
    count: int = 0  # calls (uncovered), failed IVR utterances (not_contained)
    best_match: str | None = None  # nearest KB entry id (uncovered)
    similarity: float | None = None
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "label": self.label,
            "count": self.count,
            "best_match": self.best_match,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class GapReport:
    uncovered: tuple[GapItem, ...] = ()  # frequent questions the KB does not answer
    not_contained: tuple[GapItem, ...] = ()  # KB entries the IVR failed to answer with
    stale: tuple[GapItem, ...] = ()  # KB entries no caller asked about in the period

    def to_dict(self) -> dict[str, Any]:
        return {
            "uncovered": [g.to_dict() for g in self.uncovered],
            "not_contained": [g.to_dict() for g in self.not_contained],
            "stale": [g.to_dict() for g in self.stale],
        }


def _kb_matrix(entries: Sequence[FaqEntry], embed: Encoder) -> tuple[np.ndarray, np.ndarray]:
    texts, owner = [], []
    for e, entry in enumerate(entries):
        for qs in entry.questions.values():
            for q in qs:
                texts.append(q)
                owner.append(e)
    if not texts:
        return np.zeros((0, 1), np.float32), np.zeros(0, np.int64)
    return l2_normalise(embed(texts)), np.asarray(owner, dtype=np.int64)


def _match(
    texts: Sequence[str], kb_vectors: np.ndarray, owner: np.ndarray, n_entries: int, embed: Encoder
) -> tuple[np.ndarray, np.ndarray]:
    """Best KB entry and cosine for each text (entry -1 when the KB is empty)."""
    if not texts or not len(owner):
        return np.full(len(texts), -1), np.zeros(len(texts))
    sims = l2_normalise(embed(list(texts))) @ kb_vectors.T
    per_entry = np.full((len(texts), n_entries), -1.0, dtype=np.float32)
    for e in range(n_entries):
        cols = owner == e
        if cols.any():
            per_entry[:, e] = sims[:, cols].max(axis=1)
    return per_entry.argmax(axis=1), per_entry.max(axis=1)


def kb_gaps(
    issues: Sequence[MinedIssue],
    kb_entries: Sequence[FaqEntry],
    *,
    ivr_failures: Sequence[str] = (),
    period_questions: Sequence[str] | None = None,
    options: FaqOptions = FaqOptions(),
    encoder: Encoder | None = None,
    member_texts: Mapping[str, str] | None = None,
) -> GapReport:
    """Compare mined issues and IVR failures with a knowledge base.

    An issue is covered when **most** of its questions match an entry (cosine at least
    ``options.match_threshold``): all its members' texts when ``member_texts`` gives them,
    else its example quotes (its most central members), else its label. One stray member
    close to an entry does not make a whole issue answered.

    Args:
        issues: mined issues (only those with ``frequency >= options.min_frequency`` count).
        kb_entries: the knowledge base's entries.
        ivr_failures: caller utterances the IVR left unanswered or transferred.
        period_questions: the callers' questions of the period checked for staleness
            (default: every issue member's example questions).
        options: thresholds.
        encoder: optional encode function.
        member_texts: item id -> the question's text, to vote over every member of an issue.

    Returns:
        The gaps: uncovered questions, entries not contained by the IVR, stale entries.
    """
    embed = _encoder(options, encoder)
    kb_vectors, owner = _kb_matrix(kb_entries, embed)
    n = len(kb_entries)

    frequent = [i for i in issues if i.frequency >= options.min_frequency]
    uncovered = []
    if frequent:
        probe = [(k, t) for k, issue in enumerate(frequent) for t in _coverage_questions(issue, member_texts)]
        best, sim = _match([t for _, t in probe], kb_vectors, owner, n, embed)
        for k, issue in enumerate(frequent):
            rows = [j for j, (kk, _) in enumerate(probe) if kk == k]
            if not rows:
                continue
            answered = sum(1 for r in rows if best[r] >= 0 and sim[r] >= options.match_threshold)
            j = rows[0]  # the most central question: its best entry is the one reported
            if answered * 2 <= len(rows):  # covered only when most questions are answered
                uncovered.append(
                    GapItem(
                        kind="uncovered",
                        subject=issue.id,
                        label=issue.label,
                        count=issue.frequency,
                        best_match=kb_entries[best[j]].id if best[j] >= 0 else None,
                        similarity=float(sim[j]) if best[j] >= 0 else None,
                        examples=issue.issue.examples,
                    )
                )

    not_contained = []
    if ivr_failures and n:
        best, sim = _match(list(ivr_failures), kb_vectors, owner, n, embed)
        hits: dict[int, list[str]] = defaultdict(list)
        for text, b, s in zip(ivr_failures, best, sim, strict=True):
            if b >= 0 and s >= options.match_threshold:
                hits[int(b)].append(text)
        for e, texts in sorted(hits.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            not_contained.append(
                GapItem(
                    kind="not_contained",
                    subject=kb_entries[e].id,
                    label=_entry_label(kb_entries[e]),
                    count=len(texts),
                    examples=tuple(texts[:5]),
                )
            )

    stale = []
    if n:
        asked = (
            list(period_questions) if period_questions is not None else [t for i in issues for t in i.issue.examples]
        )
        best, sim = _match(asked, kb_vectors, owner, n, embed)
        used = {int(b) for b, s in zip(best, sim, strict=True) if b >= 0 and s >= options.match_threshold}
        stale = [
            GapItem(kind="stale", subject=entry.id, label=_entry_label(entry))
            for e, entry in enumerate(kb_entries)
            if e not in used
        ]
    return GapReport(tuple(uncovered), tuple(not_contained), tuple(stale))


def _coverage_questions(issue: MinedIssue, member_texts: Mapping[str, str] | None) -> list[str]:
    """The questions whose answers decide whether an issue is covered, most central first."""
    if member_texts is not None:
        central = [m for m in issue.example_ids if m in member_texts]
        rest = [m for m in issue.issue.members if m in member_texts and m not in central]
        texts = [member_texts[m] for m in (*central, *rest) if member_texts[m] and member_texts[m].strip()]
        if texts:
            return texts
    return [t for t in issue.issue.examples if t] or ([issue.label] if issue.label else [])


def _entry_label(entry: FaqEntry) -> str:
    for lang in ("en", "zh", *entry.questions):
        qs = entry.questions.get(lang)
        if qs:
            return qs[0]
    return entry.id


# --------------------------------------------------------------------------- export


def faq_to_dict(entry: FaqEntry) -> dict[str, Any]:
    """The JSON shape of an entry (the knowledge-base fields plus review fields)."""
    return {
        "id": entry.id,
        "status": entry.status.value,
        "questions": {lang: list(qs) for lang, qs in entry.questions.items()},
        "answers": dict(entry.answers),
        "tags": list(entry.tags),
        "action": entry.action,
        "self_service": entry.self_service,
        "evidence_calls": list(entry.evidence_calls),
        "frequency": entry.frequency,
        "updated_at": entry.updated_at.isoformat(timespec="seconds") if entry.updated_at else None,
        "answer_sources": {lang: src.to_dict() for lang, src in entry.answer_sources.items()},
    }


def export_faqs(entries: Sequence[FaqEntry], fmt: str) -> str:
    """Render entries as ``md`` (review document), ``csv`` (one row per entry) or ``json``.

    Raises:
        ConfigError: unknown format.
    """
    fmt = fmt.lower()
    if fmt == "json":
        return json.dumps([faq_to_dict(e) for e in entries], ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            [
                "id",
                "status",
                "frequency",
                "self_service",
                "question_en",
                "answer_en",
                "question_zh",
                "answer_zh",
                "paraphrases",
                "tags",
                "evidence_calls",
            ]
        )
        for e in entries:
            paraphrases = [q for qs in e.questions.values() for q in qs[1:]]
            writer.writerow(
                [
                    e.id, e.status.value, e.frequency, "yes" if e.self_service else "no",
                    (e.questions.get("en") or ("",))[0], e.answers.get("en", ""),
                    (e.questions.get("zh") or ("",))[0], e.answers.get("zh", ""),
                    " | ".join(paraphrases), " ".join(e.tags), " ".join(e.evidence_calls),
                ]
            )  # fmt: skip
        return buf.getvalue()
    if fmt in ("md", "markdown"):
        lines = ["# FAQ drafts", ""]
        for e in entries:
            title = next((qs[0] for qs in e.questions.values() if qs), e.id)
            lines += [f"## {title}", ""]
            lines.append(
                f"`{e.id}` · {e.status.value} · asked in {e.frequency} calls · "
                + ("self-service" if e.self_service else "needs an agent")
            )
            lines.append("")
            for lang in sorted(set(e.questions) | set(e.answers)):
                qs = e.questions.get(lang, ())
                if qs:
                    lines.append(f"**Question ({lang})**: {qs[0]}")
                if len(qs) > 1:
                    lines.append("")
                    lines += [f"- {q}" for q in qs[1:]]
                if lang in e.answers:
                    lines += ["", f"**Answer ({lang})**: {e.answers[lang]}"]
                src = e.answer_sources.get(lang)
                if src is not None and src.quality is not None:
                    verdict = "passes the quality gate" if src.quality_passed else "BELOW the quality gate"
                    lines += ["", f"*Quality {src.quality:.2f}, {verdict}*: " + "; ".join(src.quality_notes)]
                if src is not None and src.method == AnswerMethod.GENERATED:
                    lines += ["", f"*Rewritten by {src.generator} from what the agent said*: {src.extractive}"]
                elif src is not None and src.rejected:
                    lines += ["", f"*Extractive; the {src.generator} rewrite was not used: {src.rejected}*"]
                lines.append("")
            if e.tags:
                lines.append("Tags: " + ", ".join(e.tags))
            if e.evidence_calls:
                lines.append("Evidence: " + ", ".join(e.evidence_calls))
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"
    raise ConfigError(f"unknown export format {fmt!r}; use md, csv or json")


def entries_from_json(text: str, source: str = "<json>") -> list[FaqEntry]:
    """Read entries written by ``export_faqs(..., "json")``.

    Raises:
        ConfigError: not a JSON list of entries.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, list):
        raise ConfigError(f"{source}: expected a JSON list of FAQ entries")
    out = []
    for n, raw in enumerate(data):
        try:
            out.append(
                FaqEntry(
                    id=str(raw["id"]),
                    questions={k: tuple(v) for k, v in raw.get("questions", {}).items()},
                    answers=dict(raw.get("answers", {})),
                    tags=tuple(raw.get("tags", ())),
                    action=raw.get("action"),
                    self_service=bool(raw.get("self_service", True)),
                    status=FaqStatus(raw.get("status", "draft")),
                    evidence_calls=tuple(raw.get("evidence_calls", ())),
                    frequency=int(raw.get("frequency", 0)),
                    updated_at=datetime.fromisoformat(raw["updated_at"]) if raw.get("updated_at") else None,
                    answer_sources={
                        lang: AnswerSource.from_dict(src) for lang, src in (raw.get("answer_sources") or {}).items()
                    },
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{source}: entry {n} is not a FAQ entry ({exc})") from exc
    return out
