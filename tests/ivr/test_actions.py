"""Dynamic actions: the order-status lookup and its data sources."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callscope.errors import ConfigError
from callscope.ivr.actions import (
    DEMO_ORDERS,
    ActionInput,
    ActionStatus,
    FileOrderSource,
    OrderStatusAction,
)


def test_demo_orders_answer_in_both_languages() -> None:
    action = OrderStatusAction(FileOrderSource(DEMO_ORDERS))
    en = action.run(ActionInput(text="it's B W five oh three eight seven two", language="en"))
    assert en.status == ActionStatus.ANSWERED and "dispatched with Parcelway" in en.message
    assert "Friday 27 November" in en.message and en.data == {"order_id": "BW503872", "order_status": "dispatched"}
    zh = action.run(ActionInput(digits="503872", language="zh"))
    assert "平板电脑" in zh.message and "11月27日" in zh.message
    assert action.run(ActionInput(text="I don't know it", language="en")).status == ActionStatus.NEED_INPUT
    missing = action.run(ActionInput(digits="000000", language="en"))
    assert missing.status == ActionStatus.NOT_FOUND and "B W 0 0 0 0 0 0" in missing.message


def test_csv_source_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,status,item_en,item_zh,eta,carrier\nBW111222,processing,kettle,水壶,2026-12-01,\n", encoding="utf-8"
    )
    source = FileOrderSource(path)
    action = OrderStatusAction(source)
    assert "kettle" in action.run(ActionInput(digits="111222")).message
    path.write_text(
        "order_id,status,item_en,item_zh,eta,carrier\nBW111222,delivered,kettle,水壶,2026-12-01,\n", encoding="utf-8"
    )
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert "was delivered on Tuesday 1 December" in action.run(ActionInput(digits="111222")).message


def test_bad_order_files_give_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "orders.json"
    bad.write_text('[{"order_id": "BW1"}]')
    with pytest.raises(ConfigError, match="row 0 needs order_id and status"):
        FileOrderSource(bad)
    with pytest.raises(ConfigError, match="cannot read it"):
        FileOrderSource(tmp_path / "none.json")
    wrong = tmp_path / "orders.xlsx"
    wrong.write_text("x")
    with pytest.raises(ConfigError, match="use a .json or .csv file"):
        FileOrderSource(wrong)


def test_source_outage_transfers_instead_of_crashing() -> None:
    class Down:
        def lookup(self, order_id: str):
            raise ConnectionError("order database unreachable")

    result = OrderStatusAction(Down()).run(ActionInput(digits="503872"))
    assert result.status == ActionStatus.TRANSFER
