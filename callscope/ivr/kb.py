"""The knowledge base: a human-editable YAML or JSON file of FAQ entries.

The file is a list of entries (or a mapping with an ``entries`` list)::

    - id: opening_hours
      questions:
        en: ["What are your opening hours?", "When do you open on Sunday?"]
        zh: ["你们几点开门？"]
      answers:
        en: "Monday to Saturday 9 a.m. to 8 p.m. ..."
        zh: "周一到周六早上九点到晚上八点……"
      tags: [hours, stores]
      action: null            # or the name of a dynamic action, e.g. order_status
      self_service: true      # optional: status, evidence_calls, frequency, updated_at

Unknown fields are kept as they are (``KnowledgeBase.extra``) and written back by
:func:`save_knowledge_base`, so people can annotate entries freely.
:class:`KnowledgeBaseSource` reloads the file when it changes on disk, so a running
IVR picks up edits and published FAQ entries without a restart.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from callscope.domain import FaqEntry, FaqStatus
from callscope.errors import ConfigError, StorageError
from callscope.storage_io import atomic_write_text

log = logging.getLogger(__name__)

BUNDLED_KB = Path(__file__).parent / "data" / "brightwave_kb.yaml"
"""The demo knowledge base shipped with callscope (retailer "Brightwave", en + zh)."""

KNOWN_FIELDS = (
    "id",
    "questions",
    "answers",
    "tags",
    "action",
    "self_service",
    "status",
    "evidence_calls",
    "frequency",
    "updated_at",
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")
_YAML_SUFFIXES = (".yaml", ".yml")
_JSON_SUFFIXES = (".json",)


@dataclass(slots=True)
class KnowledgeBase:
    """The FAQ entries of one knowledge-base file, in file order.

    ``extra`` keeps, per entry id, the fields callscope does not know, and ``header``
    the top-level keys other than ``entries`` (when the file is a mapping), so a
    load/save round trip loses nothing a person wrote.
    """

    entries: list[FaqEntry] = field(default_factory=list)
    path: Path | None = None
    mtime_ns: int | None = None
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    header: dict[str, Any] | None = None

    def get(self, entry_id: str) -> FaqEntry | None:
        """The entry with this id, or None."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        return None

    def __getitem__(self, entry_id: str) -> FaqEntry:
        entry = self.get(entry_id)
        if entry is None:
            raise KeyError(entry_id)
        return entry

    def __contains__(self, entry_id: object) -> bool:
        return any(e.id == entry_id for e in self.entries)

    def __iter__(self) -> Iterator[FaqEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    @property
    def languages(self) -> list[str]:
        """Every language that has at least one question, sorted."""
        return sorted({lang for e in self.entries for lang, qs in e.questions.items() if qs})

    def label(self, entry: FaqEntry, language: str) -> str:
        """A short topic name for menus: the entry's ``label`` field, else its first question."""
        label = self.extra.get(entry.id, {}).get("label")
        if isinstance(label, dict) and isinstance(label.get(language), str) and label[language].strip():
            return label[language].strip()
        if isinstance(label, str) and label.strip():
            return label.strip()
        questions = entry.questions.get(language) or next((qs for qs in entry.questions.values() if qs), ())
        return questions[0].rstrip("?？。.!！ ") if questions else entry.id.replace("_", " ")

    def menu(self, limit: int = 5) -> list[FaqEntry]:
        """The top ``limit`` published entries for a keypad menu: most frequent first, then file order."""
        published = [e for e in self.entries if e.status == FaqStatus.PUBLISHED]
        order = {e.id: i for i, e in enumerate(published)}
        return sorted(published, key=lambda e: (-e.frequency, order[e.id]))[:limit]

    def upsert(self, entry: FaqEntry) -> None:
        """Replace the entry with the same id, or append it."""
        for i, old in enumerate(self.entries):
            if old.id == entry.id:
                self.entries[i] = entry
                return
        self.entries.append(entry)

    def remove(self, entry_id: str) -> bool:
        """Drop the entry with this id; True if it existed."""
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.id != entry_id]
        self.extra.pop(entry_id, None)
        return len(self.entries) != before


# ---------------------------------------------------------------------------- load


