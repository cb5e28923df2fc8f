"""Twilio recording callbacks: download the media, hand it to the pipeline, never lose one.

Each callback is stored by RecordingSid (a replayed callback changes nothing). The
download (``RecordingUrl + ".wav"``, Basic auth, exponential backoff) runs after the
webhook has answered; the bytes go to a :class:`RecordingSink` (the lead's store +
transcription queue). A failed download is kept with status ``failed`` and its reason,
and can be retried (``POST /ivr/recordings/{sid}/retry`` or ``callscope ivr recordings
--retry``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import transaction, utcnow
from callscope.errors import StorageError
from callscope.ivr.tables import IvrCallRow, IvrEventRow, IvrRecordingRow

log = logging.getLogger(__name__)


class RecordingSink(Protocol):
    """Where downloaded call recordings go (store + transcription -> diarization -> analysis)."""

    def accept(self, data: bytes, *, filename: str, call_id: str, metadata: dict) -> str:
        """Take the recording bytes; return the recording id."""
        ...


class FileRecordingSink:
    """A plain sink: writes ``<folder>/<filename>`` and returns the file's sha256.

    Used when no pipeline is wired in (standalone IVR); the lead's API passes the
    real sink that stores and queues the recording.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def accept(self, data: bytes, *, filename: str, call_id: str, metadata: dict) -> str:
        digest = hashlib.sha256(data).hexdigest()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / filename
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
        except OSError as exc:
            raise StorageError(f"cannot write recording to {self.folder}: {exc.strerror or exc}") from exc
        return digest


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """Download retries and where recordings may come from."""

    max_attempts: int = 4
    backoff_s: float = 0.5  # waits 0.5, 1, 2 s between attempts
    timeout_s: float = 60.0
    allowed_hosts: tuple[str, ...] = ("api.twilio.com", ".twilio.com")
    media_suffix: str = ".wav"


class DownloadError(Exception):
    """A recording could not be downloaded (the message says why)."""


