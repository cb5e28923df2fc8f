"""Dynamic answers: actions a knowledge-base entry can name (``action: order_status``).

An action takes what the caller said or keyed (e.g. an order number) and returns the
sentence to speak. :class:`OrderStatusAction` looks orders up in a data source: a
JSON or CSV file (the demo file ships in ``callscope/ivr/data/demo_orders.json``) or
anything implementing :class:`OrderSource`.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from callscope.errors import ConfigError
from callscope.ivr.phrases import spoken_digits

log = logging.getLogger(__name__)

DEMO_ORDERS = Path(__file__).parent / "data" / "demo_orders.json"


class ActionStatus(StrEnum):
    ANSWERED = "answered"  # message is the answer
    NEED_INPUT = "need_input"  # message asks for (more) input
    NOT_FOUND = "not_found"  # input understood, nothing found: ask again or transfer
    TRANSFER = "transfer"  # hand over to an agent


@dataclass(frozen=True, slots=True)
class ActionResult:
    status: ActionStatus
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionInput:
    """What the caller gave for an action turn."""

    text: str = ""
    digits: str = ""
    language: str = "en"
    caller: str = ""  # the From number


class IvrAction(Protocol):
    """A pluggable dynamic answer."""

    name: str
    input_digits: int | None  # keypad digits to gather (None: until '#')

    def prompt(self, language: str) -> str:
        """What to ask for when the caller has not given the input yet."""
        ...

    def run(self, given: ActionInput) -> ActionResult:
        """Answer from the caller's input (never raises for bad input)."""
        ...


# -------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    status: str  # processing, awaiting_stock, dispatched, out_for_delivery, delayed, delivered, cancelled
    item: dict[str, str]  # per language
    eta: date | None = None
    carrier: str = ""


class OrderSource(Protocol):
    def lookup(self, order_id: str) -> Order | None: ...