def load_knowledge_base(path: Path, *, known_actions: Collection[str] | None = None) -> KnowledgeBase:
    """Read and validate a knowledge-base file (``.yaml``/``.yml`` or ``.json``).

    Args:
        path: the file.
        known_actions: when given, an entry's ``action`` must be one of these names.

    Returns:
        The knowledge base, with ``path`` and ``mtime_ns`` set.

    Raises:
        ConfigError: the file is missing, unreadable, not YAML/JSON, or an entry is
            invalid; the message names the file, the entry (index and id) and the fix.
    """
    path = Path(path)
    try:
        stat = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"knowledge base {path}: file not found (set CALLSCOPE_KB_PATH or pass --kb FILE)") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"knowledge base {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"knowledge base {path}: cannot read it ({exc.strerror or exc})") from exc
    kb = parse_knowledge_base(text, source=path, fmt=_format_of(path), known_actions=known_actions)
    kb.path = path
    kb.mtime_ns = stat.st_mtime_ns
    return kb


def parse_knowledge_base(
    text: str,
    *,
    source: Path | str = "<string>",
    fmt: str = "yaml",
    known_actions: Collection[str] | None = None,
) -> KnowledgeBase:
    """Parse knowledge-base text (``fmt`` "yaml" or "json") into a validated KnowledgeBase.

    Raises:
        ConfigError: syntax error or invalid entry (the message names ``source``).
    """
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"knowledge base {source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = ""
            mark = getattr(exc, "problem_mark", None)
            if mark is not None:
                where = f" at line {mark.line + 1}, column {mark.column + 1}"
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"knowledge base {source}: invalid YAML{where}: {problem}") from exc

    header: dict[str, Any] | None = None
    if data is None:
        raise ConfigError(f"knowledge base {source}: the file is empty; write [] for a knowledge base with no entries")
    if isinstance(data, dict):
        if "entries" not in data:
            raise ConfigError(
                f"knowledge base {source}: expected a list of entries (or a mapping with an 'entries' list), "
                f"found a mapping with keys {sorted(map(str, data))}"
            )
        header = {k: v for k, v in data.items() if k != "entries"}
        data = data["entries"]
        if data is None:
            data = []
    if not isinstance(data, list):
        raise ConfigError(f"knowledge base {source}: expected a list of entries, found {_kind(data)}")

    kb = KnowledgeBase(header=header)
    seen: dict[str, int] = {}
    for index, raw in enumerate(data):
        entry, extra = _parse_entry(raw, index, source, known_actions)
        if entry.id in seen:
            raise ConfigError(
                f"knowledge base {source}: entry {index} (id {entry.id!r}): duplicate id, "
                f"also used by entry {seen[entry.id]}; ids must be unique"
            )
        seen[entry.id] = index
        kb.entries.append(entry)
        if extra:
            kb.extra[entry.id] = extra
    return kb


def _parse_entry(
    raw: Any, index: int, source: Path | str, known_actions: Collection[str] | None
) -> tuple[FaqEntry, dict[str, Any]]:
    def fail(entry_id: str | None, problem: str) -> ConfigError:
        who = f"entry {index}" + (f" (id {entry_id!r})" if entry_id else "")
        return ConfigError(f"knowledge base {source}: {who}: {problem}")

    if not isinstance(raw, dict):
        raise fail(None, f"expected a mapping with id/questions/answers, found {_kind(raw)}")
    entry_id = raw.get("id")
    if entry_id is None or (isinstance(entry_id, str) and not entry_id.strip()):
        raise fail(None, "'id' is missing; give every entry a unique id such as 'opening_hours'")
    if isinstance(entry_id, bool) or not isinstance(entry_id, (str, int)):
        raise fail(None, f"'id' must be a string, found {_kind(entry_id)}")
    entry_id = str(entry_id).strip()
    if not _ID.match(entry_id):
        raise fail(entry_id, "'id' may only hold letters, digits, '_', '-' and '.' (at most 128 characters)")

    questions = _parse_questions(raw.get("questions"), lambda p: fail(entry_id, p))
    answers = _parse_answers(raw.get("answers"), lambda p: fail(entry_id, p))
    if not any(questions.values()):
        raise fail(
            entry_id, "'questions' has no question in any language; add at least one, e.g. questions: {en: [...]}"
        )
    missing = [lang for lang, qs in questions.items() if qs and not answers.get(lang)]
    if missing:
        raise fail(
            entry_id,
            f"no answer for language {', '.join(missing)}; every language with questions needs answers.{missing[0]}",
        )

    tags_raw = raw.get("tags") or []
    if isinstance(tags_raw, str):
        tags_raw = [tags_raw]
    if not isinstance(tags_raw, list) or not all(isinstance(t, (str, int)) for t in tags_raw):
        raise fail(entry_id, "'tags' must be a list of strings")
    tags = tuple(str(t).strip() for t in tags_raw if str(t).strip())

    action = raw.get("action")
    if action is not None:
        if not isinstance(action, str) or not action.strip():
            raise fail(entry_id, f"'action' must be the name of an action (a string) or null, found {_kind(action)}")
        action = action.strip()
        if known_actions is not None and action not in known_actions:
            raise fail(
                entry_id, f"unknown action {action!r}; known actions: {', '.join(sorted(known_actions)) or 'none'}"
            )

    self_service = raw.get("self_service", True)
    if not isinstance(self_service, bool):
        raise fail(entry_id, f"'self_service' must be true or false, found {self_service!r}")

    status_raw = raw.get("status", FaqStatus.PUBLISHED.value)
    try:
        status = FaqStatus(str(status_raw).lower())
    except ValueError:
        raise fail(entry_id, f"'status' {status_raw!r} is not one of {', '.join(s.value for s in FaqStatus)}") from None

    evidence = raw.get("evidence_calls") or []
    if not isinstance(evidence, list) or not all(isinstance(c, (str, int)) for c in evidence):
        raise fail(entry_id, "'evidence_calls' must be a list of call ids")

    frequency = raw.get("frequency", 0)
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 0:
        raise fail(entry_id, f"'frequency' must be a whole number >= 0, found {frequency!r}")

    updated_at = _parse_datetime(raw.get("updated_at"), lambda p: fail(entry_id, p))

    extra = {k: v for k, v in raw.items() if k not in KNOWN_FIELDS}
    entry = FaqEntry(
        id=entry_id,
        questions=questions,
        answers=answers,
        tags=tags,
        action=action,
        self_service=self_service,
        status=status,
        evidence_calls=tuple(str(c) for c in evidence),
        frequency=frequency,
        updated_at=updated_at,
    )
    return entry, extra


