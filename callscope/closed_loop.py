"""The closed loop, end to end: IVR calls → agent-call recordings → pipeline → common
issues → FAQ approved and published → the IVR answers what it used to transfer.

Everything runs through the real product: the web app (:func:`callscope.api.app.create_app`)
with Twilio signature validation, the IVR flow followed TwiML by TwiML by the
:class:`~callscope.ivr.simulator.CallSimulator`, Twilio's recording-status callback
(the real handler downloads the media with Basic auth, stores it and queues the
pipeline), issue mining, FAQ drafting, gap analysis against the knowledge base, the
review workflow (draft → approved → published) and the IVR's knowledge-base hot reload.
The only stand-in is Twilio's media API: :class:`RecordingMediaServer` serves the
recordings from files, on the fetcher's transport hook.

:func:`run_closed_loop` is the six-step story; ``callscope demo`` (:mod:`callscope.demo`)
runs it and adds the presentation (the summary line, the dashboard), and
``tests/test_closed_loop.py`` checks that same run.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callscope.analysis.faq import kb_gaps
from callscope.analysis.faq_quality import entry_quality
from callscope.analysis.issues import MinedIssue
from callscope.api.app import ApiOptions, create_app
from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.domain import FaqEntry, FaqStatus, Issue, JobState
from callscope.errors import ConfigError, InvalidAudioError, JobError
from callscope.insights.faq_review import FaqRepository
from callscope.insights.mining import issue_report, mine_call_issues
from callscope.insights.tables import FaqDraftRow
from callscope.ivr import deps
from callscope.ivr.kb import load_knowledge_base
from callscope.ivr.metrics import compute_ivr_metrics
from callscope.ivr.prompts import PROMPTS
from callscope.ivr.security import sign
from callscope.ivr.simulator import CallerInput, CallSimulator, SimTurn
from callscope.ivr.tables import IvrCallRow, IvrEventRow, IvrRecordingRow
from callscope.jobs.queue import JobQueue, wait_for_jobs
from callscope.jobs.runner import jobs_for
from callscope.recordings.audio import probe
from callscope.recordings.paths import expand_audio_paths
from callscope.recordings.tables import RecordingRow
from callscope.selfservice import loop as text_loop
from callscope.settings import Settings

log = logging.getLogger(__name__)

Echo = Callable[[str], None]

PUBLIC_BASE = "https://ivr.callscope.local"
TWILIO_API = "https://api.twilio.com/2010-04-01"


def default_samples_dir() -> Path:
    """``samples/calls`` of a source checkout."""
    return Path(__file__).resolve().parent.parent / "samples" / "calls"


def default_callers_file() -> Path:
    """``samples/ivr_callers.yaml`` of a source checkout."""
    return Path(__file__).resolve().parent.parent / "samples" / "ivr_callers.yaml"


# ------------------------------------------------------------------ caller scripts


@dataclass(frozen=True, slots=True)
class CallerScript:
    """One simulated caller: what they ask, how they rephrase, what they accept.

    Attributes:
        language: "en" or "zh".
        topic: what the caller wants (a KB entry id, or e.g. "outage"); for reports only.
        says: the question, then rephrasings tried when the IVR did not understand.
        yes_if: words that make the caller confirm the IVR's "did you mean ...?".
        recording: the agent call recorded if the IVR transfers this caller (a file name).
    """

    language: str
    topic: str
    says: tuple[str, ...]
    yes_if: tuple[str, ...] = ()
    recording: str | None = None


@dataclass(frozen=True, slots=True)
class CallerRounds:
    before: tuple[CallerScript, ...]
    after: tuple[CallerScript, ...]


def load_callers(path: Path) -> CallerRounds:
    """Read the caller scripts (YAML with ``before`` and ``after`` lists).

    Raises:
        ConfigError: the file is missing or malformed (the message names the caller).
    """
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the caller scripts {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected 'before:' and 'after:' lists of callers")

    def parse(name: str) -> tuple[CallerScript, ...]:
        items = raw.get(name)
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{path}: '{name}:' must be a non-empty list of callers")
        out = []
        for n, item in enumerate(items, start=1):
            where = f"{path}: {name} caller {n}"
            if not isinstance(item, dict):
                raise ConfigError(f"{where}: expected a mapping with language, topic and says")
            says = item.get("says")
            if isinstance(says, str):
                says = [says]
            if not isinstance(says, list) or not all(isinstance(s, str) and s.strip() for s in says) or not says:
                raise ConfigError(f"{where}: 'says' must be a question or a list of them")
            language = str(item.get("language", ""))
            if language not in ("en", "zh"):
                raise ConfigError(f"{where}: 'language' must be en or zh, got {language!r}")
            recording = item.get("recording")
            out.append(
                CallerScript(
                    language=language,
                    topic=str(item.get("topic") or "unknown"),
                    says=tuple(s.strip() for s in says),
                    yes_if=tuple(str(w).lower() for w in item.get("yes_if") or ()),
                    recording=str(recording) if recording else None,
                )
            )
        return tuple(out)

    return CallerRounds(before=parse("before"), after=parse("after"))


_CLOSING = {"en": "No, that's all, thanks.", "zh": "没有了，谢谢。"}
_YES = {"en": "Yes.", "zh": "是的。"}
_NO = {"en": "No.", "zh": "不是。"}


def _option_pattern(template: str) -> re.Pattern[str]:
    """A prompt like "For {label}, press {key}." as a pattern capturing the label and the key."""
    pattern = re.escape(template).replace(re.escape("{label}"), "(?P<label>[^.。!?！？]+?)").replace(re.escape("{key}"), r"(?P<key>\d)")
    return re.compile(pattern)


# How the IVR offers options ("For Returns and refunds, press 1." / "退货退款请按1。").
_OPTION_KEYS = {lang: _option_pattern(PROMPTS[lang]["option_key"]) for lang in PROMPTS}


class ScriptedCaller:
    """Answers each <Gather> like the scripted person would.

    At a question prompt the caller says the next of ``says`` (and presses 0 for an
    agent once they run out); at "did you mean X?" they say yes when X contains one of
    ``yes_if``; offered options ("For X, press 1. For Y, press 2. …"), they press the key
    of the first option whose name contains one of ``yes_if`` (none fits: the next of
    ``says``, then 0, as at a question); at "anything else?" they are done; they hang up
    on the survey.
    """

    def __init__(self, script: CallerScript) -> None:
        self.script = script
        self._said = 0

    def __call__(self, turn: SimTurn) -> CallerInput | None:
        step = (parse_qs(urlsplit((turn.gather or {}).get("action", "")).query).get("step") or ["ask"])[0]
        lang = self.script.language
        if step.startswith("survey"):
            return None
        if step == "more":
            return CallerInput(speech=_CLOSING[lang])
        if step == "confirm":
            heard = " ".join(text for text, _ in turn.said).lower()
            accept = any(word in heard for word in self.script.yes_if)
            return CallerInput(speech=_YES[lang] if accept else _NO[lang])
        if step == "menu":
            key = self._option_key(turn)
            if key is not None:
                return CallerInput(digits=key)
        if self._said < len(self.script.says):
            self._said += 1
            return CallerInput(speech=self.script.says[self._said - 1])
        return CallerInput(digits="0")

    def _option_key(self, turn: SimTurn) -> str | None:
        """The key of the first offered option this caller recognises as theirs."""
        for text, _ in turn.said:
            for pattern in _OPTION_KEYS.values():
                for option in pattern.finditer(text):
                    if any(word in option["label"].lower() for word in self.script.yes_if):
                        return option["key"]
        return None


# ------------------------------------------------------------------------- rounds


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How the IVR handled one simulated call (read back from the IVR's call state)."""

    script: CallerScript
    call_sid: str
    transferred: bool
    transfer_reason: str | None
    answered: tuple[str, ...]  # KB entry ids the IVR answered with (self-service)

    @property
    def contained(self) -> bool:
        return not self.transferred and bool(self.answered)


