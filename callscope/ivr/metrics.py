"""IVR metrics from the call state and event log (containment, transfers, FCR, CSAT, NPS, ...).

Definitions (per call answered by the IVR since ``since``):

* **early abandon**: hung up without saying or pressing anything and without a transfer;
* **contained**: ended in the IVR without a transfer, not an early abandon, and no call
  from the same number within the next 24 h;
* **transfer rate**: calls that reached <Dial>/<Enqueue>, by reason; transfers are
  *connected* (agent bridged) or *abandoned* (caller hung up in the queue);
* **first-contact resolution**: among calls with a recognised intent, those with no
  call from the same number about the same intent within the next 7 days;
* **self-service deflection**: among calls with a recognised intent, those answered by
  self-service (an FAQ answer or an action) and not transferred;
* **CSAT** (1-5, mean) and **NPS** (% promoters 9-10 minus % detractors 0-6);
* **unanswered questions**: what callers asked that found no answer (the input of the
  FAQ loop), with their language;
* **time in IVR**: from the greeting to the transfer or the end of the call.

Every call has exactly one **outcome**, so the shares add up to 100 %:
``self_service`` (answered by an FAQ entry or an action, no transfer, no repeat call),
``ended_in_ivr`` (no transfer, no repeat call, but nothing self-served, e.g. the caller
said goodbye), ``repeat_call`` (no transfer, but the number called again within 24 h),
``transferred`` and ``early_abandon``. Containment = (self_service + ended_in_ivr) / calls,
and the self-service rate uses the same denominator.

**Transfer causes** read the event log rather than the last trigger alone:
``caller_request`` only when the caller asked for a person before the IVR failed to
understand them; ``no_match`` when the IVR could not match the question after its
reprompts (including callers who then asked for a person); ``out_of_scope`` when it
recognised a question outside what it answers; ``frustration``;
``no_input``; ``needs_agent`` (a topic the KB sends to people); ``error`` (an IVR or
self-service lookup failure).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.ivr.tables import IvrCallRow, IvrEventRow

REPEAT_WINDOW = timedelta(hours=24)
FCR_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SegmentMetrics:
    """Metrics of a subset of calls (one language or one intent)."""

    calls: int
    contained: int
    transferred: int
    containment_rate: float
    transfer_rate: float
    avg_time_in_ivr_s: float | None
    csat_avg: float | None


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    text: str
    language: str
    call_sid: str
    at: datetime
    best_intent: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class IvrMetrics:
    since: datetime | None
    calls: int
    contained: int
    transferred: int
    early_abandons: int
    containment_rate: float
    transfer_rate: float
    transfer_reasons: dict[str, int]
    transfers_connected: int
    transfers_abandoned: int
    priority_transfers: int
    first_contact_resolution: float | None
    fcr_calls: int  # calls with a recognised intent (the FCR and deflection denominator)
    self_service_deflection: float | None
    csat_avg: float | None
    csat_responses: int
    nps: float | None
    nps_responses: int
    avg_time_in_ivr_s: float | None
    median_time_in_ivr_s: float | None
    outcomes: dict[str, int] = field(default_factory=dict)  # one per call; sums to ``calls``
    self_service_rate: float = 0.0  # outcomes["self_service"] / calls
    transfer_causes: dict[str, int] = field(default_factory=dict)
    per_language: dict[str, SegmentMetrics] = field(default_factory=dict)
    per_intent: dict[str, SegmentMetrics] = field(default_factory=dict)
    unanswered: tuple[UnansweredQuestion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        out["unanswered"] = [{**asdict(u), "at": u.at.isoformat(timespec="seconds")} for u in self.unanswered]
        return out


OUTCOMES = ("self_service", "ended_in_ivr", "repeat_call", "transferred", "early_abandon")
TRANSFER_CAUSES = ("caller_request", "no_match", "out_of_scope", "frustration", "no_input", "needs_agent", "error")


def transfer_cause(reason: str | None, had_no_match: bool) -> str:
    """What really sent a call to a person (see the module docstring)."""
    if reason in ("error", "action_failed"):
        return "error"
    if reason == "frustrated":
        return "frustration"
    if reason == "no_match" or (reason == "caller_request" and had_no_match):
        return "no_match"
    if reason in ("no_input", "needs_agent", "caller_request"):
        return reason
    return "error" if reason is None else reason


def _rate(num: int, den: int) -> float:
    return round(num / den, 4) if den else 0.0


def compute_ivr_metrics(session: Session, since: datetime | None = None, until: datetime | None = None) -> IvrMetrics:
    """Compute IVR metrics over the calls that started in ``[since, until)`` (open ends: no limit).

    Repeat calls are looked for among the calls of the same window.
    """
    query = select(IvrCallRow).order_by(IvrCallRow.started_at)
    if since is not None:
        query = query.where(IvrCallRow.started_at >= since)
    if until is not None:
        query = query.where(IvrCallRow.started_at < until)
    calls = list(session.scalars(query))
    sids = [c.call_sid for c in calls]
    events: dict[str, list[IvrEventRow]] = defaultdict(list)
    if sids:
        kinds = ("input", "answered", "no_match", "dial_result", "transfer")
        for chunk_start in range(0, len(sids), 500):
            chunk = sids[chunk_start : chunk_start + 500]
            for ev in session.scalars(
                select(IvrEventRow)
                .where(IvrEventRow.call_sid.in_(chunk), IvrEventRow.kind.in_(kinds))
                .order_by(IvrEventRow.id)
            ):
                events[ev.call_sid].append(ev)
    # later calls per number, for repeat-call checks (includes calls after the window start)
    by_number: dict[str, list[IvrCallRow]] = defaultdict(list)
    for c in calls:
        if c.from_number:
            by_number[c.from_number].append(c)

    def intents_of(call: IvrCallRow) -> set[str]:
        found = {e.data.get("intent") for e in events[call.call_sid] if e.kind == "answered"}
        if call.intent:
            found.add(call.intent)
        return {i for i in found if i}

    def repeat_after(call: IvrCallRow, window: timedelta, intents: set[str] | None = None) -> bool:
        for other in by_number.get(call.from_number, ()):
            if other.call_sid == call.call_sid or other.started_at <= call.started_at:
                continue
            if other.started_at - call.started_at > window:
                continue
            if intents is None or intents & intents_of(other):
                return True
        return False

    def time_in_ivr(call: IvrCallRow) -> float | None:
        end = call.transferred_at if call.transferred else call.ended_at
        if end is None:
            evs = events[call.call_sid]
            end = evs[-1].at if evs else call.updated_at
        if end is None or call.started_at is None:
            return None
        return max(0.0, (end - call.started_at).total_seconds())

    contained_flags: dict[str, bool] = {}
    early = 0
    reasons: Counter[str] = Counter()
    connected = abandoned = priority = 0
    fcr_den = fcr_num = deflected = 0
    times: list[float] = []
    unanswered: list[UnansweredQuestion] = []
    outcomes: Counter[str] = Counter({k: 0 for k in OUTCOMES})
    causes: Counter[str] = Counter()
    for call in calls:
        evs = events[call.call_sid]
        had_input = any(e.kind == "input" for e in evs)
        self_served = any(e.kind == "answered" and e.data.get("self_service") for e in evs)
        if call.transferred:
            outcomes["transferred"] += 1
            causes[transfer_cause(call.transfer_reason, any(e.kind == "no_match" for e in evs))] += 1
            reasons[call.transfer_reason or "unknown"] += 1
            priority += int(bool(call.priority))
            results = [e for e in evs if e.kind == "dial_result"]
            if results:
                last = results[-1].data
                connected += int(bool(last.get("connected")))
                abandoned += int(bool(last.get("abandoned")))
            contained_flags[call.call_sid] = False
        else:
            is_early = not had_input
            early += int(is_early)
            repeat = not is_early and repeat_after(call, REPEAT_WINDOW)
            contained_flags[call.call_sid] = not is_early and not repeat
            outcomes["early_abandon" if is_early else "repeat_call" if repeat
                     else "self_service" if self_served else "ended_in_ivr"] += 1
        intents = intents_of(call)
        if intents:
            fcr_den += 1
            fcr_num += int(not repeat_after(call, FCR_WINDOW, intents))
            deflected += int(self_served and not call.transferred)
        t = time_in_ivr(call)
        if t is not None:
            times.append(t)
        for e in evs:
            if e.kind == "no_match" and (e.data.get("text") or "").strip():
                unanswered.append(
                    UnansweredQuestion(
                        e.data["text"],
                        e.data.get("language") or call.language or "en",
                        call.call_sid,
                        e.at,
                        e.data.get("best"),
                        e.data.get("score"),
                    )
                )

    n = len(calls)
    contained = sum(contained_flags.values())
    transferred = sum(1 for c in calls if c.transferred)
    csats = [c.csat for c in calls if c.csat is not None]
    npss = [c.nps for c in calls if c.nps is not None]
    nps = None
    if npss:
        nps = round(100.0 * (sum(v >= 9 for v in npss) - sum(v <= 6 for v in npss)) / len(npss), 1)

    def segment(members: list[IvrCallRow]) -> SegmentMetrics:
        seg_times = [t for t in (time_in_ivr(c) for c in members) if t is not None]
        seg_csat = [c.csat for c in members if c.csat is not None]
        k = len(members)
        cont = sum(contained_flags[c.call_sid] for c in members)
        trans = sum(1 for c in members if c.transferred)
        return SegmentMetrics(
            calls=k,
            contained=cont,
            transferred=trans,
            containment_rate=_rate(cont, k),
            transfer_rate=_rate(trans, k),
            avg_time_in_ivr_s=round(statistics.fmean(seg_times), 1) if seg_times else None,
            csat_avg=round(statistics.fmean(seg_csat), 2) if seg_csat else None,
        )

    by_lang: dict[str, list[IvrCallRow]] = defaultdict(list)
    by_intent: dict[str, list[IvrCallRow]] = defaultdict(list)
    for call in calls:
        by_lang[call.language or "unknown"].append(call)
        by_intent[call.intent or "unrecognised"].append(call)

    return IvrMetrics(
        since=since,
        calls=n,
        contained=contained,
        transferred=transferred,
        early_abandons=early,
        containment_rate=_rate(contained, n),
        transfer_rate=_rate(transferred, n),
        transfer_reasons=dict(reasons.most_common()),
        transfers_connected=connected,
        transfers_abandoned=abandoned,
        priority_transfers=priority,
        first_contact_resolution=_rate(fcr_num, fcr_den) if fcr_den else None,
        fcr_calls=fcr_den,
        self_service_deflection=_rate(deflected, fcr_den) if fcr_den else None,
        csat_avg=round(statistics.fmean(csats), 2) if csats else None,
        csat_responses=len(csats),
        nps=nps,
        nps_responses=len(npss),
        avg_time_in_ivr_s=round(statistics.fmean(times), 1) if times else None,
        median_time_in_ivr_s=round(statistics.median(times), 1) if times else None,
        outcomes=dict(outcomes),
        self_service_rate=_rate(outcomes["self_service"], n),
        transfer_causes=dict(causes.most_common()),
        per_language={k: segment(v) for k, v in sorted(by_lang.items())},
        per_intent={k: segment(v) for k, v in sorted(by_intent.items())},
        unanswered=tuple(sorted(unanswered, key=lambda u: u.at, reverse=True)),
    )