def _parse_questions(raw: Any, fail: Any) -> dict[str, tuple[str, ...]]:
    if raw is None:
        raise fail('\'questions\' is missing; add questions: {en: ["..."], zh: ["..."]}')
    if not isinstance(raw, dict):
        raise fail(f"'questions' must map a language (en, zh) to a list of questions, found {_kind(raw)}")
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in raw.items():
        lang = _check_lang(lang, "questions", fail)
        if items is None:
            items = []
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list):
            raise fail(f"questions.{lang} must be a list of strings, found {_kind(items)}")
        cleaned: list[str] = []
        for i, q in enumerate(items):
            if not isinstance(q, (str, int, float)) or isinstance(q, bool):
                raise fail(f"questions.{lang}[{i}] must be a string, found {_kind(q)}")
            q = " ".join(str(q).split())
            if not q:
                raise fail(f"questions.{lang}[{i}] is empty; remove it or write the question")
            if q not in cleaned:
                cleaned.append(q)
        out[lang] = tuple(cleaned)
    return out


def _parse_answers(raw: Any, fail: Any) -> dict[str, str]:
    if raw is None:
        raise fail('\'answers\' is missing; add answers: {en: "...", zh: "..."}')
    if not isinstance(raw, dict):
        raise fail(f"'answers' must map a language (en, zh) to the answer text, found {_kind(raw)}")
    out: dict[str, str] = {}
    for lang, text in raw.items():
        lang = _check_lang(lang, "answers", fail)
        if text is None:
            continue
        if not isinstance(text, str):
            raise fail(f"answers.{lang} must be a string, found {_kind(text)}")
        text = text.strip()
        if not text:
            raise fail(f"answers.{lang} is empty; write the answer or remove the language")
        out[lang] = text
    return out


def _check_lang(lang: Any, where: str, fail: Any) -> str:
    if not isinstance(lang, str) or not _LANG.match(lang):
        raise fail(f"{where} has key {lang!r}, which is not a language code such as 'en' or 'zh'")
    return lang


