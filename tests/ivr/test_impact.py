"""The effect of a FAQ publish is measured on the calls that asked what the entry covers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from callscope.db import init_schema, make_engine, session_factory, utcnow
from callscope.ivr.impact import publish_impact
from callscope.ivr.metrics import compute_ivr_metrics
from callscope.ivr.tables import IvrCallRow, IvrEventRow
from callscope.domain import FaqEntry

OUTAGE = FaqEntry(id="faq-outage", questions={"en": ("Is there an internet outage in my area?",),
                                              "zh": ("我这里宽带是不是断网了？",)},
                  answers={"en": "Yes, engineers are fixing it."})


def _call(session, n: int, at, text: str, *, transferred: bool = False, intent: str | None = None) -> None:  # type: ignore[no-untyped-def]
    sid = f"CA{n:032d}"
    session.add(IvrCallRow(call_sid=sid, from_number=f"+1555000{n:04d}", language="en", started_at=at,
                           status="transferred" if transferred else "ended", transferred=transferred,
                           transfer_reason="caller_request" if transferred else None, intent=intent,
                           ended_at=at + timedelta(seconds=40)))
    session.add(IvrEventRow(call_sid=sid, kind="input", at=at, data={"text": text}))
    if transferred:
        session.add(IvrEventRow(call_sid=sid, kind="no_match", at=at, data={"text": text}))
    elif intent:
        session.add(IvrEventRow(call_sid=sid, kind="answered", at=at, data={"intent": intent, "self_service": True}))


def test_like_with_like_before_and_after_a_publish(tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'ivr.db'}")
    init_schema(engine)
    session = session_factory(engine)()
    published = utcnow() - timedelta(hours=1)
    before, after = published - timedelta(days=2), published + timedelta(minutes=20)
    # before: one outage question the IVR could not answer; routine questions answered
    _call(session, 1, before, "is the internet down in my area", transferred=True)
    _call(session, 2, before + timedelta(hours=1), "what time do you open on sunday", intent="opening_hours")
    _call(session, 3, before + timedelta(hours=2), "how do I reset my password", intent="password_reset")
    # after: the outage question is answered (in Mandarin too); an unrelated order question is transferred
    _call(session, 4, after, "我家宽带断网了，是不是故障？", intent="faq-outage")
    _call(session, 5, after + timedelta(minutes=5), "is there a broadband outage near me", intent="faq-outage")
    _call(session, 6, after + timedelta(minutes=9), "where is my parcel", transferred=True)
    session.commit()

    impact = publish_impact(session, OUTAGE, published)
    assert (impact.before.calls, impact.before.contained) == (1, 0)
    assert (impact.after.calls, impact.after.contained) == (2, 2)
    assert impact.before.start == impact.before.end == before
    assert impact.after.start == after and impact.after.end == after + timedelta(minutes=5)
    assert impact.before.examples == ("is the internet down in my area",)
    # the whole IVR shows no change (2 of 3 contained on each side): the entry's effect
    # is visible only when its own questions are compared
    assert compute_ivr_metrics(session, since=published).containment_rate == round(2 / 3, 4)
    assert compute_ivr_metrics(session).containment_rate == round(4 / 6, 4)
    data = impact.to_dict()
    assert data["before"]["containment_rate"] == 0.0 and data["after"]["containment_rate"] == 1.0
    assert data["scope"] == "calls that asked what this entry covers"
    session.close()
