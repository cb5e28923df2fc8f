"""``callscope demo`` — the command `make demo` runs — end to end on the bundled samples.

The run is the ``demo_run`` fixture's (tests/conftest.py), the one tests/test_closed_loop.py
checks in detail; here: the command's output and what it leaves behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callscope.domain import FaqStatus
from callscope.insights.faq_review import FaqRepository
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base


@pytest.mark.slow
def test_demo_runs_the_closed_loop_and_leaves_the_shipped_kb_alone(demo_run) -> None:  # type: ignore[no-untyped-def]
    assert demo_run.exit_code == 0, demo_run.output
    out = demo_run.output
    for step in ("1/6", "2/6", "3/6", "4/6", "5/6", "6/6"):
        assert f"\n{step}  " in "\n" + out
    before, after = map(int, re.search(r"containment before → after: (\d+)% → (\d+)%", out).groups())
    assert after > before
    summary = out.rstrip().splitlines()[-1]
    assert summary == demo_run.result.summary()
    assert re.fullmatch(r"(\d+) calls, 0 failed, \d+ issues, \d+ FAQ drafts; IVR containment "
                        rf"{before}% → {after}% after publishing \S+", summary), summary
    published = re.search(r"after publishing (\S+)", summary).group(1)
    assert published == demo_run.result.loop.fix.entry.id
    demo_kb = Path(demo_run.ctx.settings.data_dir) / "demo" / "knowledge_base.yaml"
    assert demo_run.result.kb_path == demo_kb
    entries = {e.id: e for e in load_knowledge_base(demo_kb).entries}
    assert published in entries and entries[published].answers.get("en")
    assert BUNDLED_KB.read_bytes() == demo_run.shipped_kb  # the packaged KB is never written
    # every draft the quality gate failed says so where the demo lists it
    for draft in FaqRepository(demo_run.ctx.sessions).entries(FaqStatus.DRAFT):
        lang = "en" if draft.questions.get("en") else "zh"
        source = draft.answer_sources.get(lang)
        failed = source is not None and source.quality_passed is False and source.quality is not None
        line = next(line for line in out.splitlines() if f"FAQ draft {draft.id}:" in line)
        answer_line = out.splitlines()[out.splitlines().index(line) + 1]
        assert ("below the quality gate" in answer_line) == failed, answer_line


@pytest.mark.parametrize("with_callers", [True, False])
def test_demo_without_calls_says_which_folder_and_option(settings, tmp_path: Path, with_callers: bool) -> None:  # type: ignore[no-untyped-def]
    from callscope.closed_loop import default_callers_file
    from callscope.context import Context
    from callscope.demo import run_demo
    from callscope.errors import ConfigError

    empty = tmp_path / "calls"
    empty.mkdir()
    callers = default_callers_file() if with_callers else tmp_path / "no-callers.yaml"
    ctx = Context(settings)
    try:
        with pytest.raises(ConfigError, match=r"no audio files in .*calls; pass --calls DIR"):
            run_demo(ctx, empty, lambda _: None, callers_file=callers)
    finally:
        ctx.close()