@dataclass(frozen=True, slots=True)
class RoundResult:
    name: str
    calls: tuple[CallOutcome, ...]
    containment: float  # IVR metrics' containment rate over this round's calls
    contained: int
    transferred: int
    unanswered: tuple[str, ...]  # what callers asked that the IVR could not answer

    def by_topic(self, topic: str) -> list[CallOutcome]:
        return [c for c in self.calls if c.script.topic == topic]


@dataclass(frozen=True, slots=True)
class DeliveredRecording:
    """A recording-status callback and what the real handler did with it."""

    call_sid: str
    recording_sid: str
    file: str
    status: str  # the IVR recording row's status: done, failed, ...
    recording_id: str | None
    error: str | None = None
    topic: str = ""  # what the caller wanted (the caller script's topic)


class RecordingMediaServer(httpx.BaseTransport):
    """Twilio's media API for recordings kept in files (``GET .../Recordings/RE….wav``).

    It sits on the recording fetcher's transport hook, so the real download code runs
    (URL checks, Basic auth, retries); requests with the wrong credentials get 401.
    """

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.files: dict[str, Path] = {}
        self.served: list[str] = []

    def publish(self, recording_sid: str, path: Path) -> str:
        """Make ``path`` downloadable; returns the callback's RecordingUrl (no extension)."""
        self.files[recording_sid] = Path(path)
        return f"{TWILIO_API}/Accounts/{self.account_sid}/Recordings/{recording_sid}"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        m = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Recordings/(RE[0-9a-f]+)\.wav", request.url.path)
        if request.url.host != "api.twilio.com" or m is None:
            return httpx.Response(404, text="not found")
        if request.headers.get("authorization") != self.auth or m.group(1) != self.account_sid:
            return httpx.Response(401, text="authenticate")
        path = self.files.get(m.group(2))
        if path is None or not path.is_file():
            return httpx.Response(404, text="no such recording")
        self.served.append(m.group(2))
        return httpx.Response(200, content=path.read_bytes(), headers={"Content-Type": "audio/x-wav"})


