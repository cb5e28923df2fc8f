"""End to end in headless Chromium: log in, upload, wait for processing, review, FAQ publish.

The server is the real app (real queue and pipeline) under uvicorn on a free loopback
port. Screenshots of the main pages go to ``$CALLSCOPE_SCREENSHOT_DIR`` when set (the
docs use ``docs/screenshots``), else to the test's temporary folder. For the docs, more
calls are uploaded (``$CALLSCOPE_SCREENSHOT_CALLS``: a folder of ``*.stereo.wav``) and a
few IVR calls are simulated, so the insights page has data.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from callscope.settings import Settings

CALL = Path(__file__).parent.parent / "data" / "calls" / "s_en_01.stereo.wav"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ADMIN_PASSWORD = "browser-test-admin-pw"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class LiveServer:
    url: str
    app: object
    settings: Settings
    kb_path: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    import uvicorn

    from callscope.api.app import ApiOptions, create_app
    from callscope.ivr.kb import BUNDLED_KB

    kb_path = tmp_path / "kb.yaml"
    shutil.copy(BUNDLED_KB, kb_path)  # publishing writes here, never into the package
    live_settings = settings.model_copy(update={"admin_password": SecretStr(ADMIN_PASSWORD), "kb_path": kb_path,
                                                "twilio_validate": False})
    app = create_app(live_settings, options=ApiOptions())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", app, live_settings, kb_path)
    server.should_exit = True
    thread.join(timeout=120)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _wait_until(page, expression: str, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a JavaScript expression until it is truthy (page.wait_for_function would need
    'unsafe-eval', which the dashboard's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {expression}")
        page.wait_for_timeout(200)


def _shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CALLSCOPE_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_review_a_call_in_the_browser(live_server: LiveServer, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shots = _shots_dir(tmp_path)
    page = browser.new_page(viewport={"width": 1440, "height": 960})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    # 1. anonymous visitors land on the login page
    page.goto(live_server.url + "/calls")
    page.wait_for_selector("input[name=username]")
    assert page.url.endswith("/login?next=%2Fcalls")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector(".form-error:not([hidden])")
    assert "Wrong user name or password" in page.inner_text(".form-error")
    page.screenshot(path=str(shots / "login.png"))
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/calls")

    # 2. upload a call and wait for processing to finish (the list polls); for the docs'
    #    screenshots, the other sample calls too
    files = [CALL]
    docs = bool(os.environ.get("CALLSCOPE_SCREENSHOT_DIR"))
    if docs:  # more calls, so the insights have something to show
        more = Path(os.environ.get("CALLSCOPE_SCREENSHOT_CALLS") or CALL.parent)
        files += sorted(f for f in more.glob("*.stereo.wav") if f.name != CALL.name)
        _simulate_ivr_calls(live_server)
    page.set_input_files(".dropzone input[type=file]", [str(f) for f in files])
    page.wait_for_selector("tr.row")
    _wait_until(page, f"document.querySelectorAll('tr.row .st-done').length === {len(files)}", 300 * len(files))
    row = page.locator("tr.row", has_text=CALL.name)
    assert row.locator(".badge.emo-neutral, .badge.emo-positive, .badge.emo-frustrated, .badge.emo-anxious").count() == 1
    page.screenshot(path=str(shots / "calls.png"))

    # 3. the review page: clicking a word seeks the audio there and highlights it
    row.locator("a.call-name").click()
    page.wait_for_selector(".seg .w")
    _wait_until(page, "document.getElementById('player-audio').readyState >= 1")
    assert page.evaluate("document.getElementById('player-audio').currentTime") == 0
    word = page.locator(".seg").nth(3).locator(".w").nth(1)
    start = float(word.get_attribute("data-start"))
    assert start > 5
    word.click()
    _wait_until(page, f"Math.abs(document.getElementById('player-audio').currentTime - {start}) < 0.25")
    assert "on" in (word.get_attribute("class") or "")
    assert page.locator(".seg.current").count() == 1
    page.keyboard.press("l")  # +5 s
    _wait_until(page, f"document.getElementById('player-audio').currentTime > {start + 4.5}")
    page.keyboard.press(" ")  # play: the highlight follows the audio
    _wait_until(page, "!document.getElementById('player-audio').paused")
    position = page.evaluate("document.getElementById('player-audio').currentTime")
    _wait_until(page, f"document.getElementById('player-audio').currentTime > {position + 0.5}")
    page.keyboard.press(" ")
    _wait_until(page, "document.getElementById('player-audio').paused")
    assert page.locator(".w.on").count() == 1
    assert page.locator(".panel:has-text('Conversation metrics') .kv").count() == 1
    assert page.locator(".chart-wrap svg circle").count() > 3
    page.locator(".wave-wrap canvas").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "review.png"))

    # 4. a QA scorecard
    page.locator(".score-row").nth(0).locator("button[data-v='5']").click()
    page.locator(".score-row").nth(3).locator("button[data-v='4']").click()
    page.fill("#scorecard textarea", "Clear answer, friendly close.")
    page.click("#scorecard .btn:has-text('Save scorecard')")
    page.wait_for_selector("#scorecard .past-card")
    assert "90%" in page.inner_text("#scorecard .past-card")

    # 5. FAQ: approve and publish a draft to the IVR knowledge base
    _add_ivr_calls(live_server, contained=(True, False))  # IVR traffic before the publish
    draft_id = _make_faq_draft(live_server)
    page.goto(live_server.url + "/insights")
    entry = page.locator(f".faq[data-id='{draft_id}']")
    entry.wait_for()
    page.screenshot(path=str(shots / "insights.png"))
    entry.locator("textarea").first.fill("Monday to Saturday 9 a.m. to 8 p.m., Sunday 10 a.m. to 5 p.m.")
    entry.locator("[data-action=approve]").click()
    page.click(".tabs button:has-text('approved')")
    approved = page.locator(f".faq[data-id='{draft_id}']")
    approved.locator("[data-action=publish]").click()
    page.click(".tabs button:has-text('published')")
    page.locator(f".faq[data-id='{draft_id}'] .st-published").wait_for()
    assert draft_id in live_server.kb_path.read_text(encoding="utf-8")
    assert "Sunday 10 a.m. to 5 p.m." in live_server.kb_path.read_text(encoding="utf-8")

    # 6. the insights page shows the published entry and the IVR's containment since it was published
    _add_ivr_calls(live_server, contained=(True, True))
    page.goto(live_server.url + "/insights")
    page.locator("#ivr-split").wait_for()
    assert f"since publishing {draft_id}" in page.inner_text(".kpi:has-text('IVR containment')")
    assert "100% (2 of 2 calls)" in page.inner_text("#ivr-split")
    assert page.inner_text(".tabs button[data-status=published]") == "published (1)"
    page.screenshot(path=str(shots / "insights-published.png"), full_page=True)
    page.click(".tabs button[data-status=superseded]")
    page.locator("#faq-list .empty:has-text('No superseded entries')").wait_for()

    assert not problems, problems


def _simulate_ivr_calls(server: LiveServer) -> None:
    """Real calls through the IVR webhooks (the phone-less simulator), for the IVR insights."""
    import httpx

    from callscope.ivr.simulator import CallerInput, CallSimulator

    scripts = [
        ["what time do you open on Sunday", "no thanks"],
        ["how do I reset my password", "no"],
        ["can I return a phone I bought online", "that's all"],
        ["I want to speak to a person"],
        ["do you repair drones", "do you repair drones", "agent"],
        ["你们周日几点开门", "没有了"],
        ["my internet bill is wrong and I am really annoyed", "this is useless, get me a human"],
    ]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for n, script in enumerate(scripts):
            CallSimulator(client, server.url, "", caller=f"+1500555{n:04d}").run(
                [CallerInput(speech=line) for line in script])


def _add_ivr_calls(server: LiveServer, contained: tuple[bool, ...]) -> None:
    """IVR calls as the webhooks record them: answered in self-service, or transferred."""
    from datetime import timedelta

    from callscope.db import transaction, utcnow
    from callscope.ivr.tables import IvrCallRow, IvrEventRow

    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    now = utcnow()
    with transaction(ctx.sessions) as session:
        for answered in contained:
            sid = f"CA{os.urandom(16).hex()}"
            if answered:
                session.add_all([
                    IvrCallRow(call_sid=sid, from_number=f"+1555{sid[2:9]}", language="en", status="ended",
                               started_at=now, ended_at=now + timedelta(seconds=30), intent="opening_hours"),
                    IvrEventRow(call_sid=sid, kind="input", at=now, data={"text": "when do you open on Sunday"}),
                    IvrEventRow(call_sid=sid, kind="answered", at=now,
                                data={"intent": "opening_hours", "self_service": True}),
                ])
            else:
                session.add(IvrCallRow(call_sid=sid, from_number=f"+1555{sid[2:9]}", language="en",
                                       status="transferred", transferred=True, transfer_reason="no_match",
                                       started_at=now, transferred_at=now + timedelta(seconds=30)))


def _make_faq_draft(server: LiveServer) -> str:
    """A draft as the FAQ workflow creates it from calls (through its own API)."""
    import httpx

    from callscope.auth import service as auth

    ctx = server.app.state.ctx  # type: ignore[attr-defined]
    key = auth.create_api_key(ctx, "admin", "browser-test")[1]
    response = httpx.post(server.url + "/api/faq", headers={"X-API-Key": key}, json={
        "questions": {"en": ["When do your stores open on Sunday?"]},
        "answers": {"en": "Sunday 10 a.m. to 5 p.m."},
        "tags": ["hours"],
    })
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_help_center_in_the_browser(live_server: LiveServer, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The public help center, with JavaScript off (it must not need it): browse by topic,
    search, read the best answer, vote, contact an agent, switch to Mandarin."""
    shots = _shots_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1100, "height": 900}, java_script_enabled=False,
                                  locale="en-US", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda req: failed.append(req.url))
    external: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(live_server.url) else external.append(req.url))

    page.goto(live_server.url + "/help")  # no login
    assert page.title() == "Brightwave Help Center"
    assert page.locator("section.topic").count() >= 5
    assert page.locator("#topic-hours a", has_text="What are your opening hours?").count() == 1
    page.screenshot(path=str(shots / "help.png"), full_page=True)

    page.fill("#q", "I forgot my password")
    page.press("#q", "Enter")  # a plain GET form
    page.wait_for_selector("#best")
    assert "forgot password link" in page.inner_text("#best")
    assert "q=I+forgot+my+password" in page.url
    page.screenshot(path=str(shots / "help_search.png"), full_page=True)

    page.click("#best h3 a")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == "How do I reset my password?"
    page.click("#feedback button[value=yes]")
    page.wait_for_selector("#feedback[role=status]")
    assert "Thanks for your feedback" in page.inner_text("#feedback")

    page.click("#contact-link")
    page.wait_for_selector("#call")
    assert page.get_attribute("#call", "href") == "tel:+15550100"

    page.goto(live_server.url + "/help")
    page.click("a.lang")
    page.wait_for_selector("html[lang=zh-Hans]")
    assert "帮助中心" in page.title() and page.locator("#topic-hours a", has_text="几点开门").count() >= 1
    page.fill("#q", "周日几点开门")
    page.press("#q", "Enter")
    page.wait_for_selector("#best")
    assert "周日上午十点到下午五点" in page.inner_text("#best")
    page.screenshot(path=str(shots / "help_zh.png"), full_page=True)
    assert not failed and not external, (failed, external)

    from sqlalchemy import select

    from callscope.selfservice.tables import ConversationRow, HelpFeedbackRow

    ctx = live_server.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        convs = session.scalars(select(ConversationRow).order_by(ConversationRow.started_at)).all()
        assert [(c.channel, c.intent, c.handover) for c in convs] == [
            ("web", "password_reset", True), ("web", "opening_hours", False)]
        assert [(f.entry_id, f.helpful) for f in session.scalars(select(HelpFeedbackRow))] == [("password_reset", True)]
    context.close()

    # the dashboard's insights page puts the help center next to the other channels
    page = browser.new_page(viewport={"width": 1440, "height": 960})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.goto(live_server.url + "/login?next=%2Finsights")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#deflection", timeout=120_000)
    text = page.inner_text("#deflection")
    assert "Help center" in text and "50% (1 of 2)" in text, text
    page.locator("#selfservice").screenshot(path=str(shots / "insights_selfservice.png"))
    assert not problems, problems