class FileOrderSource:
    """Orders from a JSON list or a CSV file, re-read when the file changes.

    Columns/keys: ``order_id``, ``status``, ``item`` (text, or ``{en, zh}``; CSV may
    use ``item_en``/``item_zh``), ``eta`` (YYYY-MM-DD), ``carrier``.

    Raises:
        ConfigError: missing file, unknown extension or a row without order_id/status.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._orders: dict[str, Order] = {}
        self._load()

    def _load(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"order data {self.path}: cannot read it ({exc.strerror or exc})") from exc
        suffix = self.path.suffix.lower()
        if suffix == ".json":
            try:
                rows = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"order data {self.path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
            if isinstance(rows, dict):
                rows = rows.get("orders", [])
            if not isinstance(rows, list):
                raise ConfigError(f"order data {self.path}: expected a list of orders")
        elif suffix == ".csv":
            rows = list(csv.DictReader(text.splitlines()))
        else:
            raise ConfigError(f"order data {self.path}: use a .json or .csv file")
        orders: dict[str, Order] = {}
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not row.get("order_id") or not row.get("status"):
                raise ConfigError(f"order data {self.path}: row {i} needs order_id and status")
            item = row.get("item") or {}
            if isinstance(item, str):
                item = {"en": item, "zh": item}
            for lang in ("en", "zh"):
                if row.get(f"item_{lang}"):
                    item[lang] = str(row[f"item_{lang}"])
            eta: date | None = None
            if row.get("eta"):
                try:
                    eta = date.fromisoformat(str(row["eta"]).strip()[:10])
                except ValueError as exc:
                    raise ConfigError(f"order data {self.path}: row {i}: eta must be YYYY-MM-DD") from exc
            oid = normalise_order_id(str(row["order_id"]))
            orders[oid] = Order(oid, str(row["status"]).strip().lower(), dict(item), eta, str(row.get("carrier") or ""))
        self._orders = orders
        self._mtime = mtime

    def lookup(self, order_id: str) -> Order | None:
        try:
            if self.path.stat().st_mtime_ns != self._mtime:
                with self._lock:
                    self._load()
        except (OSError, ConfigError) as exc:
            log.error("order data not reloaded: %s", exc)
        return self._orders.get(normalise_order_id(order_id))


ORDER_DIGITS = 6
_ORDER_RX = re.compile(rf"(?:bw)?(\d{{{ORDER_DIGITS}}})(?!\d)")


def normalise_order_id(order_id: str) -> str:
    """ "bw 503872" / "503872" -> "BW503872"."""
    digits = re.sub(r"\D", "", order_id)
    return f"BW{digits}" if len(digits) == ORDER_DIGITS else order_id.strip().upper()


def extract_order_id(text: str = "", digits: str = "") -> str | None:
    """An order number from keyed digits or speech ("B W five oh three eight seven two", "五零三八七二")."""
    if digits:
        d = re.sub(r"\D", "", digits)
        return f"BW{d}" if len(d) == ORDER_DIGITS else None
    if not text:
        return None
    flat = spoken_digits(text)
    m = _ORDER_RX.search(flat)
    return f"BW{m.group(1)}" if m else None


def _say_id(order_id: str) -> str:
    return " ".join(order_id)  # read letter by letter, digit by digit


_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _say_date(d: date | None, language: str) -> str:
    if d is None:
        return "soon" if language == "en" else "近期"
    if language == "zh":
        return f"{d.month}月{d.day}日{_DAYS_ZH[d.weekday()]}"
    return f"{_DAYS_EN[d.weekday()]} {d.day} {_MONTHS_EN[d.month - 1]}"


_STATUS_TEXT = {
    "en": {
        "processing": "Your order {id}, a {item}, is being prepared and should be dispatched by {eta}.",
        "awaiting_stock": "Your order {id}, a {item}, is waiting for new stock, expected by {eta}. It will be dispatched first when stock arrives, or you can cancel for a full refund in your account.",
        "dispatched": "Good news: your order {id}, a {item}, has been dispatched{carrier} and is due on {eta}. The tracking link is in your email and text messages.",
        "out_for_delivery": "Your order {id}, a {item}, is out for delivery today.",
        "delayed": "Your order {id}, a {item}, is delayed with the courier. The new delivery date is {eta}. If you paid for express delivery, the fee will be refunded.",
        "delivered": "Your order {id}, a {item}, was delivered on {eta}. If you cannot find it, say agent and we will help.",
        "cancelled": "Your order {id} was cancelled. Any payment goes back to the original payment method within 5 to 7 business days.",
        "_other": "Your order {id}, a {item}, has the status {status}.",
    },
    "zh": {
        "processing": "您的订单{id}，{item}，正在备货，预计{eta}前发货。",
        "awaiting_stock": "您的订单{id}，{item}，正在等待补货，预计{eta}到货，到货后优先发出；您也可以在账户里取消订单并全额退款。",
        "dispatched": "您的订单{id}，{item}，已经发货{carrier}，预计{eta}送达，物流链接已通过短信和邮件发送给您。",
        "out_for_delivery": "您的订单{id}，{item}，今天正在派送中。",
        "delayed": "您的订单{id}，{item}，快递有延误，新的送达日期是{eta}。如果您付了加急费，会退还给您。",
        "delivered": "您的订单{id}，{item}，已于{eta}签收。如果没有找到包裹，请说人工，我们帮您处理。",
        "cancelled": "您的订单{id}已取消，款项会在五到七个工作日内退回原支付方式。",
        "_other": "您的订单{id}，{item}，当前状态是{status}。",
    },
}
_PROMPTS = {
    "en": {
        "ask": "Please say or key in the six digits of your order number, after the letters B W.",
        "again": "Sorry, I didn't get a full order number. Please key in the six digits after B W, then press hash.",
        "not_found": "I couldn't find order {id}. Please check the number and key in the six digits again.",
    },
    "zh": {
        "ask": "请说出或用按键输入订单号中B W后面的六位数字。",
        "again": "抱歉，没有听到完整的订单号。请用按键输入B W后面的六位数字，然后按井号键。",
        "not_found": "没有找到订单{id}，请核对后重新输入六位数字。",
    },
}


class OrderStatusAction:
    """``order_status``: the status of an order, by order number (spoken or keyed)."""

    name = "order_status"
    input_digits: int | None = ORDER_DIGITS

    def __init__(self, source: OrderSource) -> None:
        self.source = source

    def prompt(self, language: str) -> str:
        return _PROMPTS.get(language, _PROMPTS["en"])["ask"]

    def run(self, given: ActionInput) -> ActionResult:
        lang = given.language if given.language in _PROMPTS else "en"
        order_id = extract_order_id(given.text, given.digits)
        if order_id is None:
            return ActionResult(ActionStatus.NEED_INPUT, _PROMPTS[lang]["again"])
        try:
            order = self.source.lookup(order_id)
        except Exception as exc:  # noqa: BLE001 - a data source outage must not break the call
            log.error("order lookup failed: %s", exc)
            return ActionResult(ActionStatus.TRANSFER, "", {"order_id": order_id, "error": "lookup failed"})
        if order is None:
            return ActionResult(
                ActionStatus.NOT_FOUND, _PROMPTS[lang]["not_found"].format(id=_say_id(order_id)), {"order_id": order_id}
            )
        templates = _STATUS_TEXT[lang]
        template = templates.get(order.status, templates["_other"])
        carrier = ""
        if order.carrier:
            carrier = f" with {order.carrier}" if lang == "en" else f"，承运商{order.carrier}"
        message = template.format(
            id=_say_id(order.order_id),
            item=order.item.get(lang) or order.item.get("en") or ("item" if lang == "en" else "商品"),
            eta=_say_date(order.eta, lang),
            carrier=carrier,
            status=order.status.replace("_", " "),
        )
        return ActionResult(ActionStatus.ANSWERED, message, {"order_id": order.order_id, "order_status": order.status})


def default_actions(order_data: Path | None = None) -> dict[str, IvrAction]:
    """The built-in actions, with the demo order data unless ``order_data`` is given."""
    return {"order_status": OrderStatusAction(FileOrderSource(order_data or DEMO_ORDERS))}