def loop_settings(settings: Settings, kb_path: Path) -> tuple[Settings, str]:
    """The settings the loop's app runs with: signature validation on, a Twilio account
    and auth token (kept when configured), and ``kb_path`` as the knowledge base."""
    token = settings.twilio_auth_token.get_secret_value() or secrets.token_hex(16)
    account = settings.twilio_account_sid or "AC" + hashlib.sha256(token.encode()).hexdigest()[:32]
    update: dict[str, Any] = {
        "kb_path": Path(kb_path),
        "twilio_auth_token": SecretStr(token),
        "twilio_account_sid": account,
        "twilio_api_key_sid": "",
        "twilio_api_key_secret": SecretStr(""),
        "twilio_validate": True,
        "public_base_url": None,
        "record_calls": True,
    }
    return settings.model_copy(update=update), token


class _DropNoUsersWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("no users yet")


class LoopIvr:
    """The web app (API + IVR webhooks) in-process, with simulated callers and Twilio.

    Use as a context manager. Recordings delivered by :meth:`deliver_recordings` are
    stored and queued on ``queue`` by the app's own recording sink.
    """

    def __init__(self, settings: Settings, kb_path: Path, queue: JobQueue) -> None:
        self.settings, self.token = loop_settings(settings, kb_path)
        self.kb_path = Path(kb_path)
        self.queue = queue
        self.media = RecordingMediaServer(self.settings.twilio_account_sid, self.token)
        self._client: Any = None
        self._round_numbers = 0

    def __enter__(self) -> LoopIvr:
        from starlette.testclient import TestClient

        app = create_app(self.settings, queue=self.queue, options=ApiOptions(warm_ivr=False))
        app.dependency_overrides[deps.get_recording_transport] = lambda: self.media
        self.app = app
        # The loop drives the webhooks with Twilio's signature, not a dashboard login: the
        # app's start-up warning about having no users yet is noise here (``serve`` keeps it).
        auth_log = logging.getLogger("callscope.auth.service")
        quiet = _DropNoUsersWarning()
        auth_log.addFilter(quiet)
        try:
            self._client = TestClient(app, base_url=PUBLIC_BASE).__enter__()
        finally:
            auth_log.removeFilter(quiet)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            self._client.__exit__(exc_type, exc, tb)
            self._client = None

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("use LoopIvr as a context manager")
        return self._client

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The app's session factory (the same database as the caller's context)."""
        return self.app.state.ctx.sessions

    def run_round(self, name: str, callers: Sequence[CallerScript]) -> RoundResult:
        """Every caller calls once (each from their own number); containment is the IVR
        metrics' rate over exactly these calls."""

        self._round_numbers += 1
        since = utcnow() - timedelta(microseconds=1)
        sids = []
        for n, script in enumerate(callers):
            sim = CallSimulator(
                self.client, PUBLIC_BASE, self.token, caller=f"+1555{self._round_numbers:02d}{n:05d}",
                agent_answers=True,
            )
            sids.append(sim.run(ScriptedCaller(script)).call_sid)
        outcomes = []
        with transaction(self.sessions) as session:
            for script, sid in zip(callers, sids, strict=True):
                call = session.get(IvrCallRow, sid)
                answered = tuple(
                    e.data.get("intent")
                    for e in session.scalars(
                        select(IvrEventRow).where(IvrEventRow.call_sid == sid, IvrEventRow.kind == "answered")
                    )
                    if e.data.get("self_service") and e.data.get("intent")
                )
                outcomes.append(
                    CallOutcome(
                        script, sid, bool(call and call.transferred), call.transfer_reason if call else None, answered
                    )
                )
            metrics = compute_ivr_metrics(session, since)
        if metrics.calls != len(sids):  # another process took calls meanwhile: count ours only
            log.warning("IVR metrics window holds %d calls, this round made %d", metrics.calls, len(sids))
        unanswered = tuple(u.text for u in metrics.unanswered if u.call_sid in set(sids))
        return RoundResult(name, tuple(outcomes), metrics.containment_rate, metrics.contained,
                           metrics.transferred, unanswered)

    def deliver_recordings(self, result: RoundResult, calls_dir: Path) -> list[DeliveredRecording]:
        """Twilio's recording-status callback (signed) for each transferred call whose
        caller has a recording; the real handler downloads, stores and queues it."""

        delivered = []
        for outcome in result.calls:
            if not outcome.transferred or not outcome.script.recording:
                continue
            path = Path(calls_dir) / outcome.script.recording
            if not path.is_file():
                raise ConfigError(f"recording {path} of a scripted caller does not exist; check the callers file")
            sid = "RE" + hashlib.sha256(f"{outcome.call_sid}:{path.name}".encode()).hexdigest()[:32]
            params = {
                "AccountSid": self.settings.twilio_account_sid,
                "CallSid": outcome.call_sid,
                "RecordingSid": sid,
                "RecordingUrl": self.media.publish(sid, path),
                "RecordingStatus": "completed",
                "RecordingDuration": str(round(_duration_s(path))),
                "RecordingChannels": "2",
                "RecordingSource": "DialVerb",
                "RecordingStartTime": utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000"),
            }
            url = PUBLIC_BASE + "/ivr/recording-status"
            resp = self.client.post(
                "/ivr/recording-status", data=params, headers={"X-Twilio-Signature": sign(url, params, self.token)}
            )
            if resp.status_code != 204:
                raise JobError(f"the recording callback for {path.name} failed: HTTP {resp.status_code}")
            with transaction(self.sessions) as session:  # the download ran after the response
                row = session.get(IvrRecordingRow, sid)
                delivered.append(
                    DeliveredRecording(
                        outcome.call_sid, sid, path.name, row.status if row else "missing",
                        row.recording_id if row else None, row.error if row else None, outcome.script.topic,
                    )
                )
        return delivered


