"""Server-rendered help-center HTML: plain string templates, every value escaped.

No JavaScript, no external assets (one small inline stylesheet), one canonical URL
per entry with ``hreflang`` alternates and schema.org FAQPage microdata, landmarks, a skip
link and labelled forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from callscope.domain import FaqEntry
from callscope.selfservice.helpcenter import HelpCenter, SearchResult
from callscope.selfservice.messages import message, question_text, written_answer

HTML_LANG = {"en": "en", "zh": "zh-Hans"}

CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;color:#1b1f24;background:#f6f7f9}
a{color:#0b57d0}a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header.top{background:#12324f;color:#fff}header.top .in{display:flex;justify-content:space-between;align-items:center}
header.top a{color:#fff;text-decoration:none}.brand{font-weight:650;font-size:1.15rem}
.in{max-width:52rem;margin:0 auto;padding:.9rem 1.2rem}
main.in{background:#fff;border-radius:10px;margin-top:1.2rem;padding:1.2rem 1.6rem;box-shadow:0 1px 3px #0001}
form.search{display:flex;gap:.5rem;margin:.5rem 0 1rem}form.search label{position:absolute;left:-999px}
form.search input{flex:1;font:inherit;padding:.6rem .8rem;border:1px solid #8a94a3;border-radius:6px}
button{font:inherit;padding:.55rem 1rem;border:0;border-radius:6px;background:#0b57d0;color:#fff;cursor:pointer}
button.secondary{background:#e8edf5;color:#1b1f24}
.best{border-left:4px solid #0b57d0;padding:.2rem 1rem;margin:1rem 0;background:#f3f7fe}
.answer{white-space:pre-line}
ul.links{padding-left:1.2rem}ul.links li{margin:.3rem 0}
nav.topics ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
nav.topics a{display:inline-block;padding:.25rem .7rem;border:1px solid #c5ccd6;border-radius:999px;text-decoration:none}
.crumbs{font-size:.9rem;color:#4b5563}
fieldset{border:1px solid #d5dae1;border-radius:8px;padding:.8rem 1rem;margin:1.2rem 0}
.note{background:#fff7e6;border:1px solid #f3d49a;border-radius:6px;padding:.6rem .9rem}
aside.contact{max-width:52rem;margin:1.2rem auto;padding:1rem 1.6rem;background:#e9f1fb;border-radius:10px}
footer{max-width:52rem;margin:1rem auto 2rem;padding:0 1.2rem;color:#4b5563;font-size:.85rem}
h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.2rem;margin-top:1.6rem}
"""


@dataclass(frozen=True, slots=True)
class PageContext:
    """What every page needs: the UI language, where the site lives, who to call."""

    language: str
    base_url: str  # e.g. https://help.example.com (no trailing slash)
    company: str
    phone: str = ""
    contact_url: str = ""


def _qs(params: dict[str, str | None]) -> str:
    """A query string ("?a=1&b=2", or "" when every value is empty)."""
    clean = {k: v for k, v in params.items() if v}
    return "?" + urlencode(clean) if clean else ""


def _q(params: dict[str, str | None]) -> str:
    """:func:`_qs`, escaped for an HTML attribute."""
    return escape(_qs(params))


def entry_url(entry_id: str, language: str, conversation_id: str | None = None) -> str:
    return f"/help/{escape(entry_id)}" + _q({"lang": language, "c": conversation_id})


def _t(ctx: PageContext, name: str, **values: str) -> str:
    return escape(message(ctx.language, name, company=ctx.company, **values))


def _page(
    ctx: PageContext,
    *,
    title: str,
    path: str,
    body: str,
    description: str = "",
    index: bool = True,
    extra_query: dict[str, str | None] | None = None,
    conversation_id: str | None = None,
    contact_box: bool = True,
) -> str:
    lang = ctx.language
    other = "zh" if lang == "en" else "en"
    switch = path + _qs({**(extra_query or {}), "lang": other, "c": conversation_id})
    canonical = ctx.base_url + path + _qs({**(extra_query or {}), "lang": lang if lang != "en" else None})
    alternates = "".join(
        f'<link rel="alternate" hreflang="{HTML_LANG[code]}" href="{escape(ctx.base_url + path + _qs({"lang": code}))}">'
        for code in ("en", "zh")
    )
    robots = "" if index else '<meta name="robots" content="noindex">'
    contact = (
        f'<aside class="contact" aria-labelledby="contact-title"><h2 id="contact-title">{_t(ctx, "hc_contact_title")}</h2>'
        f'<p>{_t(ctx, "hc_contact_intro")} <a id="contact-link" href="/help/contact{_q({"lang": lang, "c": conversation_id})}">'
        f'{_t(ctx, "hc_contact")}</a></p></aside>'
        if contact_box
        else ""
    )
    return (
        f'<!doctype html>\n<html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f'<meta name="description" content="{escape(description or message(lang, "hc_description", company=ctx.company))}">'
        f'<link rel="canonical" href="{escape(canonical)}">{alternates}{robots}<style>{CSS}</style></head>'
        f'<body><a class="skip" href="#main">{_t(ctx, "hc_skip")}</a>'
        f'<header class="top"><div class="in"><a class="brand" href="/help{_q({"lang": lang})}">{_t(ctx, "hc_title")}</a>'
        f'<a class="lang" lang="{HTML_LANG[other]}" hreflang="{HTML_LANG[other]}" href="{escape(switch)}">'
        f'{escape(message(lang, "hc_language"))}</a></div></header>'
        f'<main id="main" class="in">{body}</main>{contact}'
        f"<footer>{escape(ctx.company)}</footer></body></html>"
    )