def _parse_datetime(raw: Any, fail: Any) -> datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise fail(f"'updated_at' must be an ISO date-time such as 2026-01-31T12:00:00, found {raw!r}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"[:80]


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _JSON_SUFFIXES:
        return "json"
    if suffix in _YAML_SUFFIXES:
        return "yaml"
    raise ConfigError(f"knowledge base {path}: unknown file type {suffix or '(none)'}; use .yaml, .yml or .json")


# ---------------------------------------------------------------------------- save


def entry_to_dict(entry: FaqEntry, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The file shape of one entry (defaults left out to keep the file readable)."""
    out: dict[str, Any] = {
        "id": entry.id,
        "questions": {lang: list(qs) for lang, qs in entry.questions.items()},
        "answers": dict(entry.answers),
    }
    if entry.tags:
        out["tags"] = list(entry.tags)
    if entry.action:
        out["action"] = entry.action
    if not entry.self_service:
        out["self_service"] = False
    if entry.status != FaqStatus.PUBLISHED:
        out["status"] = entry.status.value
    if entry.evidence_calls:
        out["evidence_calls"] = list(entry.evidence_calls)
    if entry.frequency:
        out["frequency"] = entry.frequency
    if entry.updated_at is not None:
        out["updated_at"] = entry.updated_at.isoformat(timespec="seconds")
    for key, value in (extra or {}).items():
        out.setdefault(key, value)
    return out


def _leading_comments(path: Path) -> str:
    """The comment block at the top of an existing YAML file (kept on save; other comments are not)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        return ""
    head: list[str] = []
    for line in lines:
        if line.startswith("#") or (head and not line.strip()):
            head.append(line)
        else:
            break
    return "".join(head).rstrip() + "\n\n" if head else ""


def save_knowledge_base(kb: KnowledgeBase, path: Path) -> None:
    """Write ``kb`` to ``path`` atomically, as YAML or JSON by the file extension.

    The data are validated first (by parsing what is about to be written), written
    to a temporary file in the same folder and renamed over ``path``, so readers see
    either the old or the new file, never half of one.

    Raises:
        ConfigError: unknown extension, an invalid entry, or the folder is not writable.
    """
    path = Path(path)
    fmt = _format_of(path)
    entries = [entry_to_dict(e, kb.extra.get(e.id)) for e in kb.entries]
    data: Any = {**kb.header, "entries": entries} if kb.header is not None else entries
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)
        text = _leading_comments(path) + text
    parse_knowledge_base(text, source=path, fmt=fmt)  # never write a file we could not load back

    try:
        atomic_write_text(path, text)
    except StorageError as exc:
        raise ConfigError(f"knowledge base {path}: {exc}") from exc
    kb.path = path
    kb.mtime_ns = path.stat().st_mtime_ns
    log.info("saved knowledge base %s (%d entries)", path, len(kb.entries))


# -------------------------------------------------------------------------- reload


class KnowledgeBaseSource:
    """A knowledge-base file that reloads itself when it changes on disk.

    ``current()`` checks the file's modification time (at most every
    ``check_interval_s``) and re-reads it when it changed. A file that became invalid
    is reported in the log and the last good version stays in service, so an editing
    mistake never takes the IVR down. ``version`` increases on every reload.
    """

    def __init__(
        self,
        path: Path,
        *,
        known_actions: Collection[str] | None = None,
        check_interval_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.known_actions = known_actions
        self.check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._kb = load_knowledge_base(self.path, known_actions=known_actions)
        self._signature = self._stat_signature()
        self._checked_at = time.monotonic()
        self.version = 1
        self.last_error: str | None = None
        self.on_reload: list[Callable[[KnowledgeBase], object]] = []  # called with each new version

    def _notify(self, kb: KnowledgeBase) -> None:
        for callback in self.on_reload:
            try:
                callback(kb)
            except Exception:  # noqa: BLE001 - a listener must never take the IVR down
                log.exception("knowledge-base reload listener failed")

    def _stat_signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self) -> KnowledgeBase:
        """The knowledge base, reloaded first if the file changed."""
        now = time.monotonic()
        if now - self._checked_at < self.check_interval_s:
            return self._kb
        self.reload_if_changed()
        return self._kb

    def reload_if_changed(self) -> bool:
        """Re-read the file if its mtime/size changed; True when a new version was loaded."""
        with self._lock:
            self._checked_at = time.monotonic()
            signature = self._stat_signature()
            if signature is None or signature == self._signature:
                if signature is None and self.last_error is None:
                    self.last_error = f"knowledge base {self.path}: file disappeared; keeping the last loaded version"
                    log.error(self.last_error)
                return False
            try:
                kb = load_knowledge_base(self.path, known_actions=self.known_actions)
            except ConfigError as exc:
                if str(exc) != self.last_error:
                    log.error("%s (keeping the last good version)", exc)
                self.last_error = str(exc)
                self._signature = signature
                return False
            self._kb = kb
            self._signature = signature
            self.version += 1
            self.last_error = None
            log.info("reloaded knowledge base %s (%d entries, version %d)", self.path, len(kb), self.version)
        self._notify(kb)
        return True

    def save(self, kb: KnowledgeBase) -> None:
        """Write ``kb`` to the file and serve it right away."""
        with self._lock:
            save_knowledge_base(kb, self.path)
            self._kb = load_knowledge_base(self.path, known_actions=self.known_actions)
            self._signature = self._stat_signature()
            self.version += 1
            self.last_error = None