def _duration_s(path: Path) -> float:
    try:
        return probe(path).duration_s
    except InvalidAudioError:  # the duration is informative only
        return 0.0


class Steps:
    """Numbers the story's steps as it prints them: ``3/6  <title>``."""

    def __init__(self, total: int, echo: Echo) -> None:
        self.total = total
        self.echo = echo
        self.done = 0

    def __call__(self, title: str) -> None:
        self.done += 1
        self.echo(f"{self.done}/{self.total}  {title}")


@dataclass(frozen=True, slots=True)
class CallsReport:
    """The calls the story analysed, and the issues and FAQ drafts mined from them."""

    recordings: tuple[str, ...]  # recording ids: the calls given, then the ones the IVR delivered
    processed: dict[str, str]  # recording id -> final state of the job this run waited for
    issues: int
    drafts: int

    @property
    def failed(self) -> int:
        return sum(1 for state in self.processed.values() if state == JobState.FAILED)


def analyse_calls(
    ctx: Context,
    queue: JobQueue,
    files: Sequence[Path],
    calls_dir: Path,
    step: Steps,
    *,
    delivered: Sequence[DeliveredRecording] = (),
    timeout_s: float | None = None,
) -> CallsReport:
    """Three steps of the story: store ``files`` and process them with the recordings the
    IVR delivered (waiting for their jobs through :func:`~callscope.jobs.queue.wait_for_jobs`),
    print the calls, then mine the common issues and FAQ drafts and print them.

    Calls already analysed (a re-run) are not processed again; the IVR's recordings, queued
    by the recording callback, are waited for, not queued twice.

    Raises:
        JobError: jobs still unfinished after ``timeout_s``.
    """
    echo = step.echo
    step(f"storing {len(files)} sample calls from {calls_dir}")
    recordings = [ctx.store.ingest_file(path, source="demo").recording for path in files]
    known = {r.id for r in recordings}
    with ctx.sessions() as session:  # the recordings the IVR delivered (maybe not among the files)
        twilio = list(session.scalars(select(RecordingRow.id).where(RecordingRow.source == "twilio")))
    recordings += [ctx.store.get(rid) for rid in twilio if rid not in known]
    todo = [r for r in recordings if ctx.store.get_artifact(r.id, "analysis") is None]
    echo(f"     transcribing, diarizing and analysing {len(todo)} call(s) "
         f"({sum(r.duration_s for r in todo) / 60:.1f} min of audio; {len(recordings) - len(todo)} already done)")
    started = time.perf_counter()
    todo_ids = {r.id for r in todo}
    job_ids: dict[str, str] = {}  # job id -> recording id
    for rec in recordings:
        active = [j for j in jobs_for(ctx, rec.id) if j.state in (JobState.QUEUED, JobState.RUNNING)]
        if active:  # the IVR's recordings are queued already
            job_ids[active[-1].id] = rec.id
        elif rec.id in todo_ids:
            job_ids[queue.submit(rec.id)] = rec.id
    processed: dict[str, str] = {}
    for done, job in enumerate(wait_for_jobs(ctx, job_ids, timeout_s=timeout_s), start=1):
        processed[job_ids[job.id]] = str(job.state)
        echo(f"     [{done}/{len(job_ids)}] {job.state}{' — ' + job.error if job.error else ''}")
    if job_ids:
        echo(f"     done in {time.perf_counter() - started:.0f} s")

    step("calls")
    echo(f"     {'call':<30} {'lang':<4} {'min':>4}  {'caller':<10} {'talk agent/caller':<18} reason")
    by_recording = {d.recording_id: d for d in delivered if d.recording_id}
    for rec in recordings:
        analysis = ctx.store.get_artifact(rec.id, "analysis")
        if analysis is None:
            continue
        metrics = analysis.get("metrics") or {}
        ratio = metrics.get("talk_ratio") or {}
        talk = f"{ratio.get('agent', 0):.0%} / {ratio.get('caller', 0):.0%}"
        name = recording_label(rec.original_name, call_sid=rec.call_id, delivered=by_recording.get(rec.id))
        echo(f"     {name[:30]:<30} {analysis['language']:<4} {rec.duration_s / 60:4.1f}  "
             f"{analysis['caller_emotion']:<10} {talk:<18} {_clip(analysis['reason'], 70)}")

    step("common issues and FAQ drafts (the closed loop: calls → FAQ → IVR)")
    mine_call_issues(ctx, force=True)
    report = issue_report(ctx, since=datetime(1970, 1, 1))
    for issue in report.issues:
        label = " · ".join((issue.label, *issue.other_labels))
        echo(f"     {issue.count:>2} call(s)  {label}   [{', '.join(issue.keywords[:5])}]")
    drafts = FaqRepository(ctx.sessions).entries(FaqStatus.DRAFT)
    for draft in drafts:
        lang = "en" if draft.questions.get("en") else "zh"
        question = (draft.questions.get(lang) or ("?",))[0]
        answer = draft.answers.get(lang, "")
        echo(f"     FAQ draft {draft.id}: Q: {_clip(question, 90)}")
        source = draft.answer_sources.get(lang)
        gate = ""
        if source is not None and source.quality_passed is False and source.quality is not None:
            reason = f": {source.quality_notes[0]}" if source.quality_notes else ""
            gate = f"; below the quality gate ({source.quality:.2f}){reason}"
        echo(f"        A: {_clip(answer, 100)}  "
             f"({'self-service' if draft.self_service else 'needs an agent'}, {draft.frequency} call(s){gate})")
    echo("     review, approve and publish them to the IVR knowledge base on the dashboard's Insights page")
    return CallsReport(tuple(r.id for r in recordings), processed, len(report.issues), len(drafts))