def _search_form(ctx: PageContext, query: str = "") -> str:
    return (
        f'<form class="search" role="search" action="/help" method="get">'
        f'<label for="q">{_t(ctx, "hc_search")}</label>'
        f'<input id="q" name="q" type="search" value="{escape(query)}" maxlength="200" '
        f'placeholder="{_t(ctx, "hc_placeholder")}" autocomplete="off">'
        f'<input type="hidden" name="lang" value="{ctx.language}">'
        f'<button type="submit">{_t(ctx, "hc_search_button")}</button></form>'
    )


def _link_list(ctx: PageContext, entries: list[FaqEntry] | tuple[FaqEntry, ...], conv: str | None = None) -> str:
    items = "".join(
        f'<li><a href="{entry_url(e.id, ctx.language, conv)}">{escape(question_text(e, ctx.language))}</a></li>'
        for e in entries
    )
    return f'<ul class="links">{items}</ul>'


def index_page(ctx: PageContext, center: HelpCenter, result: SearchResult | None = None) -> str:
    """``/help``: the search box, the results of a search, and every entry by topic."""
    lang = ctx.language
    kb = center.knowledge_base()
    parts = [f'<h1>{_t(ctx, "hc_title")}</h1>', _search_form(ctx, result.query if result else "")]
    conv = result.conversation_id if result else None
    if result is not None and result.query:
        parts.append(f'<section aria-labelledby="results-title"><h2 id="results-title">'
                     f'{_t(ctx, "hc_results_for", q=result.query)}</h2>')
        if result.best is not None:
            answer, answer_lang = written_answer(kb, result.best, lang)
            parts.append(
                f'<article class="best" id="best" lang="{HTML_LANG.get(answer_lang, answer_lang)}">'
                f'<p class="crumbs">{_t(ctx, "hc_best")}</p>'
                f'<h3><a href="{entry_url(result.best.id, lang, conv)}">{escape(question_text(result.best, lang))}</a></h3>'
                f'<p class="answer">{escape(answer)}</p></article>'
            )
        else:
            parts.append(f'<p id="no-results">{_t(ctx, "hc_no_results", q=result.query)}</p>')
        if result.related:
            parts.append(f'<h3>{_t(ctx, "hc_related")}</h3>' + _link_list(ctx, result.related, conv))
        parts.append("</section>")
    topics = center.topics(lang)
    nav = "".join(f'<li><a href="#topic-{escape(t.key)}">{escape(t.name)}</a></li>' for t in topics)
    parts.append(f'<nav class="topics" aria-label="{_t(ctx, "hc_topic_nav")}"><h2>{_t(ctx, "hc_topics")}</h2><ul>{nav}</ul></nav>')
    for topic in topics:
        items = "".join(
            f'<li><a href="{entry_url(e.id, lang)}">{escape(question_text(e, lang))}</a></li>' for e in topic.entries
        )
        parts.append(
            f'<section class="topic" id="topic-{escape(topic.key)}" aria-labelledby="h-{escape(topic.key)}">'
            f'<h2 id="h-{escape(topic.key)}">{escape(topic.name)}</h2><ul class="links">{items}</ul></section>'
        )
    title = message(lang, "hc_title", company=ctx.company)
    if result is not None and result.query:
        title = message(lang, "hc_results_for", q=result.query) + " · " + title
    body = "".join(parts)
    return _page(ctx, title=title, path="/help", body=body, index=result is None or not result.query,
                 extra_query={"q": result.query} if result and result.query else None, conversation_id=conv)


