"""Publish preview: what a draft FAQ entry would newly answer, on real encoders."""

from __future__ import annotations

from callscope.domain import FaqEntry, FaqStatus
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base
from callscope.ivr.preview import preview_publish


def test_preview_counts_only_what_the_draft_would_answer(encoder) -> None:
    live = load_knowledge_base(BUNDLED_KB).entries
    draft = FaqEntry(
        id="gift_cards",
        questions={"en": ("Do you sell gift cards?", "Can I buy a gift voucher?", "How do I use a gift card?")},
        answers={"en": "Gift cards from 10 to 200 pounds are sold in every store and online."},
        status=FaqStatus.APPROVED,
    )
    phrasings = [
        ("do you guys do gift cards", "en"),
        ("I'd like to buy a voucher for my sister", "en"),
        ("who won the football last night", "en"),  # out of scope with or without the draft
        ("what should I buy my dad for christmas", "en"),  # the draft is the closest topic, yet out of scope
        ("I forgot my password", "en"),  # another entry's question
    ]
    preview = preview_publish(draft, live, phrasings, encoder=encoder)
    assert preview.phrasings == 5
    caught = {c.text for c in preview.catches} | {c.text for c in preview.confirms}
    assert "do you guys do gift cards" in caught
    assert "who won the football last night" not in caught
    assert "what should I buy my dad for christmas" not in caught
    assert "I forgot my password" not in caught and not preview.takes
