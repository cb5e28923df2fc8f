"""``callscope demo``: the product's story on the bundled sample calls, end to end.

Simulated callers phone the IVR → the calls it transfers are recorded and arrive through
Twilio's recording callback → the pipeline processes them with the other sample calls →
common issues and FAQ drafts → the most frequent question the knowledge base lacks is
approved and published → a second round of callers is answered by the IVR, and
containment rises. The CLI then serves the dashboard.

The story is :func:`callscope.closed_loop.run_closed_loop` (the one ``tests/test_closed_loop.py``
checks); this module adds the demo's own knowledge base, the summary line and the
dashboard's first user.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from callscope.auth import service as auth
from callscope.closed_loop import (
    CallsReport,
    LoopResult,
    Steps,
    analyse_calls,
    default_callers_file,
    load_callers,
    run_closed_loop,
)
from callscope.context import Context
from callscope.errors import ConfigError, StorageError
from callscope.ivr.kb import BUNDLED_KB
from callscope.ivr.security import local_auth_token
from callscope.jobs.queue import InProcessQueue
from callscope.recordings.paths import expand_audio_paths

log = logging.getLogger(__name__)

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo ran: the closed loop (None without caller scripts) and its calls."""

    calls: CallsReport
    loop: LoopResult | None = None
    kb_path: Path | None = None  # the demo's knowledge base (the IVR serves it)

    def summary(self) -> str:
        """The closing line: ``12 calls, 0 failed, 3 issues, 4 FAQ drafts; IVR containment 33% → 100% …``."""
        calls = self.calls
        text = f"{len(calls.recordings)} calls, {calls.failed} failed, {calls.issues} issues, {calls.drafts} FAQ drafts"
        if self.loop is not None:
            fix = self.loop.fix
            text += (f"; IVR containment {self.loop.before.containment:.0%} → {self.loop.after.containment:.0%}"
                     f"{' after publishing ' + fix.entry.id if fix else ''}")
        return text


def demo_kb_path(ctx: Context) -> Path:
    """The demo's own knowledge base: ``<data_dir>/demo/knowledge_base.yaml``."""
    return Path(ctx.settings.data_dir) / "demo" / "knowledge_base.yaml"


def demo_ivr_token(ctx: Context) -> str:
    """The auth token the served demo IVR validates signatures with: the configured
    TWILIO_AUTH_TOKEN, else a random one kept in the data dir (so ``callscope ivr simulate
    --url`` can sign its requests)."""
    return local_auth_token(ctx.settings)


def reset_demo_kb(ctx: Context) -> Path:
    """Start the demo from the knowledge base as shipped (a fresh copy in the data dir;
    the packaged file and ``CALLSCOPE_KB_PATH`` are never written)."""
    target = demo_kb_path(ctx)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BUNDLED_KB, target)
    except OSError as exc:
        raise StorageError(f"cannot write the demo knowledge base {target}: {exc.strerror or exc}") from exc
    return target


def run_demo(ctx: Context, calls_dir: Path, echo: Echo, *, callers_file: Path | None = None) -> DemoResult:
    """The closed loop (:func:`callscope.closed_loop.run_closed_loop`) on a fresh copy of
    the shipped knowledge base, with ``calls_dir``'s calls processed alongside the
    recordings the IVR delivers. Without the caller scripts (an installed package has no
    ``samples/``) only the calls are processed, with their issues and FAQ drafts.
    """

    callers_file = callers_file or default_callers_file()
    queue = InProcessQueue(ctx, workers=1)
    try:
        if callers_file.is_file():
            kb_path = reset_demo_kb(ctx)
            loop = run_closed_loop(ctx, kb_path, queue, callers=load_callers(callers_file), calls_dir=calls_dir,
                                   echo=echo)
            return DemoResult(loop.calls, loop, kb_path)
        files, _ = expand_audio_paths([calls_dir])
        if not files:
            raise ConfigError(f"no audio files in {calls_dir}; pass --calls DIR")
        echo(f"(no caller scripts at {callers_file}: the IVR part of the demo is skipped)")
        return DemoResult(analyse_calls(ctx, queue, files, calls_dir, Steps(3, echo)))
    finally:
        queue.shutdown()


def ensure_demo_admin(ctx: Context, echo: Echo) -> None:
    """Create an ``admin`` user with a fresh password when the database has no user."""

    if auth.list_users(ctx):
        return
    password = secrets.token_urlsafe(9)
    auth.create_user(ctx, "admin", password, auth.UserRole.parse("admin"))
    echo(f"dashboard login: admin / {password}")
