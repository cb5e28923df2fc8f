"""FAQ gap analysis across channels: what customers asked by phone, text and on the
help center that the knowledge base could not answer.

The stored unanswered questions of every channel (IVR ``no_match``, SMS/WhatsApp and
help-center searches the matcher could not place) and imported chat/e-mail/survey
texts are mined into issues together with any call records given, then compared with
the knowledge base by :func:`callscope.analysis.faq.kb_gaps`. Each uncovered issue
says on which channels it was asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from callscope.analysis.faq import FaqOptions, kb_gaps
from callscope.analysis.issues import IssueItem, IssueOptions, mine_issues
from callscope.domain import FaqEntry, FaqStatus
from callscope.selfservice.conversations import AskedQuestion, questions


def conversation_items(asked: Sequence[AskedQuestion]) -> list[IssueItem]:
    """``IssueItem``s (channel, language, time kept) for issue mining."""
    seen: Counter[str] = Counter()
    items = []
    for q in asked:
        key = f"{q.channel}:{q.conversation_id}"
        seen[key] += 1
        items.append(
            IssueItem(
                id=f"{key}:{seen[key]}", text=q.text, language=q.language, channel=q.channel, timestamp=q.at
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class CrossChannelGaps:
    report: Any  # callscope.analysis.faq.GapReport
    issues: tuple[Any, ...]  # the mined MinedIssues
    questions: int  # questions mined (unanswered + imported texts + call items)

    def to_dict(self) -> dict[str, Any]:
        channels = {i.id: dict(i.channels) for i in self.issues}
        data = self.report.to_dict()
        for item in data["uncovered"]:
            item["channels"] = channels.get(item["subject"], {})
        data["questions"] = self.questions
        return data


def cross_channel_gaps(
    session: Session,
    kb_entries: Sequence[FaqEntry],
    *,
    call_items: Sequence[IssueItem] = (),
    since: datetime | None = None,
    issue_options: IssueOptions | None = None,
    faq_options: FaqOptions | None = None,
) -> CrossChannelGaps:
    """Gap analysis over the unanswered questions of every channel (plus ``call_items``).

    Args:
        session: a session on the callscope database.
        kb_entries: the knowledge base's entries (unpublished ones are ignored).
        call_items: ``IssueItem``s of analysed calls (``insights``/``faq gaps`` inputs).
        since: only questions asked at or after this time.
        issue_options: ``IssueOptions`` for mining (default: the library defaults).
        faq_options: ``FaqOptions`` for matching against the knowledge base.
    """
    asked = questions(session, since=since)
    missed = [q for q in asked if q.answered is False]
    mined = conversation_items([q for q in asked if q.answered is not True])  # unanswered + imported texts
    items = [*call_items, *mined]
    result = mine_issues(items, issue_options or IssueOptions()) if items else None
    issues = result.issues if result is not None else ()
    published = [e for e in kb_entries if e.status == FaqStatus.PUBLISHED]
    report = kb_gaps(
        issues,
        published,
        ivr_failures=[q.text for q in missed],
        period_questions=[q.text for q in asked] + [i.text for i in call_items],
        options=faq_options or FaqOptions(),
        member_texts={i.id: i.text for i in items},
    )
    return CrossChannelGaps(report, tuple(issues), len(items))