# ------------------------------------------------------------------- closing the gap


@dataclass(frozen=True, slots=True)
class GapFix:
    """The frequent question the KB lacked, and the FAQ entry published for it."""

    issue_id: str
    issue_label: str
    calls: tuple[str, ...]  # recording ids of the issue
    similarity: float | None  # best match in the KB before publishing
    entry: FaqEntry  # as published


def close_the_gap(
    ctx: Context, kb_path: Path, *, reviewer: str = "callscope demo", mine: bool = True, echo: Echo = lambda _: None
) -> GapFix | None:
    """Mine issues over the analysed calls (unless ``mine`` is False: the issues stored
    already are used), find the most frequent one the KB does not cover, approve its FAQ
    draft and publish it into ``kb_path`` (the IVR reloads it).

    Entries that came from FAQ drafts are left out of the comparison, so a re-run (the
    demo starts each run from the shipped KB) finds the same gap: an entry already
    published is reopened, approved and published again (same id: the KB is updated in
    place, never duplicated). A rejected draft, one whose calls needed an agent, or one
    below the FAQ quality gate (its answer may not be about its question) is not published.

    Returns:
        What was published, or None when no uncovered issue has a usable draft.
    """

    if mine:
        mine_call_issues(ctx, force=True)
    repo = FaqRepository(ctx.sessions)
    stored = repo.issues()
    issues = [
        MinedIssue(
            Issue(row.id, row.label, tuple(row.keywords or ()), tuple(row.members or ()),
                  tuple(row.examples or ()), row.share),
            labels=dict(row.labels or {}),
            frequency=row.frequency,
        )
        for row in stored
    ]
    kb = load_knowledge_base(kb_path)
    published_ids = {e.id for e in kb}
    with ctx.sessions() as session:
        drafts = {row.issue_id: row.id for row in session.scalars(select(FaqDraftRow)) if row.issue_id}
    gaps = kb_gaps(issues, [e for e in kb if e.id not in set(drafts.values())])
    by_id = {i.id: i for i in issues}
    for gap in sorted(gaps.uncovered, key=lambda g: -g.count):
        draft_id = drafts.get(gap.subject)
        if draft_id is None:
            continue
        entry = repo.get(draft_id)
        if entry.status == FaqStatus.REJECTED:
            echo(f"     FAQ entry {draft_id} was rejected by a reviewer; not publishing it")
            continue
        if not entry.self_service:
            echo(f"     FAQ entry {draft_id} needs an agent (the calls were not resolved by an answer); skipped")
            continue
        score, passed, reasons = entry_quality(entry)
        if not passed:
            shown = "not checked" if score is None else f"{score:.2f}"
            echo(f"     FAQ entry {draft_id} is below the quality gate ({shown}: {reasons[0]}); not publishing it")
            continue
        if entry.status == FaqStatus.PUBLISHED:
            repo.reopen(draft_id)
            entry = repo.get(draft_id)
        if entry.status == FaqStatus.DRAFT:
            repo.approve(draft_id, reviewer=reviewer)
        published = repo.publish(Path(kb_path), [draft_id], author=reviewer).entries
        again = " again" if draft_id in published_ids else ""
        log.info("published FAQ entry %s%s for issue %s", draft_id, again, gap.subject)
        return GapFix(gap.subject, gap.label, tuple(by_id[gap.subject].issue.members), gap.similarity, published[0])
    return None


