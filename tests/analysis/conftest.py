"""Fixtures shared by the analysis tests: the analysed sample calls and their mined issues."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.analysis.issues import CallRecord, IssueMiningResult, load_call_record, mine_issues


@pytest.fixture(scope="session")
def records(data_dir: Path) -> list[CallRecord]:
    """tests/data/analysis/calls/*.analysis.json (the 16 shared calls, analysed), as call records."""
    return [load_call_record(p) for p in sorted((data_dir / "analysis" / "calls").glob("*.analysis.json"))]


@pytest.fixture(scope="session")
def mined(records: list[CallRecord]) -> IssueMiningResult:
    """Issues mined from those calls with the default options (computed once per test run)."""
    return mine_issues([r.to_item() for r in records])
