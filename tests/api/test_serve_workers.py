"""``callscope serve --workers 2``: two server processes on one port share logins and IVR calls."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [
    pytest.mark.slow,  # two processes each load the IVR's encoders
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts server processes in /proc"),
]

CALLSCOPE = [sys.executable, "-m", "callscope"]
TOKEN = "test-auth-token-0123456789abcdef"
PASSWORD = "Workers-test-pass-42"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLSCOPE_")}
    env |= {
        "CALLSCOPE_DATA_DIR": str(tmp_path / "data"),
        "CALLSCOPE_IVR_TUNE": "false",
        "CALLSCOPE_LLM": "false",
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
    subprocess.run([*CALLSCOPE, "users", "add", "lead", "--role", "admin", "--password", PASSWORD],
                   env=env, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([*CALLSCOPE, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail("callscope serve exited: " + (tmp_path / "serve.log").read_text())
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200 and len(_children(proc.pid)) >= 2:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("callscope serve --workers 2 did not start: " + (tmp_path / "serve.log").read_text())
            time.sleep(0.5)
        yield base, env, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_two_processes_share_logins_and_ivr_calls(server) -> None:  # type: ignore[no-untyped-def]
    base, env, proc = server
    workers = [pid for pid in _children(proc.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(workers) == 2

    login = httpx.post(base + "/api/auth/login", json={"username": "lead", "password": PASSWORD})
    assert login.status_code == 200, login.text
    # every request on a fresh connection: the kernel spreads them over both processes
    for _ in range(12):
        with httpx.Client(base_url=base, cookies=login.cookies) as client:
            me = client.get("/api/auth/me")
            assert me.status_code == 200 and me.json()["username"] == "lead"

    script = ["what time do you open on saturday", "no"]
    call = subprocess.run([*CALLSCOPE, "ivr", "simulate", "--url", base, *(a for text in script for a in ("--say", text)),
                           "--json"], env=env, check=True, capture_output=True, text=True)
    walked = json.loads(call.stdout)
    said = [line for turn in walked["turns"] for line in turn["said"]]
    assert any(line.startswith("Our stores are open") for line in said), said

    # each turn may have landed on either process: the call's state lives in the shared database
    with sqlite3.connect(Path(env["CALLSCOPE_DATA_DIR"]) / "callscope.db") as db:
        rows = db.execute("SELECT turn, status FROM ivr_calls WHERE call_sid = ?", (walked["call_sid"],)).fetchall()
    assert len(rows) == 1 and rows[0][0] >= len(script), rows
