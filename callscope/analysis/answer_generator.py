"""An optional local generator that rewrites extractive FAQ answers, and the checks that
keep it to what agents said.

The FAQ drafter (:mod:`callscope.analysis.faq`) picks the agent sentences that answer a
frequent question (extractive). When ``CALLSCOPE_FAQ_GENERATOR`` names a local
transformers model folder (seq2seq such as T5/mT5, or a causal LM such as a small
instruct model), :func:`rewrite_answer` asks it for a concise FAQ answer in the caller's
language from those sentences only. The text is kept only if it passes
:func:`grounding_problem`: same language, no number and no negation the agents did not
say, nearly every content word taken from the agents' sentences (or the question), not
longer than the source. Otherwise the extractive answer stays, and the draft's
:class:`~callscope.domain.AnswerSource` says why.

Models are loaded with ``local_files_only=True`` (never downloaded); transformers is an
optional dependency, imported only when a generator is configured.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from callscope.domain import AnswerMethod, AnswerSource
from callscope.errors import ConfigError
from callscope.language import DIGITS_ZH, has_cjk

log = logging.getLogger(__name__)

__all__ = [
    "AnswerGenerator",
    "GroundingOptions",
    "RewriteRequest",
    "TransformersAnswerGenerator",
    "build_prompt",
    "grounding_problem",
    "load_answer_generator",
    "rewrite_answer",
]

SETTING = "CALLSCOPE_FAQ_GENERATOR"


@dataclass(frozen=True, slots=True)
class RewriteRequest:
    """What the generator gets: the question, the chosen agent answer and the facts it may use."""

    question: str
    extractive: str  # the agent sentences chosen as the answer
    facts: tuple[str, ...]  # agent sentences it may draw on (the extractive answer first)
    language: str  # "en" or "zh": the caller's language, the answer's language


class AnswerGenerator(Protocol):
    """Rewrites an extractive answer; ``name`` is recorded in the draft."""

    name: str

    def rewrite(self, request: RewriteRequest) -> str: ...


@dataclass(frozen=True, slots=True)
class GroundingOptions:
    """How strictly a generated answer must stick to the agents' words.

    The values are priors, not fitted to any data set: a rewrite may reorder and shorten,
    and may use the question's topic words, but not add facts.
    """

    min_support_en: float = 0.75  # share of content words found in the facts or the question
    min_support_zh: float = 0.6  # share of character bigrams (Chinese paraphrase changes more of them)
    max_length_ratio: float = 1.5  # longer than 1.5x the extractive answer (+20 chars) is not concise
    min_chars: int = 4


# ------------------------------------------------------------------------- prompts

_INSTRUCTION = {
    "en": (
        "Rewrite the agent's answer below as a short, clear FAQ answer for callers, in English. "
        "Use only the facts given; do not add anything."
    ),
    "zh": "请把下面客服的回答改写成简短、清楚的常见问题解答，用简体中文。只使用给出的事实，不要添加任何内容。",
}
_LABELS = {
    "en": ("Question", "Facts", "Answer"),
    "zh": ("问题", "事实", "回答"),
}


def build_prompt(request: RewriteRequest) -> tuple[str, str]:
    """(instruction, body) for ``request``: the body lists the question and the facts and ends
    with the answer cue, so seq2seq and plain causal models continue with the answer."""
    lang = request.language if request.language in _INSTRUCTION else "en"
    q, f, a = _LABELS[lang]
    colon = "：" if lang == "zh" else ": "
    facts = "\n".join(f"- {fact}" for fact in request.facts)
    body = f"{q}{colon}{request.question}\n{f}{colon}\n{facts}\n{a}{colon}".rstrip()
    return _INSTRUCTION[lang], body


# ----------------------------------------------------------------------- grounding

_EN_STOP = frozenset(
    """a an the and or but if then so of to in on at by for with from as is are was were be been being am
    it its this that these those there here you your yours we our us they them their i me my he she his her
    do does did done have has had will would can could should may might must shall not no yes
    about into over after before up down out off than too very just also only all any each some more most
    what which who whom when where why how please thank thanks""".split()
)
_NEGATION_EN = re.compile(r"\b(?:not|no|never|cannot|can't|won't|don't|doesn't|didn't|isn't|aren't|without|none)\b")
_NEGATION_ZH = re.compile(r"[不没无别勿非未]")
_ECHO = re.compile(r"(?:^|\n)\s*(?:facts?|question|answer|事实|问题|回答)\s*[:：]", re.IGNORECASE)
_EN_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_EN_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_ZH_DIGIT = {ch: int(digit) for ch, digit in DIGITS_ZH.items()}  # 幺 too; _ZH_NUMERAL leaves it out
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_ZH_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千万]+")


def _zh_value(run: str) -> int | None:
    """ "三十" -> 30, "十五" -> 15, "一百二十" -> 120, "二零二六" -> 2026."""
    if all(ch in _ZH_DIGIT for ch in run):
        return int("".join(str(_ZH_DIGIT[ch]) for ch in run))
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        else:
            unit = _ZH_UNIT[ch]
            if unit == 10000:
                total = (total + section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
    return total + section + (digit or 0)


def numbers_in(text: str) -> set[int]:
    """Every number in ``text`` (digits, English number words, Chinese numerals) as an int."""
    found = {int(n) for n in re.findall(r"\d+", text.replace(",", ""))}
    words = re.findall(r"[a-z]+", text.lower())
    total, current, reading = 0, 0, False  # the English number being read ("two hundred and fifty")
    for w in [*words, ""]:
        if w in _EN_NUMBER_WORDS or w in _EN_TENS:
            current += _EN_NUMBER_WORDS.get(w, _EN_TENS.get(w, 0))
            reading = True
        elif w == "hundred":  # "a hundred" too
            current, reading = max(current, 1) * 100, True
        elif w == "thousand":
            total, current, reading = total + max(current, 1) * 1000, 0, True
        elif w == "and" and reading and total + current >= 100:
            continue
        elif reading:
            found.add(total + current)
            total, current, reading = 0, 0, False
    for run in _ZH_NUMERAL.findall(text):
        if run != "一":  # 一 alone is mostly a word (一下, 一定), not a number
            value = _zh_value(run)
            if value is not None:
                found.add(value)
    return found


def _stem(word: str) -> str:
    """A crude stem, enough to match "closes"/"close", "stores"/"store", "opening"/"open"."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def _content_en(text: str) -> set[str]:
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
    return {  # numbers are checked on their own (numbers_in)
        _stem(w)
        for w in words
        if len(w) >= 3 and w not in _EN_STOP and w not in _EN_NUMBER_WORDS and w not in _EN_TENS
        and w not in ("hundred", "thousand")
    }  # fmt: skip


