"""The optional local generator for FAQ answers: grounding checks, fallback to the
extractive answer, provenance in the draft and the DB, and real (tiny, offline-built)
transformers models through the same plumbing. Nothing here measures answer quality."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from callscope.analysis.answer_generator import (
    RewriteRequest,
    build_prompt,
    grounding_problem,
    load_answer_generator,
    numbers_in,
    rewrite_answer,
)
from callscope.analysis.faq import FaqOptions, draft_faqs, entries_from_json, export_faqs, faq_to_dict
from callscope.analysis.issues import mine_issues
from callscope.db import session_factory
from callscope.domain import AnswerMethod
from callscope.errors import ConfigError
from callscope.insights.faq_review import FaqRepository

EN = RewriteRequest(
    question="What time do you open on Sunday?",
    extractive="On Sundays our stores are open from 10 a.m. until 5 p.m.",
    facts=("On Sundays our stores are open from 10 a.m. until 5 p.m.", "The Market Street store closes at 9 p.m."),
    language="en",
)
ZH = RewriteRequest(
    question="你们的营业厅周日几点开门？",
    extractive="周日我们的营业厅上午十点开门，下午五点关门。",
    facts=("周日我们的营业厅上午十点开门，下午五点关门。",),
    language="zh",
)


@pytest.mark.parametrize(
    ("request_", "text"),
    [
        (EN, "Our stores are open on Sundays from 10 a.m. to 5 p.m."),
        (EN, "On Sundays, stores open at ten a.m. and close at five p.m."),  # number words = digits
        (ZH, "营业厅周日上午10点开门，下午5点关门。"),
    ],
)
def test_grounded_rewrites_pass(request_: RewriteRequest, text: str) -> None:
    assert grounding_problem(text, request_) is None


@pytest.mark.parametrize(
    ("request_", "text", "reason"),
    [
        (EN, "", "empty"),
        (EN, "Our stores are open on Sundays from 8 a.m. to 5 p.m.", "numbers the agents did not say: 8"),
        (EN, "Our stores are not open on Sundays.", "negation"),
        (EN, "Sunday opening is by appointment only, book online through our app.", "words come from"),
        (EN, "周日上午十点开门。", "not in English"),
        (EN, "Question: what time? Answer: 10 a.m.", "repeats the prompt"),
        (EN, "On Sundays our stores are open from 10 a.m. until 5 p.m. " * 3, "longer"),
        (ZH, "营业厅周日全天24小时营业。", "numbers the agents did not say: 24"),
        (ZH, "周日营业厅不开门。", "negation"),
        (ZH, "Our stores open at 10 a.m. on Sundays.", "not in Chinese"),
    ],
)
def test_ungrounded_rewrites_are_rejected(request_: RewriteRequest, text: str, reason: str) -> None:
    problem = grounding_problem(text, request_)
    assert problem is not None and reason in problem


def test_numbers_are_compared_across_digits_words_and_chinese_numerals() -> None:
    assert numbers_in("two hundred homes, thirty days, 10 a.m.") == {200, 30, 10}
    assert numbers_in("三十天内，一百二十元，上午十点") == {30, 120, 10}
    assert numbers_in("请等一下") == set()  # 一 alone is a word, not a number


def test_prompt_holds_the_question_and_only_the_facts() -> None:
    instruction, body = build_prompt(ZH)
    assert "只使用给出的事实" in instruction
    assert body.startswith("问题：你们的营业厅周日几点开门？") and body.endswith("回答：")
    assert body.count("\n- ") == len(ZH.facts)


class FirstSentence:
    """A stand-in generator that shortens the answer to its first sentence (grounded)."""

    name = "first-sentence"

    def rewrite(self, request: RewriteRequest) -> str:
        return re.split(r"(?<=[.!?。！？])\s*", request.extractive.strip())[0]


class Inventing:
    """A stand-in generator that adds a promise nobody made."""

    name = "inventing"

    def rewrite(self, request: RewriteRequest) -> str:
        if request.language == "zh":
            return request.extractive + "九十天内全额退款。"
        return request.extractive + " You get a full refund within 90 days."


class Crashing:
    name = "crashing"

    def rewrite(self, request: RewriteRequest) -> str:
        raise RuntimeError("out of memory")


@pytest.fixture(scope="module")
def extractive(records, mined):  # type: ignore[no-untyped-def]
    return draft_faqs(records, mined)


def test_without_a_generator_answers_are_extractive_and_say_so(extractive) -> None:  # type: ignore[no-untyped-def]
    for draft in extractive:
        assert set(draft.answer_sources) == set(draft.answers)
        for lang, source in draft.answer_sources.items():
            assert source.method == AnswerMethod.EXTRACTIVE and source.generator is None
            assert source.extractive == draft.answers[lang] and source.call_id in draft.evidence_calls


def test_a_grounded_rewrite_is_used_and_the_extractive_answer_kept(records, mined, extractive) -> None:  # type: ignore[no-untyped-def]
    drafts = draft_faqs(records, mined, generator=FirstSentence())
    assert [d.id for d in drafts] == [d.id for d in extractive]
    generated = 0
    for draft, before in zip(drafts, extractive, strict=True):
        for lang, answer in draft.answers.items():
            source = draft.answer_sources[lang]
            if before.answer_sources[lang].call_id == source.call_id:
                # the source stays, for review and fallback (the extractive-only run may have
                # replaced an answer below the quality gate by another call's: compared per call)
                assert source.extractive == before.answers[lang]
            if source.method == AnswerMethod.GENERATED:
                generated += 1
                assert source.generator == "first-sentence" and source.rejected is None
                assert answer != source.extractive and source.extractive.startswith(answer)
            else:
                assert answer == source.extractive
    assert generated >= 2  # the multi-sentence answers were shortened


@pytest.mark.parametrize(("generator", "reason"), [(Inventing(), "numbers"), (Crashing(), "generator failed")])
def test_unfaithful_or_failing_generators_fall_back_to_extractive(records, mined, extractive, generator, reason) -> None:  # type: ignore[no-untyped-def]
    drafts = draft_faqs(records, mined, generator=generator)
    for draft, before in zip(drafts, extractive, strict=True):
        assert draft.answers == before.answers
        for source in draft.answer_sources.values():
            assert source.method == AnswerMethod.EXTRACTIVE
            assert source.generator == generator.name and reason in (source.rejected or "")


def test_answer_sources_survive_the_db_json_and_markdown(db_engine, records, mined, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drafts = draft_faqs(records, mined, generator=FirstSentence())
    repo = FaqRepository(session_factory(db_engine))
    repo.save_drafts(drafts)
    stored = {e.id: e for e in repo.entries()}
    for draft in drafts:
        assert stored[draft.id].answer_sources == draft.answer_sources
    again = entries_from_json(export_faqs(drafts, "json"))
    assert [e.answer_sources for e in again] == [d.answer_sources for d in drafts]
    assert "Rewritten by first-sentence from what the agent said" in export_faqs(drafts, "md")
    assert json.loads(json.dumps(faq_to_dict(drafts[0])))["answer_sources"]


def test_generator_setting_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="CALLSCOPE_FAQ_GENERATOR=.*no such folder"):
        load_answer_generator(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no config.json"):
        load_answer_generator(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="CALLSCOPE_FAQ_GENERATOR"):  # broken model, or transformers missing
        load_answer_generator(tmp_path)
    assert load_answer_generator(None) is None and load_answer_generator("") is None
    with pytest.raises(ConfigError, match="no such folder"):
        draft_faqs([], mine_issues([]), FaqOptions(generator=tmp_path / "missing"))
    from callscope.settings import Settings

    monkeypatch.setenv("CALLSCOPE_FAQ_GENERATOR", str(tmp_path))
    assert Settings().faq_generator == tmp_path


def test_rewrite_answer_without_generator_is_the_identity() -> None:
    text, source = rewrite_answer(None, EN, call_id="c1")
    assert text == EN.extractive and source.method == AnswerMethod.EXTRACTIVE and source.call_id == "c1"


# ------------------------------------------------------- real transformers models


def _tiny_tokenizer(texts: list[str]):  # type: ignore[no-untyped-def]
    """A word-level tokenizer (CJK characters one by one) trained on ``texts``: no download."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(), pre_tokenizers.Split(Regex("[\u4e00-\u9fff]"), behavior="isolated")]
    )
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[BOS]", "[EOS]"]))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]"
    )