# ------------------------------------------------------------------- the whole loop


@dataclass(frozen=True, slots=True)
class LoopResult:
    before: RoundResult
    delivered: tuple[DeliveredRecording, ...]
    calls: CallsReport
    fix: GapFix | None
    after: RoundResult
    texts: text_loop.TextLoop  # the same gap closed for SMS and the help center


def run_closed_loop(
    ctx: Context,
    kb_path: Path,
    queue: JobQueue,
    *,
    callers: CallerRounds | None = None,
    calls_dir: Path | None = None,
    recordings_dir: Path | None = None,
    echo: Echo = lambda _: None,
    timeout_s: float | None = None,
) -> LoopResult:
    """The six steps: round one of IVR calls → the transferred calls' recordings arrive by
    callback → they are processed with the calls in ``calls_dir`` → issues and FAQ drafts
    → the most frequent uncovered question's draft is published → round two.

    Args:
        kb_path: a writable copy of the knowledge base; the IVR serves it and the fix is
            published into it.
        callers: the simulated callers (default: ``samples/ivr_callers.yaml``).
        calls_dir: the calls processed with the delivered recordings (default: ``samples/calls``);
            issues are mined over all of them.
        recordings_dir: where the callers' agent-call recordings are (default: ``samples/calls``).
        echo: prints the story as it goes.
        timeout_s: how long to wait for the calls' processing (None: as long as it takes).

    Raises:
        ConfigError: no audio in ``calls_dir``, or a caller's recording is missing.
        JobError: processing still unfinished after ``timeout_s``.
    """
    callers = callers or load_callers(default_callers_file())
    calls_dir = calls_dir or default_samples_dir()
    files, _ = expand_audio_paths([calls_dir])
    if not files:
        raise ConfigError(f"no audio files in {calls_dir}; pass --calls DIR")
    step = Steps(6, echo)
    with LoopIvr(ctx.settings, kb_path, queue) as ivr:
        step(f"IVR, round one: {len(callers.before)} simulated callers (knowledge base as shipped: {kb_path})")
        before = ivr.run_round("before", callers.before)
        print_round(before, echo)
        texts = text_loop.text_before(ivr.client, PUBLIC_BASE, ivr.token, ivr.sessions)  # the same gap, by SMS
        delivered = ivr.deliver_recordings(before, recordings_dir or default_samples_dir())
        echo(f"     {len(delivered)} transferred call(s) recorded with the agent; "
             "Twilio's recording callback delivers each one:")
        print_delivered(delivered, echo)
        calls = analyse_calls(ctx, queue, files, calls_dir, step, delivered=delivered, timeout_s=timeout_s)
        step("closing the gap: the most frequent question the knowledge base cannot answer")
        fix = close_the_gap(ctx, kb_path, mine=False, echo=echo)  # mined by analyse_calls
        print_fix(fix, kb_path, echo)
        step(f"IVR, round two: {len(callers.after)} callers ask the same kinds of things in other words")
        after = ivr.run_round("after", callers.after)
        print_round(after, echo)
        if fix is not None:
            answered = [c for c in after.calls if fix.entry.id in c.answered]
            if answered:
                echo(f"     the IVR now answers {len(answered)} of them with {fix.entry.id}, "
                     f"e.g. \"{answered[0].script.says[0]}\"")
        print_containment(before, after, echo)
        if fix is not None:
            texts = text_loop.text_after(texts, ivr.client, PUBLIC_BASE, ivr.token, ivr.sessions, fix.entry.id)
        text_loop.print_text_loop(texts, echo)
    return LoopResult(before, tuple(delivered), calls, fix, after, texts)