def _content_zh(text: str) -> set[str]:
    grams: set[str] = set()
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", text):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            grams.add(run)
    return grams


def grounding_problem(
    text: str, request: RewriteRequest, options: GroundingOptions = GroundingOptions()
) -> str | None:
    """Why ``text`` is not a faithful rewrite of the request's facts, or None when it is."""
    text = text.strip()
    if len(text) < options.min_chars:
        return "empty or too short"
    if _ECHO.search(text):
        return "repeats the prompt"
    cjk = has_cjk(text)
    if request.language == "zh" and not cjk:
        return "not in Chinese"
    if request.language == "en" and cjk:
        return "not in English"
    facts = " ".join(request.facts)
    if len(text) > options.max_length_ratio * len(request.extractive) + 20:
        return "longer than the agents' answer"
    extra_numbers = numbers_in(text) - numbers_in(facts)
    if extra_numbers:
        return "numbers the agents did not say: " + ", ".join(str(n) for n in sorted(extra_numbers))
    negation = _NEGATION_ZH if request.language == "zh" else _NEGATION_EN
    if negation.search(text.lower()) and not negation.search(facts.lower()):
        return "a negation the agents did not say"
    content = _content_zh if request.language == "zh" else _content_en
    used = content(text)
    if not used:
        return "no content words"
    known = content(facts) | content(request.question)
    support = len(used & known) / len(used)
    minimum = options.min_support_zh if request.language == "zh" else options.min_support_en
    if support < minimum:
        return f"only {support:.0%} of its words come from the agents' answer"
    return None


def rewrite_answer(
    generator: AnswerGenerator | None,
    request: RewriteRequest,
    *,
    call_id: str | None = None,
    options: GroundingOptions = GroundingOptions(),
) -> tuple[str, AnswerSource]:
    """The answer to publish and its source: the generator's rewrite when it passes
    :func:`grounding_problem`, else the extractive answer (the reason is recorded)."""
    extractive = AnswerSource(AnswerMethod.EXTRACTIVE, request.extractive, call_id)
    if generator is None or not request.extractive.strip():
        return request.extractive, extractive
    try:
        text = " ".join(generator.rewrite(request).split())
    except Exception as exc:  # noqa: BLE001 - a failing generator must not lose the draft
        log.warning("FAQ generator %s failed (%s); keeping the extractive answer", generator.name, exc)
        return request.extractive, AnswerSource(
            AnswerMethod.EXTRACTIVE, request.extractive, call_id, generator.name, f"generator failed: {exc}"[:200]
        )
    problem = grounding_problem(text, request, options)
    if problem:
        log.info("FAQ generator %s output rejected (%s): %r", generator.name, problem, text[:200])
        return request.extractive, AnswerSource(
            AnswerMethod.EXTRACTIVE, request.extractive, call_id, generator.name, problem
        )
    if text == " ".join(request.extractive.split()):  # nothing to rewrite: still the agents' words
        return request.extractive, AnswerSource(AnswerMethod.EXTRACTIVE, request.extractive, call_id, generator.name)
    return text, AnswerSource(AnswerMethod.GENERATED, request.extractive, call_id, generator.name)