def entry_page(
    ctx: PageContext, center: HelpCenter, entry: FaqEntry, *, conversation_id: str | None = None,
    feedback: str | None = None,
) -> str:
    """``/help/<id>``: one question and its answer, feedback, related questions."""
    lang = ctx.language
    kb = center.knowledge_base()
    question = question_text(entry, lang)
    answer, answer_lang = written_answer(kb, entry, lang)
    topic = center.topic_of(entry)
    others = [q for q in entry.questions.get(lang, ())[1:4]]
    parts = [
        f'<p class="crumbs"><a href="/help{_q({"lang": lang})}">{_t(ctx, "hc_back")}</a> › '
        f'<a href="/help{_q({"lang": lang})}#topic-{escape(topic)}">{escape(center.topic_name(topic, lang))}</a></p>',
        _search_form(ctx),
        f'<article itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">'
        f'<h1 itemprop="name">{escape(question)}</h1>'
        f'<div itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer">'
        f'<p class="answer" itemprop="text" lang="{HTML_LANG.get(answer_lang, answer_lang)}">{escape(answer)}</p></div>',
    ]
    if not entry.self_service:
        parts.append(f'<p class="note">{_t(ctx, "hc_needs_agent")} '
                     f'<a href="/help/contact{_q({"lang": lang, "c": conversation_id})}">{_t(ctx, "hc_contact")}</a></p>')
    if others:
        parts.append(f'<h2>{_t(ctx, "hc_asked_as")}</h2><ul class="links">'
                     + "".join(f"<li>{escape(q)}</li>" for q in others) + "</ul>")
    parts.append("</article>")
    if feedback in ("yes", "no"):
        thanks = _t(ctx, "hc_thanks") if feedback == "yes" else (
            _t(ctx, "hc_thanks_no")
            + f' <a href="/help/contact{_q({"lang": lang, "c": conversation_id})}">{_t(ctx, "hc_contact")}</a>'
        )
        parts.append(f'<p id="feedback" class="note" role="status">{thanks}</p>')
    else:
        parts.append(
            f'<form id="feedback" method="post" action="/help/{escape(entry.id)}/feedback">'
            f'<fieldset><legend>{_t(ctx, "hc_helpful")}</legend>'
            f'<input type="hidden" name="lang" value="{lang}">'
            + (f'<input type="hidden" name="c" value="{escape(conversation_id)}">' if conversation_id else "")
            + f'<button type="submit" name="helpful" value="yes">{_t(ctx, "hc_yes")}</button> '
            f'<button class="secondary" type="submit" name="helpful" value="no">{_t(ctx, "hc_no")}</button>'
            f"</fieldset></form>"
        )
    related = center.related(entry)
    if related:
        parts.append(f'<h2>{_t(ctx, "hc_also_asked")}</h2>' + _link_list(ctx, related, conversation_id))
    body = f'<div itemscope itemtype="https://schema.org/FAQPage">{"".join(parts)}</div>'  # one Q&A per page
    return _page(ctx, title=f"{question} · {message(lang, 'hc_title', company=ctx.company)}",
                 path=f"/help/{entry.id}", body=body, description=answer[:160],
                 conversation_id=conversation_id)


def not_found_page(ctx: PageContext, path: str) -> str:
    body = f'<h1>{_t(ctx, "hc_not_found")}</h1>{_search_form(ctx)}<p><a href="/help{_q({"lang": ctx.language})}">{_t(ctx, "hc_back")}</a></p>'
    return _page(ctx, title=message(ctx.language, "hc_not_found"), path=path, body=body, index=False)


def contact_page(ctx: PageContext, conversation_id: str | None = None) -> str:
    """``/help/contact``: how to reach an agent (phone, text, contact page)."""
    lines = []
    if ctx.phone:
        tel = "".join(ch for ch in ctx.phone if ch.isdigit() or ch == "+")
        lines.append(f'<p><a id="call" href="tel:{escape(tel)}">{_t(ctx, "hc_call", phone=ctx.phone)}</a> '
                     f'{_t(ctx, "hc_text", phone=ctx.phone)}</p>')
    if ctx.contact_url:
        lines.append(f'<p><a href="{escape(ctx.contact_url)}" rel="nofollow">{_t(ctx, "hc_contact_page")}</a></p>')
    if not lines:
        lines.append(f'<p>{_t(ctx, "hc_contact_none")}</p>')
    body = (f'<h1>{_t(ctx, "hc_contact")}</h1><p>{_t(ctx, "hc_contact_intro")}</p>' + "".join(lines)
            + f'<p><a href="/help{_q({"lang": ctx.language})}">{_t(ctx, "hc_back")}</a></p>')
    return _page(ctx, title=message(ctx.language, "hc_contact") + " · " + message(ctx.language, "hc_title", company=ctx.company),
                 path="/help/contact", body=body, index=False, conversation_id=conversation_id, contact_box=False)


def sitemap(base_url: str, entries: list[FaqEntry]) -> str:
    """``/help/sitemap.xml``: the index and every entry, with their language alternates."""

    def url(path: str) -> str:
        alternates = "".join(
            f'<xhtml:link rel="alternate" hreflang="{HTML_LANG[code]}" href="{escape(base_url + path + _qs({"lang": code}))}"/>'
            for code in ("en", "zh")
        )
        return f"<url><loc>{escape(base_url + path)}</loc>{alternates}</url>"

    body = url("/help") + "".join(url(f"/help/{e.id}") for e in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:xhtml="http://www.w3.org/1999/xhtml">{body}</urlset>\n'
    )