# ------------------------------------------------------------------------ printing


def _outcome_text(call: CallOutcome) -> str:
    if call.transferred:
        return f"→ agent ({call.transfer_reason or 'transfer'})"
    if call.answered:
        return f"answered: {', '.join(call.answered)}"
    return "hung up without an answer"


def recording_label(
    original_name: str, *, call_sid: str | None = None, delivered: DeliveredRecording | None = None
) -> str:
    """A short name for a call in reports: the file's name without extensions; a
    recording the IVR delivered (named after its CallSid) shows the agent call's file
    and the caller's topic, or ``IVR call CA1234ab…``."""
    if delivered is not None:
        topic = f", {delivered.topic}" if delivered.topic else ""
        return f"{Path(delivered.file).name.split('.')[0]} (IVR{topic})"
    if call_sid and Path(original_name).name.startswith(call_sid):
        return f"IVR call {call_sid[:8]}…"
    return Path(original_name).name.split(".")[0]


def _columns(ch: str) -> int:
    """Terminal columns a character takes (CJK characters take two)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (:func:`_columns`), ending in "…" when cut."""
    text = " ".join(text.split())
    columns = [_columns(ch) for ch in text]
    if sum(columns) <= width:
        return text
    out, used = [], 0
    for ch, w in zip(text, columns):
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + "…"