# -------------------------------------------------------------- transformers backend


@contextmanager
def _offline() -> Iterator[None]:
    """Hub access off while loading, on top of ``local_files_only`` (restored afterwards)."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({k: "1" for k in saved})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class TransformersAnswerGenerator:
    """A local transformers model (seq2seq or causal LM) used greedily.

    Args:
        path: a model folder (``config.json``, tokenizer files, weights), as saved by
            ``save_pretrained``.
        max_new_tokens: the longest answer generated.

    Raises:
        ConfigError: the folder is missing or not a loadable model, or transformers is missing.
    """

    def __init__(self, path: Path | str, *, max_new_tokens: int = 96) -> None:
        path = Path(path).expanduser()
        if not path.is_dir():
            raise ConfigError(
                f"{SETTING}={path}: no such folder; give a local transformers model folder "
                "(config.json, tokenizer, weights) or unset it to keep extractive FAQ answers"
            )
        if not (path / "config.json").is_file():
            raise ConfigError(f"{SETTING}={path}: no config.json there; is it a transformers model folder?")
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise ConfigError(
                f"{SETTING} is set but the transformers package is not installed; "
                "pip install transformers safetensors (or unset the setting)"
            ) from exc
        try:
            with _offline():
                config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
                self.tokenizer: Any = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
                auto = (
                    transformers.AutoModelForSeq2SeqLM
                    if getattr(config, "is_encoder_decoder", False)
                    else transformers.AutoModelForCausalLM
                )
                self.model: Any = auto.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ConfigError(f"{SETTING}={path}: cannot load the model ({exc})") from exc
        self.model.eval()
        self._torch = torch
        self.encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
        self.max_new_tokens = max_new_tokens
        self.max_positions = int(
            getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 2048
        )
        self.name = path.name

    def _encode(self, request: RewriteRequest) -> Any:
        instruction, body = build_prompt(request)
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": instruction}, {"role": "user", "content": body}]
            prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            prompt = f"{instruction}\n{body}"
        return self.tokenizer(prompt, return_tensors="pt")

    def rewrite(self, request: RewriteRequest) -> str:
        """The model's answer for ``request`` (greedy decoding, first paragraph)."""
        inputs = self._encode(request)
        budget = self.max_positions - (0 if self.encoder_decoder else self.max_new_tokens)
        facts = list(request.facts)
        while inputs["input_ids"].shape[1] > budget and len(facts) > 1:  # keep the prompt inside the model
            facts.pop()
            inputs = self._encode(RewriteRequest(request.question, request.extractive, tuple(facts), request.language))
        if inputs["input_ids"].shape[1] > budget:
            raise ValueError(f"the prompt ({inputs['input_ids'].shape[1]} tokens) does not fit the model")
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with self._torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=1, pad_token_id=pad
            )
        if not self.encoder_decoder:
            out = out[:, inputs["input_ids"].shape[1] :]
        text = self.tokenizer.decode(out[0], skip_special_tokens=True)
        return text.strip().split("\n\n")[0].strip()


@lru_cache(maxsize=2)
def _load_cached(path: str) -> TransformersAnswerGenerator:
    return TransformersAnswerGenerator(path)


def load_answer_generator(path: Path | str | None) -> AnswerGenerator | None:
    """The generator configured by ``CALLSCOPE_FAQ_GENERATOR`` (loaded once per path), or None.

    Raises:
        ConfigError: the path is set but is not a loadable local model.
    """
    if path is None or not str(path).strip():
        return None
    return _load_cached(str(Path(path).expanduser().resolve()))


def facts_for(answer: str, others: Sequence[str], limit: int = 4, max_chars: int = 400) -> tuple[str, ...]:
    """The facts a rewrite may use: the chosen answer, then other agents' answers (deduplicated)."""
    out = [answer[:max_chars]]
    for text in others:
        text = text[:max_chars]
        if len(out) >= limit:
            break
        if text and text not in out:
            out.append(text)
    return tuple(out)
