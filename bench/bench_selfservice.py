"""Self-service latency: help-center pages and SMS webhook turns, with an IVR speech turn
(the same matcher behind Twilio's voice webhook) as the reference measured in the same run.

In-process (starlette TestClient, SQLite in a temporary folder, the real multilingual
encoder, signed Twilio requests); each request is timed end to end. Questions are
distinct per request (no utterance-cache hits), half English and half Mandarin.

    python bench/bench_selfservice.py            # markdown on stdout
    python bench/bench_selfservice.py --write    # also write BENCHMARKS_selfservice.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token-0123456789"
BASE = "https://bench.example.com"
QUESTIONS_EN = [
    "what time do you open on {d}", "how long does delivery take to {c}", "can I return shoes bought in {c}",
    "I forgot my password again on {d}", "do you take {p} payments", "are you open on {d} afternoon",
]
QUESTIONS_ZH = ["{d}几点开门？", "寄到{c}要几天？", "在{c}买的东西能退吗？", "{d}忘记密码了怎么办", "可以用{p}付款吗？"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS_ZH = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
CITIES = ["Leeds", "York", "Bath", "Derby", "Hull", "Ely", "Wells", "Ripon"]
CITIES_ZH = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安"]
PAYS = ["PayPal", "Visa", "Amex", "Apple Pay", "Klarna"]
PAYS_ZH = ["支付宝", "微信", "银联", "信用卡", "花呗"]


def questions(n: int) -> list[str]:
    out = []
    for i in range(n):
        if i % 2:
            t = QUESTIONS_ZH[i % len(QUESTIONS_ZH)]
            out.append(t.format(d=DAYS_ZH[i % 7], c=CITIES_ZH[i % 8], p=PAYS_ZH[i % 5]) + f"（{i}）")
        else:
            t = QUESTIONS_EN[i % len(QUESTIONS_EN)]
            out.append(t.format(d=DAYS[i % 7], c=CITIES[i % 8], p=PAYS[i % 5]) + f" #{i}")
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(n: int) -> list[tuple[str, list[float]]]:
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from callscope.api.routers import helpcenter, messaging
    from callscope.ivr import deps
    from callscope.ivr.kb import BUNDLED_KB
    from callscope.ivr.routes import router as ivr_router
    from callscope.ivr.security import sign
    from callscope.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-ss-"))
    kb = tmp / "kb.yaml"
    shutil.copyfile(BUNDLED_KB, kb)
    os.environ["TWILIO_AUTH_TOKEN"] = TOKEN
    settings = Settings(data_dir=tmp / "data", kb_path=kb)
    app = FastAPI()
    app.state.ivr_settings = settings

    async def no_sentiment():
        return None

    app.dependency_overrides[deps.get_sentiment_fn] = no_sentiment
    for router in (ivr_router, messaging.router, helpcenter.router):
        app.include_router(router)
    timings: dict[str, list[float]] = {k: [] for k in ("ivr", "sms", "search", "index", "entry")}
    with TestClient(app, base_url=BASE) as client:
        deps.matcher_for(deps.kb_source_for(settings, deps.actions_for(settings))).warm()

        def timed(key: str, fn) -> None:  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            resp = fn()
            timings[key].append(1000 * (time.perf_counter() - t0))
            assert resp.status_code == 200, (key, resp.status_code, resp.text[:200])

        for i, q in enumerate(questions(n)):
            # reference: an IVR speech turn (Gather result) on a call already past the greeting
            sid = f"CA{i:032d}"
            voice = {"CallSid": sid, "From": f"+1555{i:07d}", "To": "+15550100"}
            client.post("/ivr/voice", data=voice, headers={"X-Twilio-Signature": sign(BASE + "/ivr/voice", voice, TOKEN)})
            gather = {**voice, "SpeechResult": q, "Confidence": "0.9"}
            url = BASE + "/ivr/gather?step=ask&t=1"
            timed("ivr", lambda: client.post(url, data=gather, headers={"X-Twilio-Signature": sign(url, gather, TOKEN)}))
            sms = {"MessageSid": f"SM{i:032d}", "From": f"+1666{i:07d}", "To": "+15550100", "Body": q + " ?"}
            surl = BASE + "/messaging/incoming"
            timed("sms", lambda: client.post("/messaging/incoming", data=sms,
                                             headers={"X-Twilio-Signature": sign(surl, sms, TOKEN)}))
            timed("search", lambda: client.get("/help", params={"q": q + " !"}))
            timed("index", lambda: client.get("/help", params={"lang": "zh" if i % 2 else "en"}))
            timed("entry", lambda: client.get("/help/opening_hours", params={"lang": "zh" if i % 2 else "en"}))
    deps.reset_caches()
    shutil.rmtree(tmp, ignore_errors=True)
    names = {"ivr": "IVR speech turn (reference)", "sms": "SMS/WhatsApp webhook turn", "search": "help-center search",
             "index": "help-center index page", "entry": "help-center entry page"}
    return [(names[k], v) for k, v in timings.items()]


def report(rows: list[tuple[str, list[float]]], n: int) -> str:
    ref = statistics.median(rows[0][1])
    lines = [
        "## Self-service: help center and SMS/WhatsApp (`bench/bench_selfservice.py`)",
        "",
        f"{n} distinct questions (half English, half Mandarin), in-process, SQLite, the real encoder; "
        "shared 2-core box (other jobs running), so compare the ratios to the IVR turn measured in the same run.",
        "",
        "| request | median ms | p95 ms | median vs IVR turn |",
        "|---|---:|---:|---:|",
    ]
    for name, values in rows:
        lines.append(f"| {name} | {statistics.median(values):.1f} | {pct(values, 0.95):.1f} | "
                     f"{statistics.median(values) / ref:.2f}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="questions (requests per kind)")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS_selfservice.md")
    args = parser.parse_args()
    text = report(run(args.n), args.n)
    print(text)
    if args.write:
        (ROOT / "BENCHMARKS_selfservice.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