def _fit(text: str, width: int) -> str:
    """``text`` clipped (see :func:`_clip`) and padded to ``width`` terminal columns."""
    clipped = _clip(text, width)
    used = sum(_columns(ch) for ch in clipped)
    return clipped + " " * (width - used)


def print_round(result: RoundResult, echo: Echo) -> None:
    for call in result.calls:
        echo(f"     [{call.script.language}] {_fit(call.script.says[0], 60)} {_outcome_text(call)}")
    echo(f"     IVR containment {result.containment:.0%} ({result.contained} of {len(result.calls)} calls, "
         f"{result.transferred} transferred)")


def print_delivered(delivered: Sequence[DeliveredRecording], echo: Echo) -> None:
    for d in delivered:
        rid = (d.recording_id or "-")[:12]
        topic = f", {d.topic}" if d.topic else ""
        echo(f"     recording {d.recording_sid[:10]}… of call {d.call_sid[:10]}… ({d.file}{topic}): {d.status}"
             f"{' → recording ' + rid if d.recording_id else ''}{' — ' + d.error if d.error else ''}")


def print_fix(fix: GapFix | None, kb_path: Path, echo: Echo) -> None:
    if fix is None:
        echo("     no frequent uncovered question with a self-service FAQ draft: nothing published")
        return
    entry = fix.entry
    sim = f", best KB match {fix.similarity:.2f}" if fix.similarity is not None else ""
    echo(f"     the KB does not cover \"{fix.issue_label}\" ({len(fix.calls)} calls{sim})")
    for lang in sorted(entry.questions):
        q = entry.questions[lang][0] if entry.questions[lang] else ""
        echo(f"     [{lang}] Q: {_clip(q, 90)}")
        echo(f"          A: {_clip(entry.answers.get(lang, ''), 110)}")
    echo(f"     FAQ draft {entry.id} approved (auto-approved by the demo: in production a reviewer "
         "approves it on the dashboard's Insights page)")
    echo(f"     published to {kb_path}; the IVR reloads its knowledge base without a restart")


def print_containment(before: RoundResult, after: RoundResult, echo: Echo) -> None:
    echo(f"     containment before → after: {before.containment:.0%} → {after.containment:.0%}")
