"""IVR metrics computed from real simulated calls."""

from __future__ import annotations

from datetime import timedelta

from callscope.ivr.metrics import compute_ivr_metrics
from callscope.ivr.tables import IvrCallRow


def shift(db, sid: str, hours: float) -> None:
    row = db.get(IvrCallRow, sid)
    row.started_at -= timedelta(hours=hours)
    if row.transferred_at:
        row.transferred_at -= timedelta(hours=hours)
    if row.ended_at:
        row.ended_at -= timedelta(hours=hours)
    db.commit()


def test_containment_transfers_fcr_csat_nps_and_unanswered(simulate, db) -> None:
    contained = simulate(["press 1", "what time do you open on sunday", "no", "5", "10#"], caller="+15550001")
    zh = simulate(["press 2", "我想退货", "没有了", "4", "9#"], caller="+15550002")
    agent = simulate(["press 1", "where is my order", "agent"], caller="+15550003", agent_answers=True)
    outage = simulate(["press 1", "my internet is down is there an outage"], caller="+15550004")
    frustrated = simulate(["press 2", "太慢了，我要投诉"], caller="+15550005")
    early = simulate([], caller="+15550006")  # hangs up during the greeting
    # the first caller rings back 2 hours later about the same thing: not contained, not FCR
    shift(db, contained.call_sid, 2)
    repeat = simulate(["press 1", "when do you close today", "agent"], caller="+15550001")
    # the Mandarin caller rings back 3 days later about returns: contained, but no FCR
    shift(db, zh.call_sid, 72)
    again = simulate(["press 2", "退款什么时候到账", "没有了"], caller="+15550002")

    db.expire_all()
    m = compute_ivr_metrics(db)
    assert m.calls == 8
    assert m.early_abandons == 1
    assert m.transferred == 4  # agent, outage, frustrated, repeat
    assert m.transfer_reasons == {"caller_request": 2, "out_of_scope": 1, "frustrated": 1}  # outage: not in the KB
    assert m.priority_transfers == 1
    # contained: zh (its repeat came after 72 h) and the zh repeat call itself
    assert m.contained == 2 and m.containment_rate == 0.25
    assert m.transfer_rate == 0.5
    assert m.fcr_calls == 5  # calls with a recognised intent
    # opening_hours call had a repeat within 7 days, zh returns call too -> 3 of 5 resolved first time
    assert m.first_contact_resolution == 0.6
    assert m.self_service_deflection == 0.6  # 3 of 5 answered by self-service and not transferred
    assert (m.csat_responses, m.csat_avg) == (2, 4.5)
    assert (m.nps_responses, m.nps) == (2, 100.0)
    unanswered = [(q.text, q.language) for q in m.unanswered]
    assert ("my internet is down is there an outage", "en") in unanswered
    assert m.per_language["zh"].calls == 3 and m.per_language["en"].calls == 5
    assert m.per_intent["returns"].contained == 2
    assert m.avg_time_in_ivr_s is not None and m.median_time_in_ivr_s is not None
    data = m.to_dict()
    assert data["unanswered"][0]["at"] and data["per_language"]["zh"]["calls"] == 3
    del early, agent, outage, frustrated, repeat, again


def test_since_filters_calls(simulate, db) -> None:
    old = simulate(["press 1", "agent"], caller="+15550100")
    shift(db, old.call_sid, 24 * 30)
    simulate(["press 1", "how do I reset my password", "no"], caller="+15550101")
    db.expire_all()
    row = db.get(IvrCallRow, old.call_sid)
    recent = compute_ivr_metrics(db, since=row.started_at + timedelta(days=1))
    assert recent.calls == 1 and recent.transferred == 0
    assert compute_ivr_metrics(db).calls == 2
