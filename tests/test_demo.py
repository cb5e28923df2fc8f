"""``callscope demo`` — the command `make demo` runs — end to end on the bundled samples."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import app
from callscope.ivr import deps
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "calls"


@pytest.mark.slow
def test_demo_runs_the_closed_loop_and_leaves_the_shipped_kb_alone(local_llm, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As `make demo` runs it: with the bundled LLM (topic names, the FAQ quality gate)."""
    calls = tmp_path / "calls"  # two of the calls the IVR's transferred callers lead to (the rest arrive by callback)
    calls.mkdir()
    for name in ("s_en_09.stereo.wav", "s_en_05.stereo.wav"):
        shutil.copy(SAMPLES / name, calls / name)
    shipped = BUNDLED_KB.read_bytes()

    try:
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--calls", str(calls)])
    finally:
        deps.reset_caches()

    assert result.exit_code == 0, result.output
    out = result.stdout
    for step in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6"):
        assert f"\n{step}" in "\n" + out
    before, after = map(int, re.search(r"containment before → after: (\d+)% → (\d+)%", out).groups())
    assert after > before
    published = re.search(r"after publishing (\S+)", out).group(1)
    demo_kb = Path(settings.data_dir) / "demo" / "knowledge_base.yaml"
    entries = {e.id: e for e in load_knowledge_base(demo_kb).entries}
    assert published in entries and entries[published].answers.get("en")
    assert BUNDLED_KB.read_bytes() == shipped  # the packaged KB is never written
    assert "0 failed" in out
