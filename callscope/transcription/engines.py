"""Whisper inference engines behind one interface.

An engine turns windows of 16 kHz mono speech (at most 30 s each, already cut by VAD)
into :class:`RawSegment` lists with window-relative times. Everything around it (VAD,
channels, language choice, time mapping, guards) lives in the transcriber, so both
engines give the same kind of output.

* :class:`FasterWhisperEngine`: CTranslate2 (int8 by default). Windows are encoded and
  decoded in batches; a window whose decode looks broken (too repetitive, too
  improbable) is decoded again with Whisper's temperature fallback.
* :class:`OpenAIWhisperEngine`: the reference openai-whisper implementation (fp32,
  fed numpy audio, so no ffmpeg binary is needed).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from callscope.errors import ConfigError, ModelError
from callscope.transcription.checkpoints import build_openai_model, read_openai_checkpoint

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WINDOW_S = 30.0
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


@dataclass(slots=True)
class RawWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass(slots=True)
class RawSegment:
    """A segment as decoded, with times relative to its window."""

    start: float
    end: float
    text: str
    words: list[RawWord] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    temperature: float = 0.0


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """Decoding settings shared by the engines."""

    beam_size: int = 1
    best_of: int = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    word_timestamps: bool = True
    initial_prompt: str | None = None  # used for every language when set
    language_prompts: tuple[tuple[str, str], ...] = ()  # (language, prompt) used when initial_prompt is None
    languages: tuple[str, ...] = ()  # what detection may choose; empty = any
    batch_size: int = 8

    def prompt_for(self, language: str) -> str | None:
        return self.initial_prompt or dict(self.language_prompts).get(language)


@dataclass(slots=True)
class Decoded:
    """An engine's output for a list of windows."""

    segments: list[list[RawSegment]]  # one list per window
    language: str
    language_probability: float | None = None  # None when the language was given


class WhisperEngine(Protocol):
    """What the transcriber needs from an engine."""

    name: str
    multilingual: bool

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Language code -> probability for (up to) 30 s of 16 kHz mono audio."""
        ...

    def transcribe_windows(
        self, windows: Sequence[np.ndarray], language: str | None, options: DecodeOptions
    ) -> Decoded:
        """Decode windows (16 kHz mono float32, <= 30 s each); detect the language when ``None``."""
        ...


def pick_language(weighted: list[tuple[dict[str, float], float]], allowed: tuple[str, ...]) -> tuple[str, float]:
    """The most probable allowed language over several windows (weights: speech length).

    Raises:
        ConfigError: none of ``allowed`` is a language the model knows.
    """
    totals: dict[str, float] = {}
    for probs, weight in weighted:
        for code, prob in probs.items():
            if not allowed or code in allowed:
                totals[code] = totals.get(code, 0.0) + prob * weight
    if not totals:
        raise ConfigError(
            f"none of the configured languages {list(allowed)} is known to this Whisper model; "
            "set CALLSCOPE_LANGUAGES (e.g. en,zh) or pass --language"
        )
    language = max(totals, key=lambda c: totals[c])
    total = sum(totals.values())
    return language, (totals[language] / total if total > 0 else 0.0)


def compression_ratio(text: str) -> float:
    """gzip ratio of the UTF-8 text, as Whisper computes it (high = repetitive)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


# ------------------------------------------------------------------ faster-whisper


