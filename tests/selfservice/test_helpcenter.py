"""The public help center: pages per entry by topic, search with the IVR's matcher,
feedback, contact, languages, escaping, and the web conversations it stores."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from callscope.domain import FaqStatus
from callscope.ivr.kb import load_knowledge_base
from callscope.selfservice.helpcenter import pick_language
from callscope.selfservice.tables import ConversationMessageRow, ConversationRow, HelpFeedbackRow


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.stylesheets = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "script":
            self.scripts += 1
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets += 1
        if a.get("id"):
            self.ids.append(a["id"])


def parse(html: str) -> _Parser:
    p = _Parser()
    p.feed(html)
    return p


def test_pick_language() -> None:
    assert pick_language("zh", "en-US,en;q=0.9") == "zh"
    assert pick_language(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert pick_language(None, "fr-FR, en;q=0.5, zh;q=0.7") == "zh"
    assert pick_language(None, "fr") == "en"
    assert pick_language("xx", None) == "en"
    assert pick_language(None, "zh;q=0") == "en"


def test_index_lists_every_published_entry_by_topic_without_scripts(client, kb_file) -> None:
    resp = client.get("/help", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    page = parse(html)
    kb = load_knowledge_base(kb_file)
    published = [e for e in kb.entries if e.status == FaqStatus.PUBLISHED]
    for entry in published:
        assert f"/help/{entry.id}?lang=en" in page.links, entry.id
    assert page.scripts == 0 and page.stylesheets == 0  # nothing to load from anywhere
    assert '<html lang="en">' in html and 'id="main"' in html and 'role="search"' in html
    assert "Browse by topic" in html and "Opening hours" in html and "Orders" in html
    assert 'rel="canonical" href="https://help.example.com/help"' in html
    assert 'hreflang="zh-Hans"' in html


def test_chinese_from_accept_language_and_the_switch(client) -> None:
    zh = client.get("/help", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert '<html lang="zh-Hans">' in zh and "帮助中心" in zh and "营业时间" in zh
    assert "/help?lang=en" in parse(zh).links  # the switch
    en = client.get("/help?lang=en", headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en">' in en and "Help Center" in en


def test_one_page_per_entry_with_answer_feedback_form_and_related(client) -> None:
    html = client.get("/help/opening_hours?lang=en").text
    assert "<h1 itemprop=\"name\">What are your opening hours?</h1>" in html
    assert "Monday to Saturday from 9 a.m. to 8 p.m." in html
    assert 'action="/help/opening_hours/feedback"' in html and 'value="yes"' in html
    assert "/help/holiday_hours?lang=en" in parse(html).links  # same topic
    assert "/help/contact?lang=en" in parse(html).links
    zh = client.get("/help/opening_hours?lang=zh").text
    assert "周一到周六早上九点到晚上八点营业" in zh


def test_spoken_answers_are_replaced_by_written_ones(client) -> None:
    html = client.get("/help/order_status?lang=en").text
    assert "key in" not in html.split("<h1", 1)[1].split("</p>", 1)[0] or "Text it to our number" in html
    assert "Text it to our number" in html and "say or key in your order number" not in html


def test_unknown_and_unpublished_entries_are_404(client, kb_file) -> None:
    assert client.get("/help/no_such_entry").status_code == 404
    text = kb_file.read_text().replace("    self_service: false\n", "    self_service: false\n    status: draft\n")
    kb_file.write_text(text)
    import os
    import time

    os.utime(kb_file, (time.time() + 5, time.time() + 5))
    time.sleep(1.1)  # the knowledge base reloads at most once a second
    assert client.get("/help/billing_dispute").status_code == 404
    assert "/help/billing_dispute" not in client.get("/help").text


def test_search_shows_the_best_answer_first_then_related_and_is_stored(client, db) -> None:
    html = client.get("/help", params={"q": "I forgot my password", "lang": "en"}).text
    best = html.split('id="best"', 1)[1].split("</article>", 1)[0]
    assert "forgot password link" in best
    assert "My bill" not in html.split('id="results-title"', 1)[1].split("Browse by topic", 1)[0]  # no far-off "related"
    hours = client.get("/help", params={"q": "When do you open on Sunday?", "lang": "en"}).text
    results = hours.split('id="results-title"', 1)[1].split("Browse by topic", 1)[0]
    assert "Sunday from 10 a.m. to 5 p.m." in results.split("</article>", 1)[0]
    assert "Related questions" in results and "/help/holiday_hours?lang=en" in results
    assert '<meta name="robots" content="noindex">' in html  # search pages are not indexed
    db.expire_all()
    conv = db.scalars(select(ConversationRow).order_by(ConversationRow.started_at)).first()
    assert (conv.channel, conv.answered, conv.intent, conv.handover) == ("web", True, "password_reset", False)
    assert conv.id in html  # links carry the search, so contact/feedback count for it


def test_mandarin_search(client) -> None:
    html = client.get("/help", params={"q": "周日几点开门？"}, headers={"Accept-Language": "zh-CN"}).text
    best = html.split('id="best"', 1)[1].split("</article>", 1)[0]
    assert "周日上午十点到下午五点" in best


def test_a_search_without_answer_is_unanswered_and_offers_contact(client, db) -> None:
    html = client.get("/help", params={"q": "Is there a broadband outage in my area?", "lang": "en"}).text
    assert 'id="no-results"' in html and "couldn" in html
    db.expire_all()
    conv = db.scalars(select(ConversationRow)).one()
    assert conv.status == "unanswered" and not conv.answered
    msg = db.scalars(select(ConversationMessageRow).where(ConversationMessageRow.direction == "in")).one()
    assert (msg.kind, msg.text) == ("unanswered", "Is there a broadband outage in my area?")
    contact = next(link for link in parse(html).links if link.startswith("/help/contact"))
    page = client.get(contact.replace("&amp;", "&")).text
    assert 'href="tel:+15550100"' in page and "+1 555 0100" in page
    db.expire_all()
    conv = db.scalars(select(ConversationRow)).one()
    assert conv.handover and conv.status == "handover"


def test_feedback_is_stored_per_entry_and_redirects(client, db) -> None:
    resp = client.post("/help/opening_hours/feedback", data={"helpful": "no", "lang": "zh"}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/help/opening_hours?lang=zh&fb=no")
    page = client.get(resp.headers["location"]).text
    assert "感谢告知" in page and 'action="/help/opening_hours/feedback"' not in page
    client.post("/help/opening_hours/feedback", data={"helpful": "yes", "lang": "en"})
    assert client.post("/help/opening_hours/feedback", data={"helpful": "maybe"}).status_code == 404
    assert client.post("/help/nope/feedback", data={"helpful": "yes"}).status_code == 404
    db.expire_all()
    votes = sorted((f.entry_id, f.helpful, f.language) for f in db.scalars(select(HelpFeedbackRow)))
    assert votes == [("opening_hours", False, "zh"), ("opening_hours", True, "en")]


def test_everything_is_escaped(client) -> None:
    nasty = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    html = client.get("/help", params={"q": nasty, "lang": "en"}).text
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert client.get("/help/%3Cscript%3E").status_code == 404
    assert "<script>" not in client.get("/help/%3Cscript%3E").text


def test_pages_are_fast(client) -> None:
    import time

    client.get("/help")  # warm
    t0 = time.perf_counter()
    for _ in range(20):
        assert client.get("/help/opening_hours").status_code == 200
    per_page = (time.perf_counter() - t0) / 20
    assert per_page < 0.05, per_page
    assert re.search(r"max-age=\d+", client.get("/help").headers["cache-control"])


def test_sitemap_lists_every_entry_url(client, kb_file) -> None:
    import xml.etree.ElementTree as ET

    resp = client.get("/help/sitemap.xml")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(resp.text).findall("s:url/s:loc", ns)]
    kb = load_knowledge_base(kb_file)
    assert locs == ["https://help.example.com/help"] + [f"https://help.example.com/help/{e.id}" for e in kb.entries]
    assert 'hreflang="zh-Hans" href="https://help.example.com/help/opening_hours?lang=zh"' in resp.text


def test_crawler_searches_are_answered_but_not_stored(client, db) -> None:
    from callscope.selfservice.helpcenter import is_crawler

    assert is_crawler("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert is_crawler("Slackbot-LinkExpanding 1.0") and is_crawler("Baiduspider")
    assert not is_crawler("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120")
    assert not is_crawler("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1")
    html = client.get("/help", params={"q": "What are your opening hours?"}, headers={"User-Agent": "Googlebot/2.1"}).text
    assert 'id="best"' in html
    db.expire_all()
    assert db.scalars(select(ConversationRow)).all() == []


def test_entry_pages_carry_faq_structured_data(client) -> None:
    html = client.get("/help/returns?lang=en").text
    assert 'itemtype="https://schema.org/FAQPage"' in html
    assert 'itemprop="mainEntity" itemtype="https://schema.org/Question"' in html
    assert 'itemprop="acceptedAnswer"' in html and 'itemprop="text"' in html
    assert "schema.org" not in client.get("/help").text  # the index is a list of links, not one FAQ
