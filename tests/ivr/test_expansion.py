"""Knowledge-base expansion with the local LLM: cached beside the KB, keyed by entry,
regenerated only for changed entries, skipped cleanly without a model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from callscope.ivr.expansion import cache_path, expand_knowledge_base, load_paraphrases, paraphrase
from callscope.ivr.kb import load_knowledge_base, save_knowledge_base
from callscope.ivr.matcher import IntentMatcher


class FakeLLM:
    """Stands in for callscope.llm.LocalLLM: rewrites by a fixed table, counts calls."""

    label = "fake.gguf"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def chat(self, messages, *, max_tokens=64, temperature=0.0) -> str:
        prompt = messages[-1]["content"]
        self.calls.append(prompt)
        if "问题：" in prompt:
            return "1. 这个怎么弄\n2. English line\n3. 麻烦问下这个"
        question = prompt.rsplit("Question:", 1)[1].strip()
        return f"- {question}\n- could you tell me about {question.lower()}\nHere are some:\n- gizmo wizardry {len(self.calls)}"


def test_paraphrase_keeps_only_clean_lines_in_the_right_language() -> None:
    llm = FakeLLM()
    assert paraphrase(llm, "Where is my order?", "en") == [
        "could you tell me about where is my order?",
        "gizmo wizardry 1",
    ]
    assert paraphrase(llm, "我的订单呢", "zh") == ["这个怎么弄", "麻烦问下这个"]


def test_expansion_is_cached_beside_the_kb_and_regenerated_per_entry(kb_file: Path) -> None:
    kb = load_knowledge_base(kb_file)
    llm = FakeLLM()
    report = expand_knowledge_base(kb, llm=llm)
    assert report.skipped is None and len(report.generated) == len(kb.entries) and not report.kept
    data = json.loads(cache_path(kb_file).read_text(encoding="utf-8"))
    assert data["model"] == "fake.gguf" and "Qwen2.5" in data["model_provenance"]
    assert set(data["entries"]) == set(kb.ids)
    assert all(item["hash"] and item["generated_at"] for item in data["entries"].values())

    # edit one entry: only it is regenerated
    entry = kb["returns"]
    kb.upsert(dataclasses.replace(entry, questions={**entry.questions, "en": (*entry.questions["en"], "Can I send it back?")}))
    save_knowledge_base(kb, kb_file)
    kb = load_knowledge_base(kb_file)
    assert "returns" not in load_paraphrases(kb)  # stale until regenerated
    n = len(llm.calls)
    report = expand_knowledge_base(kb, llm=llm)
    assert report.generated == ["returns"] and len(report.kept) == len(kb.entries) - 1
    assert len(llm.calls) - n == sum(len(qs) for qs in kb["returns"].questions.values())
    assert any("gizmo wizardry" in t for t in load_paraphrases(kb)["returns"])


def test_matcher_indexes_cached_paraphrases(kb_file: Path, encoder) -> None:
    kb = load_knowledge_base(kb_file)
    expand_knowledge_base(kb, llm=FakeLLM())
    matcher = IntentMatcher(kb, encoder=encoder)
    index = matcher._current_index()
    assert index.paraphrase_count > 0
    hit = matcher.match("gizmo wizardry", "en").best
    assert hit is not None and hit.matched_question.startswith("gizmo wizardry")


def test_without_a_model_nothing_is_written(kb_file: Path, monkeypatch) -> None:
    monkeypatch.setattr("callscope.llm.get_llm", lambda: None)  # looked up at call time
    kb = load_knowledge_base(kb_file)
    report = expand_knowledge_base(kb)
    assert report.skipped and "no local LLM" in report.skipped
    assert not cache_path(kb_file).exists()
    assert load_paraphrases(kb) == {}


def test_reloaded_kb_is_expanded_in_the_background(kb_file: Path, monkeypatch) -> None:
    import os

    from callscope.ivr.expansion import expand_in_background
    from callscope.ivr.kb import KnowledgeBaseSource

    llm = FakeLLM()
    monkeypatch.setattr("callscope.llm.get_llm", lambda: llm)
    source = KnowledgeBaseSource(kb_file, check_interval_s=0.0)
    threads = []
    source.on_reload.append(lambda kb: threads.append(expand_in_background(kb)))
    kb = source.current()
    kb["returns"]  # noqa: B018 - present
    save_knowledge_base(kb, kb_file)
    st = kb_file.stat()
    os.utime(kb_file, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert source.reload_if_changed()
    assert threads and threads[0] is not None
    threads[0].join(timeout=30)
    assert set(load_paraphrases(source.current())) == set(source.current().ids)
    assert expand_in_background(source.current()) is None  # nothing stale: no thread