class FasterWhisperEngine:
    """CTranslate2 Whisper through faster-whisper's model, batched over VAD windows."""

    name = "faster-whisper"

    def __init__(self, ct2_dir: Path, *, compute_type: str = "int8", cpu_threads: int = 2) -> None:
        """Load the model once.

        Raises:
            ModelError: the folder cannot be loaded by CTranslate2.
        """
        from faster_whisper import WhisperModel

        try:
            self.model = WhisperModel(str(ct2_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(
                f"{ct2_dir}: CTranslate2 cannot load this Whisper model ({str(exc)[:200]}); "
                "re-run `callscope models install` or point --model at a complete model folder"
            ) from exc
        self.multilingual = bool(self.model.model.is_multilingual)
        self._fe = self.model.feature_extractor

    def _features(self, audio: np.ndarray) -> tuple[np.ndarray, int]:
        from faster_whisper.audio import pad_or_trim

        features = self._fe(audio.astype(np.float32, copy=False))
        content_frames = min(features.shape[-1] - 1, self._fe.nb_max_frames)
        return pad_or_trim(features[:, :content_frames]), content_frames

    def _encode(self, features: list[np.ndarray]) -> Any:
        return self.model.encode(np.ascontiguousarray(np.stack(features)))

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        if not self.multilingual:
            return {"en": 1.0}
        features, _ = self._features(audio[: int(WINDOW_S * SAMPLE_RATE)])
        result = self.model.model.detect_language(self._encode([features]))[0]
        return {token[2:-2]: float(prob) for token, prob in result}

    def transcribe_windows(
        self, windows: Sequence[np.ndarray], language: str | None, options: DecodeOptions
    ) -> Decoded:
        out: list[list[RawSegment]] = []
        probability: float | None = None
        step = max(1, options.batch_size)
        for first in range(0, len(windows), step):
            feats = [self._features(w) for w in windows[first : first + step]]
            encoder_output = self._encode([f for f, _ in feats])
            if language is None:
                if self.multilingual:
                    detected = self.model.model.detect_language(encoder_output)
                    weighted = [({t[2:-2]: float(p) for t, p in res}, frames) for res, (_, frames) in zip(detected, feats, strict=True)]
                    language, probability = pick_language(weighted, options.languages)
                else:
                    language, probability = "en", 1.0
            out.extend(self._decode_batch(feats, encoder_output, language, options))
        return Decoded(out, language or "en", probability)

    def _prompt(self, language: str, options: DecodeOptions) -> tuple[Any, list[int], list[int]]:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        tokenizer = Tokenizer(self.model.hf_tokenizer, self.multilingual, task="transcribe", language=language)
        text = options.prompt_for(language)
        previous = tokenizer.encode(" " + text.strip()) if text else []
        prompt = self.model.get_prompt(tokenizer, previous, without_timestamps=False)
        return tokenizer, prompt, list(get_suppressed_tokens(tokenizer, [-1]))

    def _generate(self, encoder_output: Any, n: int, prompt: list[int], suppress: list[int], temperature: float, options: DecodeOptions) -> list[Any]:
        if temperature > 0:
            kwargs: dict[str, Any] = {
                "beam_size": 1,
                "num_hypotheses": options.best_of,
                "sampling_topk": 0,
                "sampling_temperature": temperature,
            }
        else:
            kwargs = {"beam_size": options.beam_size, "patience": 1.0}
        return self.model.model.generate(
            encoder_output,
            [list(prompt) for _ in range(n)],
            length_penalty=1.0,
            max_length=self.model.max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=suppress,
            max_initial_timestamp_index=50,
            **kwargs,
        )

    @staticmethod
    def _scored(result: Any, tokenizer: Any) -> tuple[list[int], float, float, float]:
        tokens = list(result.sequences_ids[0])
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = tokenizer.decode(tokens).strip()
        return tokens, float(avg_logprob), float(result.no_speech_prob), compression_ratio(text)

    def _decode_batch(
        self,
        feats: list[tuple[np.ndarray, int]],
        encoder_output: Any,
        language: str,
        options: DecodeOptions,
    ) -> list[list[RawSegment]]:
        tokenizer, prompt, suppress = self._prompt(language, options)
        results = self._generate(encoder_output, len(feats), prompt, suppress, options.temperatures[0], options)
        decoded = [self._scored(r, tokenizer) for r in results]
        temps = [options.temperatures[0]] * len(feats)
        pending = [i for i, d in enumerate(decoded) if _needs_fallback(d[1], d[2], d[3], options)]
        if pending and len(options.temperatures) > 1:
            self._fall_back(pending, decoded, temps, encoder_output, prompt, suppress, tokenizer, options)

        segments_per_window: list[list[dict]] = []
        for (tokens, avg_logprob, no_speech, ratio), (_, frames) in zip(decoded, feats, strict=True):
            duration = frames / self._fe.sampling_rate * self._fe.hop_length
            segments_per_window.append(split_by_timestamps(tokens, tokenizer.timestamp_begin, tokenizer.eot, duration))

        if options.word_timestamps:
            self._add_words(segments_per_window, encoder_output, [f for _, f in feats], tokenizer)

        out: list[list[RawSegment]] = []
        for segs, (tokens, avg_logprob, no_speech, _), temperature in zip(segments_per_window, decoded, temps, strict=True):
            window_segments = []
            for seg in segs:
                text = tokenizer.decode(seg["tokens"])
                words = [RawWord(float(w["start"]), float(w["end"]), w["word"], float(w["probability"])) for w in seg.get("words", [])]
                window_segments.append(
                    RawSegment(
                        start=float(seg["start"]),
                        end=float(seg["end"]),
                        text=text,
                        words=words,
                        avg_logprob=avg_logprob,
                        no_speech_prob=no_speech,
                        compression_ratio=compression_ratio(text.strip()),
                        temperature=temperature,
                    )
                )
            out.append(window_segments)
        return out

    def _fall_back(
        self,
        pending: list[int],
        decoded: list[tuple[list[int], float, float, float]],
        temps: list[float],
        encoder_output: Any,
        prompt: list[int],
        suppress: list[int],
        tokenizer: Any,
        options: DecodeOptions,
    ) -> None:
        """Whisper's temperature fallback for the windows whose decode looks broken, in place.

        All failing windows are re-decoded together at each temperature (one batched
        call instead of one per window); a window leaves the batch as soon as a decode
        passes. When none passes: the most probable non-repetitive one, as Whisper does.
        """
        import ctranslate2

        encoded = np.asarray(encoder_output)
        candidates = {i: [(*decoded[i], temps[i])] for i in pending}
        for temperature in options.temperatures[1:]:
            if not pending:
                break
            batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(encoded[pending]))
            results = self._generate(batch, len(pending), prompt, suppress, temperature, options)
            still = []
            for i, result in zip(pending, results, strict=True):
                scored = self._scored(result, tokenizer)
                candidates[i].append((*scored, temperature))
                if _needs_fallback(scored[1], scored[2], scored[3], options):
                    still.append(i)
                else:
                    decoded[i], temps[i] = scored, temperature
            pending = still
        for i in pending:
            chosen = _best_candidate(candidates[i], lambda c: c[3], lambda c: c[1], options)
            decoded[i], temps[i] = chosen[:4], chosen[4]
        log.debug("temperature fallback: %d window(s) re-decoded", len(candidates))

    def _add_words(self, segments_per_window: list[list[dict]], encoder_output: Any, frames: list[int], tokenizer: Any) -> None:
        import ctranslate2

        with_text = [i for i, segs in enumerate(segments_per_window) if any(s["tokens"] for s in segs)]
        if not with_text:
            return
        if len(with_text) != len(segments_per_window):
            encoded = np.asarray(encoder_output)
            encoder_output = ctranslate2.StorageView.from_array(np.ascontiguousarray(encoded[with_text]))
        selected = [[s for s in segments_per_window[i]] for i in with_text]
        for segs in selected:
            for s in segs:
                s["seek"] = 0
        self.model.add_word_timestamps(
            selected,
            tokenizer,
            encoder_output,
            [frames[i] for i in with_text],
            PREPEND_PUNCTUATIONS,
            APPEND_PUNCTUATIONS,
            0.0,
        )


_C = TypeVar("_C")


def _best_candidate(
    candidates: Sequence[_C], ratio: Callable[[_C], float], avg_logprob: Callable[[_C], float], options: DecodeOptions
) -> _C:
    """The decode to keep when no temperature passed: the most probable of the non-repetitive
    ones (of all of them when each repeats itself), as Whisper does."""
    good = [c for c in candidates if ratio(c) <= options.compression_ratio_threshold] or list(candidates)
    return max(good, key=avg_logprob)


def _needs_fallback(avg_logprob: float, no_speech: float, ratio: float, options: DecodeOptions) -> bool:
    if no_speech > options.no_speech_threshold and avg_logprob < options.log_prob_threshold:
        return False  # silence: nothing better to find
    return ratio > options.compression_ratio_threshold or avg_logprob < options.log_prob_threshold


def split_by_timestamps(tokens: list[int], timestamp_begin: int, eot: int, duration: float) -> list[dict]:
    """Cut a timestamped token sequence into segments (window-relative seconds).

    Whisper writes ``<|t0|> text <|t1|><|t1|> text <|t2|>``; a trailing segment without a
    closing timestamp (audio cut mid-sentence) ends at ``duration`` instead of being lost.
    """
    segments: list[dict] = []
    start: float | None = None
    last_end = 0.0
    text_tokens: list[int] = []
    for token in tokens:
        if token >= timestamp_begin:
            t = min((token - timestamp_begin) * 0.02, duration)
            if start is None or not text_tokens:
                start = t
            else:
                segments.append({"start": start, "end": max(t, start), "tokens": text_tokens})
                last_end, start, text_tokens = t, None, []
        elif token < eot:
            if start is None:
                start = last_end
            text_tokens.append(token)
    if text_tokens:
        begin = start if start is not None else last_end
        segments.append({"start": begin, "end": max(duration, begin), "tokens": text_tokens})
    return segments


# ------------------------------------------------------------------ openai-whisper


class OpenAIWhisperEngine:
    """The reference openai-whisper implementation, fp32 on CPU."""

    name = "openai-whisper"

    def __init__(self, checkpoint: Path, *, cpu_threads: int = 2) -> None:
        """Load the checkpoint once (never by size name: that would download).

        Raises:
            ModelError: the checkpoint is invalid.
        """
        import torch

        if cpu_threads > 0:
            torch.set_num_threads(cpu_threads)
        self.model = build_openai_model(read_openai_checkpoint(checkpoint))
        self.multilingual = bool(self.model.is_multilingual)

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        import torch
        import whisper

        if not self.multilingual:
            return {"en": 1.0}
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio.astype(np.float32)), n_mels=self.model.dims.n_mels)
        with torch.inference_mode():
            _, probs = self.model.detect_language(mel)
        return {k: float(v) for k, v in probs.items()}

    def _mel(self, audio: np.ndarray) -> tuple[Any, int]:
        """Log-mel of one window as ``whisper.transcribe`` computes it (zero-padded features)."""
        import whisper
        from whisper.audio import N_FRAMES, N_SAMPLES

        mel = whisper.log_mel_spectrogram(audio.astype(np.float32), self.model.dims.n_mels, padding=N_SAMPLES)
        frames = min(mel.shape[-1] - N_FRAMES, N_FRAMES)
        return whisper.pad_or_trim(mel[:, :frames], N_FRAMES), frames

    def _decode(self, mels: Any, language: str, options: DecodeOptions, temperature: float) -> list[Any]:
        import torch
        from whisper.decoding import DecodingOptions, decode

        sampling = temperature > 0
        decoding = DecodingOptions(
            task="transcribe",
            language=language,
            temperature=temperature,
            beam_size=None if sampling or options.beam_size <= 1 else options.beam_size,
            best_of=options.best_of if sampling else None,
            prompt=options.prompt_for(language),
            without_timestamps=False,
            fp16=False,
        )
        with torch.inference_mode():
            return list(decode(self.model, mels, decoding))

    def transcribe_windows(
        self, windows: Sequence[np.ndarray], language: str | None, options: DecodeOptions
    ) -> Decoded:
        """Same algorithm as :class:`FasterWhisperEngine`: one pass per window, fallback per window."""
        import torch
        from whisper.timing import add_word_timestamps
        from whisper.tokenizer import get_tokenizer

        probability: float | None = None
        if language is None:
            if self.multilingual:
                longest = sorted(windows, key=len, reverse=True)[:2]
                weighted = [(self.language_probabilities(w), float(len(w))) for w in longest]
                language, probability = pick_language(weighted, options.languages)
            else:
                language, probability = "en", 1.0
        tokenizer = get_tokenizer(
            self.model.is_multilingual, num_languages=self.model.num_languages, language=language, task="transcribe"
        )
        out: list[list[RawSegment]] = []
        step = max(1, options.batch_size)
        for first in range(0, len(windows), step):
            mels_frames = [self._mel(w) for w in windows[first : first + step]]
            mels = torch.stack([m for m, _ in mels_frames])
            results = self._decode(mels, language, options, options.temperatures[0])
            temps = [options.temperatures[0]] * len(results)
            for i, result in enumerate(results):
                if not _needs_fallback(result.avg_logprob, result.no_speech_prob, result.compression_ratio, options):
                    continue
                candidates = [(result, temps[i])]
                chosen = None
                for temperature in options.temperatures[1:]:
                    retry = self._decode(mels[i : i + 1], language, options, temperature)[0]
                    candidates.append((retry, temperature))
                    if not _needs_fallback(retry.avg_logprob, retry.no_speech_prob, retry.compression_ratio, options):
                        chosen = candidates[-1]
                        break
                if chosen is None:
                    chosen = _best_candidate(
                        candidates, lambda c: c[0].compression_ratio, lambda c: c[0].avg_logprob, options
                    )
                results[i], temps[i] = chosen
            for (mel, frames), result, temperature in zip(mels_frames, results, temps, strict=True):
                duration = frames * 160 / SAMPLE_RATE
                segments = split_by_timestamps(list(result.tokens), tokenizer.timestamp_begin, tokenizer.eot, duration)
                for segment in segments:
                    segment["seek"] = 0
                if options.word_timestamps and any(seg["tokens"] for seg in segments):
                    add_word_timestamps(
                        segments=segments,
                        model=self.model,
                        tokenizer=tokenizer,
                        mel=mel,
                        num_frames=frames,
                        prepend_punctuations=PREPEND_PUNCTUATIONS,
                        append_punctuations=APPEND_PUNCTUATIONS,
                        last_speech_timestamp=0.0,
                    )
                window_segments = []
                for seg in segments:
                    text = tokenizer.decode([t for t in seg["tokens"] if t < tokenizer.eot])
                    window_segments.append(
                        RawSegment(
                            start=float(seg["start"]),
                            end=float(seg["end"]),
                            text=text,
                            words=[
                                RawWord(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                                for w in seg.get("words", [])
                            ],
                            avg_logprob=float(result.avg_logprob),
                            no_speech_prob=float(result.no_speech_prob),
                            compression_ratio=compression_ratio(text.strip()),
                            temperature=float(temperature),
                        )
                    )
                out.append(window_segments)
        return Decoded(out, language, probability)