def _prompt(request: RewriteRequest) -> str:
    instruction, body = build_prompt(request)
    return f"{instruction}\n{body}"


def _corpus() -> list[str]:
    return [_prompt(EN), _prompt(ZH), "Our stores are open on Sundays from 10 a.m. to 5 p.m."]


@pytest.fixture
def tiny_t5(tmp_path: Path) -> Path:
    transformers = pytest.importorskip("transformers")
    tokenizer = _tiny_tokenizer(_corpus())
    config = transformers.T5Config(
        vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16, num_layers=1, num_heads=2,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    path = tmp_path / "tiny-t5"
    transformers.T5ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _tiny_gpt2(path: Path, *, memorise: RewriteRequest | None = None, answer: str = "") -> Path:
    import torch
    import transformers

    tokenizer = _tiny_tokenizer(_corpus())
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=2, n_head=2,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config)
    if memorise is not None:  # a few steps on one prompt -> answer pair, to exercise the accept path
        ids = tokenizer(_prompt(memorise) + " " + answer, return_tensors="pt")["input_ids"]
        ids = torch.cat([ids, torch.tensor([[tokenizer.eos_token_id]])], dim=1)
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(80):
            loss = model(input_ids=ids, labels=ids).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow
def test_random_seq2seq_and_causal_models_run_and_fall_back(tiny_t5: Path, tmp_path: Path) -> None:
    causal = _tiny_gpt2(tmp_path / "tiny-gpt2")
    for path in (tiny_t5, causal):
        generator = load_answer_generator(path)
        assert generator is load_answer_generator(path)  # loaded once
        raw = generator.rewrite(EN)
        assert isinstance(raw, str)
        text, source = rewrite_answer(generator, EN, call_id="s_en_01")
        # random weights produce noise: it must not pass the grounding check
        assert text == EN.extractive and source.method == AnswerMethod.EXTRACTIVE
        assert source.generator == path.name and source.rejected


@pytest.mark.slow
def test_a_model_that_says_a_grounded_answer_is_used(tmp_path: Path, records, mined) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("transformers")
    target = "Our stores are open on Sundays from 10 a.m. to 5 p.m."
    path = _tiny_gpt2(tmp_path / "parrot", memorise=EN, answer=target)
    generator = load_answer_generator(path)
    assert generator.rewrite(EN) == target
    text, source = rewrite_answer(generator, EN)
    assert text == target and source.method == AnswerMethod.GENERATED and source.extractive == EN.extractive
    # through draft_faqs with the setting's path: other answers fall back, nothing is lost
    drafts = draft_faqs(records, mined, FaqOptions(generator=path))
    assert all(d.answers and set(d.answer_sources) == set(d.answers) for d in drafts)
    assert all(s.generator == "parrot" for d in drafts for s in d.answer_sources.values())
