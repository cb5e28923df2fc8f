"""The public help center: ``GET /help`` (search with ``?q=``), ``GET /help/{entry_id}``,
``POST /help/{entry_id}/feedback``, ``GET /help/contact`` and ``GET /help/sitemap.xml``.
No login, no JavaScript.

The language is ``?lang=en|zh`` when given, else the browser's ``Accept-Language``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callscope.db import transaction
from callscope.ivr import deps
from callscope.ivr.security import public_base
from callscope.selfservice.helpcenter import HelpCenter, is_crawler, pick_language
from callscope.selfservice.notify import support_phone
from callscope.selfservice.pages import PageContext, contact_page, entry_page, index_page, not_found_page, sitemap

router = APIRouter(prefix="/help", tags=["help center"], include_in_schema=False)

Lang = Annotated[str | None, Query(max_length=8)]
Conv = Annotated[str | None, Query(max_length=64)]
_CACHE = {"Cache-Control": "public, max-age=60", "Vary": "Accept-Language"}
_NO_CACHE = {"Cache-Control": "no-store"}


def _context(request: Request, settings, lang: str | None) -> PageContext:  # type: ignore[no-untyped-def]
    languages = [code for code in settings.languages if code in ("en", "zh")]
    language = pick_language(lang, request.headers.get("accept-language"), languages[0] if languages else "en")
    return PageContext(
        language=language,
        base_url=public_base(request, settings.public_base_url).rstrip("/"),
        company=settings.company_name,
        phone=support_phone(settings),
        contact_url=settings.support_url,
    )


@router.get("", response_class=HTMLResponse)
def help_index(
    request: Request,
    settings: deps.SettingsDep,
    factory: deps.SessionFactoryDep,
    matcher: deps.MatcherDep,
    q: Annotated[str, Query(max_length=500)] = "",
    lang: Lang = None,
) -> HTMLResponse:
    """Every published entry by topic; with ``q``, the best answer and related entries first."""
    ctx = _context(request, settings, lang)
    center = HelpCenter(matcher)
    if not q.strip():
        return HTMLResponse(index_page(ctx, center), headers=_CACHE)
    with transaction(factory) as session:
        result = center.search(session, q, record=not is_crawler(request.headers.get("user-agent")))
    return HTMLResponse(index_page(ctx, center, result), headers=_NO_CACHE)


@router.get("/sitemap.xml")
def help_sitemap(request: Request, settings: deps.SettingsDep, matcher: deps.MatcherDep) -> Response:
    """Every help-center URL for search engines."""
    base = public_base(request, settings.public_base_url).rstrip("/")
    return Response(sitemap(base, HelpCenter(matcher).published()), media_type="application/xml", headers=_CACHE)


@router.get("/contact", response_class=HTMLResponse)
def help_contact(
    request: Request, settings: deps.SettingsDep, factory: deps.SessionFactoryDep, lang: Lang = None, c: Conv = None
) -> HTMLResponse:
    """How to reach an agent; the search ``c`` that led here counts as not deflected."""
    ctx = _context(request, settings, lang)
    if c:
        with transaction(factory) as session:
            HelpCenter.record_contact(session, c)
    return HTMLResponse(contact_page(ctx, c), headers=_NO_CACHE)


@router.get("/{entry_id}", response_class=HTMLResponse)
def help_entry(
    entry_id: str,
    request: Request,
    settings: deps.SettingsDep,
    matcher: deps.MatcherDep,
    lang: Lang = None,
    c: Conv = None,
    fb: Annotated[str | None, Query(max_length=4)] = None,
) -> HTMLResponse:
    """One entry: question, answer, "was this helpful?", related questions."""
    ctx = _context(request, settings, lang)
    center = HelpCenter(matcher)
    entry = center.entry(entry_id)
    if entry is None:
        return HTMLResponse(not_found_page(ctx, f"/help/{entry_id}"), status_code=404)
    headers = _CACHE if not (c or fb) else _NO_CACHE
    return HTMLResponse(entry_page(ctx, center, entry, conversation_id=c, feedback=fb), headers=headers)


@router.post("/{entry_id}/feedback", response_model=None)
def help_feedback(
    entry_id: str,
    request: Request,
    settings: deps.SettingsDep,
    factory: deps.SessionFactoryDep,
    matcher: deps.MatcherDep,
    helpful: Annotated[str, Form(max_length=8)],
    lang: Annotated[str, Form(max_length=8)] = "",
    c: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse | HTMLResponse:
    """Store a vote and go back to the entry (303, so reloading does not vote again)."""
    center = HelpCenter(matcher)
    if center.entry(entry_id) is None or helpful not in ("yes", "no"):
        ctx = _context(request, settings, lang or None)
        return HTMLResponse(not_found_page(ctx, f"/help/{entry_id}"), status_code=404)
    language = pick_language(lang or None, request.headers.get("accept-language"))
    with transaction(factory) as session:
        center.record_feedback(session, entry_id, helpful == "yes", language, c or None)
    query = urlencode({"lang": language, "fb": helpful, **({"c": c} if c else {})})
    return RedirectResponse(f"/help/{entry_id}?{query}#feedback", status_code=303)