class RecordingFetcher:
    """Downloads Twilio recording media with Basic auth and exponential backoff.

    Args:
        username, password: API key SID + secret, or AccountSid + auth token.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        options: retries, timeouts, allowed hosts.
        sleep: the sleep function (tests pass a no-op).
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        transport: httpx.BaseTransport | None = None,
        options: FetchOptions | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.auth = (username, password) if username and password else None
        self.transport = transport
        self.options = options or FetchOptions()
        self.sleep = sleep

    def media_url(self, recording_url: str) -> str:
        """``RecordingUrl`` + ".wav" (checked: https and a Twilio host)."""
        parts = urlsplit(recording_url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https":
            raise DownloadError(f"recording URL must be https, got {recording_url!r}")
        if not any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.options.allowed_hosts):
            raise DownloadError(f"recording URL host {host!r} is not a Twilio host")
        suffix = self.options.media_suffix
        return recording_url if recording_url.endswith(suffix) else recording_url + suffix

    def fetch(self, recording_url: str) -> tuple[bytes, int]:
        """Download the media; returns (bytes, attempts used).

        Raises:
            DownloadError: after the last attempt, or at once for a permanent error (401/403).
        """
        url = self.media_url(recording_url)
        opts = self.options
        last = "no attempt made"
        with httpx.Client(transport=self.transport, timeout=opts.timeout_s, follow_redirects=True) as client:
            for attempt in range(1, opts.max_attempts + 1):
                try:
                    resp = client.get(url, auth=self.auth)
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if resp.status_code == 200 and resp.content:
                        return resp.content, attempt
                    last = f"HTTP {resp.status_code}" + (" (empty body)" if resp.status_code == 200 else "")
                    if resp.status_code in (401, 403):
                        raise DownloadError(
                            f"{last}: Twilio refused the credentials; set CALLSCOPE_TWILIO_API_KEY_SID/"
                            "CALLSCOPE_TWILIO_API_KEY_SECRET (or CALLSCOPE_TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"
                        )
                if attempt < opts.max_attempts:
                    (self.sleep or time.sleep)(opts.backoff_s * 2 ** (attempt - 1))
        raise DownloadError(f"download failed after {opts.max_attempts} attempts: {last}")


_SID_MAX = 64  # the width of the SID columns


def record_callback(session: Session, form: dict[str, str]) -> tuple[IvrRecordingRow | None, bool]:
    """Store a recording-status callback; returns (row, should_download).

    Idempotent: a RecordingSid seen before is not downloaded again unless it failed.
    ``absent``/``failed`` statuses and recordings of callers who opted out are stored
    as ``skipped`` (with the reason) and not downloaded.
    """
    sid = (form.get("RecordingSid") or "").strip()
    if not sid or len(sid) > _SID_MAX:  # Twilio SIDs are 34 characters
        if sid:
            log.warning("ignoring a recording callback with a %d-character RecordingSid", len(sid))
        return None, False
    call_sid = (form.get("CallSid") or "").strip()[:_SID_MAX]
    status = (form.get("RecordingStatus") or "completed").lower()
    row = session.get(IvrRecordingRow, sid)
    now = utcnow()
    if row is None:
        row = IvrRecordingRow(
            recording_sid=sid,
            call_sid=call_sid,
            url=form.get("RecordingUrl", ""),
            status="pending",
            attempts=0,
            created_at=now,
            updated_at=now,
            meta={},
        )
        session.add(row)
    elif row.status in ("done", "downloading", "skipped") or (row.status == "pending" and status == "completed"):
        session.add(
            IvrEventRow(
                call_sid=call_sid or row.call_sid,
                at=now,
                kind="recording_replayed",
                data={"recording_sid": sid, "status": row.status},
            )
        )
        return row, False
    row.url = form.get("RecordingUrl") or row.url
    meta = {
        k: form[k]
        for k in (
            "RecordingStatus",
            "RecordingDuration",
            "RecordingChannels",
            "RecordingSource",
            "RecordingStartTime",
            "ErrorCode",
            "AccountSid",
        )
        if form.get(k)
    }
    row.meta = {**(row.meta or {}), **meta}
    try:
        row.duration_s = float(form["RecordingDuration"]) if form.get("RecordingDuration") else None
        row.channels = int(form["RecordingChannels"]) if form.get("RecordingChannels") else None
    except ValueError:
        pass
    call = session.get(IvrCallRow, call_sid) if call_sid else None
    reason = None
    if status != "completed":
        reason = f"recording status {status}" + (f" (error {form['ErrorCode']})" if form.get("ErrorCode") else "")
    elif call is not None and call.record_opt_out:
        reason = "caller opted out of recording"
    elif not row.url:
        reason = "callback has no RecordingUrl"
    row.updated_at = now
    if reason:
        row.status = "skipped"
        row.error = reason
        session.add(
            IvrEventRow(
                call_sid=call_sid, at=now, kind="recording_skipped", data={"recording_sid": sid, "reason": reason}
            )
        )
        return row, False
    row.status = "pending"
    session.add(IvrEventRow(call_sid=call_sid, at=now, kind="recording_received", data={"recording_sid": sid}))
    return row, True


def download_recording(
    factory: sessionmaker[Session], recording_sid: str, fetcher: RecordingFetcher, sink: RecordingSink
) -> IvrRecordingRow | None:
    """Download one stored recording and hand it to ``sink``; the row ends ``done`` or ``failed``.

    Never raises for download or sink errors: they are stored on the row (and logged).
    """
    with transaction(factory) as session:
        row = session.get(IvrRecordingRow, recording_sid)
        if row is None or row.status in ("done", "skipped"):
            return row
        row.status = "downloading"
        row.updated_at = utcnow()
        url, call_sid, meta = row.url, row.call_sid, dict(row.meta or {})
    status, error, recording_id, attempts = "failed", None, None, 0
    try:
        data, attempts = fetcher.fetch(url)
        metadata: dict[str, Any] = {"source": "twilio", "recording_sid": recording_sid, "call_sid": call_sid, **meta}
        call_data = _call_metadata(factory, call_sid)
        metadata.update(call_data)
        recording_id = sink.accept(
            data, filename=f"{call_sid or 'call'}_{recording_sid}.wav", call_id=call_sid, metadata=metadata
        )
        status = "done"
    except DownloadError as exc:
        error = str(exc)
        attempts = attempts or fetcher.options.max_attempts
    except Exception as exc:  # the sink failed: keep the row retryable
        log.exception("recording %s: the sink failed", recording_sid)
        error = f"storing the recording failed: {exc}"
    with transaction(factory) as session:
        row = session.get(IvrRecordingRow, recording_sid)
        if row is None:
            return None
        row.status = status
        row.error = error
        row.recording_id = recording_id
        row.attempts = (row.attempts or 0) + attempts
        row.updated_at = utcnow()
        session.add(
            IvrEventRow(
                call_sid=call_sid,
                at=utcnow(),
                kind=f"recording_{status}",
                data={"recording_sid": recording_sid, "error": error, "recording_id": recording_id},
            )
        )
    if status == "failed":
        log.error(
            "recording %s of call %s not downloaded: %s (retry: callscope ivr recordings --retry)",
            recording_sid,
            call_sid,
            error,
        )
    return row


def _call_metadata(factory: sessionmaker[Session], call_sid: str) -> dict[str, Any]:
    if not call_sid:
        return {}
    with transaction(factory) as session:
        call = session.get(IvrCallRow, call_sid)
        if call is None:
            return {}
        return {
            "language": call.language,
            "from": call.from_number,
            "to": call.to_number,
            "intent": call.intent,
            "transfer_reason": call.transfer_reason,
            "channel_roles": ["caller", "agent"],
        }


def retry_failed(
    factory: sessionmaker[Session], fetcher: RecordingFetcher, sink: RecordingSink, recording_sid: str | None = None
) -> list[IvrRecordingRow]:
    """Retry failed (or stuck pending) downloads; all of them, or one by RecordingSid."""
    with transaction(factory) as session:
        query = select(IvrRecordingRow.recording_sid).where(IvrRecordingRow.status.in_(("failed", "pending")))
        if recording_sid:
            query = select(IvrRecordingRow.recording_sid).where(IvrRecordingRow.recording_sid == recording_sid)
        sids = list(session.scalars(query))
    out = []
    for sid in sids:
        with transaction(factory) as session:
            row = session.get(IvrRecordingRow, sid)
            if row is not None and row.status in ("failed", "downloading", "pending"):
                row.status = "pending"
        result = download_recording(factory, sid, fetcher, sink)
        if result is not None:
            out.append(result)
    return out
