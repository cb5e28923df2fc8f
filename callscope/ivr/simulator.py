"""A phone-less caller: walks the real IVR flow by following its TwiML, like Twilio does.

It posts the incoming-call webhook, reads the TwiML, and answers each <Gather> with
the next scripted input (speech or keys) posted to the Gather's ``action`` URL,
follows <Redirect> on silence, stops at <Hangup>, <Dial> or <Enqueue>, and sends the
final call status callback. Every request is signed with X-Twilio-Signature, so the
real validation runs. It talks to an in-process app (starlette TestClient) or to a
running server (httpx).
"""

from __future__ import annotations

import logging
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from callscope.ivr.security import sign

log = logging.getLogger(__name__)

TERMINAL = ("Hangup", "Dial", "Enqueue", "Reject")


@dataclass(frozen=True, slots=True)
class CallerInput:
    """One caller action at a Gather: speech, keys, or silence (both None)."""

    speech: str | None = None
    digits: str | None = None
    confidence: float = 0.92

    @classmethod
    def parse(cls, line: str) -> CallerInput:
        """ "press 1" / "keys 503872#" / "dtmf 0" -> keys; "silence" or "" -> silence; else speech.
        Input made only of keypad characters ("1", "0", "503872#") counts as keys."""
        text = line.strip()
        m = re.fullmatch(r"(?:press|keys?|dtmf|digits?)\s+([0-9*#\s]+)", text, flags=re.IGNORECASE)
        if m:
            return cls(digits=re.sub(r"\s", "", m.group(1)))
        if re.fullmatch(r"[0-9*#]+", text):
            return cls(digits=text)
        if not text or text.lower() in ("silence", "(silence)", "<silence>"):
            return cls()
        if text.lower().startswith("say "):
            text = text[4:].strip()
        return cls(speech=text)

    @property
    def is_silence(self) -> bool:
        return not self.speech and not self.digits

    def describe(self) -> str:
        if self.digits:
            return f"[keys {self.digits}]"
        return f'"{self.speech}"' if self.speech else "[silence]"


@dataclass(slots=True)
class SimTurn:
    """One webhook request and what the caller heard."""

    url: str
    status_code: int
    said: list[tuple[str, str]] = field(default_factory=list)  # (text, language attribute)
    verbs: list[str] = field(default_factory=list)
    gather: dict[str, str] | None = None
    answer: CallerInput | None = None
    root: ET.Element | None = None


@dataclass(slots=True)
class SimulatedCall:
    call_sid: str
    turns: list[SimTurn] = field(default_factory=list)
    outcome: str = "unknown"  # hangup, dial, enqueue, caller_hangup, http_<code>, max_turns
    transfer: ET.Element | None = None  # the <Dial>/<Enqueue> element

    @property
    def heard(self) -> list[str]:
        return [text for t in self.turns for text, _ in t.said]

    def transcript(self) -> str:
        lines: list[str] = []
        for t in self.turns:
            for text, lang in t.said:
                lines.append(f"IVR ({lang or '-'}): {text}")
            if t.answer is not None:
                lines.append(f"caller: {t.answer.describe()}")
        lines.append(f"-- {self.outcome}" + (f": {self.transfer_target}" if self.transfer is not None else ""))
        return "\n".join(lines)

    @property
    def transfer_target(self) -> str | None:
        """Where the call was handed over, in words ("agent at +15550100", "queue support")."""
        verb = self.transfer
        if verb is None:
            return None
        if verb.tag == "Enqueue":
            return f"queue {(verb.text or '').strip() or verb.get('workflowSid') or '?'}"
        for child in verb:
            if child.tag in ("Number", "Sip", "Client", "Queue"):
                return f"agent at {(child.text or '').strip()}"
        return f"agent at {(verb.text or '').strip() or '?'}"


class HttpClient(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


class CallSimulator:
    """Drives one call through the IVR.

    Args:
        client: starlette TestClient (in-process) or httpx.Client.
        public_base: the base URL Twilio would use (e.g. https://ivr.example.com);
            requests are made and signed against it.
        auth_token: the Twilio auth token the server validates with ("" = unsigned).
        caller, called: From / To numbers.
        agent_answers: after a <Dial>, report the agent leg as completed (to reach the survey).
    """

    def __init__(
        self,
        client: HttpClient,
        public_base: str,
        auth_token: str,
        *,
        caller: str = "+15005550006",
        called: str = "+15005550100",
        call_sid: str | None = None,
        agent_answers: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.public_base = public_base.rstrip("/")
        self.auth_token = auth_token
        self.caller = caller
        self.called = called
        self.call_sid = call_sid or "CA" + secrets.token_hex(16)
        self.agent_answers = agent_answers
        self.extra_headers = extra_headers or {}

    def base_params(self) -> dict[str, str]:
        return {
            "AccountSid": "AC" + "0" * 32,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "CallStatus": "in-progress",
            "Called": self.called,
            "Caller": self.caller,
            "Direction": "inbound",
            "From": self.caller,
            "To": self.called,
        }

    def post(self, url: str, params: dict[str, str]) -> Any:
        """POST ``params`` to the absolute public ``url``, signed like Twilio."""
        headers = dict(self.extra_headers)
        if self.auth_token:
            headers["X-Twilio-Signature"] = sign(url, params, self.auth_token)
        target = url
        parts = urlsplit(url)
        if url.startswith(self.public_base):
            target = url[len(self.public_base) :] or "/"
        elif parts.path:
            target = parts.path + ("?" + parts.query if parts.query else "")
        return self.client.post(target, data=params, headers=headers)

    def run(
        self,
        inputs: Iterable[CallerInput] | Callable[[SimTurn], CallerInput | None],
        *,
        max_turns: int = 40,
        on_turn: Callable[[SimTurn], None] | None = None,
    ) -> SimulatedCall:
        """Make the call; ``inputs`` is a script or a function asked at each Gather
        (returning None hangs up)."""
        ask = inputs if callable(inputs) else _script(iter(inputs))
        call = SimulatedCall(self.call_sid)
        url = self.public_base + "/ivr/voice"
        params = self.base_params()
        for _ in range(max_turns):
            resp = self.post(url, params)
            turn = SimTurn(url=url, status_code=resp.status_code)
            call.turns.append(turn)
            if resp.status_code != 200:
                call.outcome = f"http_{resp.status_code}"
                if on_turn:
                    on_turn(turn)
                return call
            root = ET.fromstring(resp.text)
            turn.root = root
            next_request = self._walk(root, turn, call, ask)
            if on_turn:
                on_turn(turn)
            if next_request is None:
                self._finish(call)
                return call
            url, extra = next_request
            params = {**self.base_params(), **extra}
        call.outcome = "max_turns"
        self._finish(call)
        return call

    def _walk(
        self, root: ET.Element, turn: SimTurn, call: SimulatedCall, ask: Callable[[SimTurn], CallerInput | None]
    ) -> tuple[str, dict[str, str]] | None:
        for verb in root:
            turn.verbs.append(verb.tag)
            if verb.tag == "Say":
                turn.said.append((verb.text or "", verb.get("language", "")))
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        turn.said.append((child.text or "", child.get("language", "")))
                turn.gather = dict(verb.attrib)
                answer = ask(turn)
                if answer is None:
                    call.outcome = "caller_hangup"
                    return None
                turn.answer = answer
                if answer.is_silence:
                    continue  # Twilio falls through to the next verb (the Redirect)
                extra: dict[str, str] = {}
                if answer.digits:
                    extra = {"Digits": answer.digits, "FinishedOnKey": "#" if answer.digits.endswith("#") else ""}
                    extra["Digits"] = answer.digits.rstrip("#")
                else:
                    extra = {"SpeechResult": answer.speech or "", "Confidence": f"{answer.confidence:.2f}"}
                return urljoin(turn.url, verb.get("action") or turn.url), extra
            elif verb.tag == "Redirect":
                return urljoin(turn.url, (verb.text or "").strip() or turn.url), {}
            elif verb.tag in TERMINAL:
                call.outcome = verb.tag.lower()
                if verb.tag in ("Dial", "Enqueue"):
                    call.transfer = verb
                    if self.agent_answers and verb.get("action"):
                        done = (
                            {"DialCallStatus": "completed", "DialCallDuration": "95"}
                            if verb.tag == "Dial"
                            else {"QueueResult": "bridged", "QueueTime": "12"}
                        )
                        return urljoin(turn.url, verb.get("action") or ""), done
                return None
        call.outcome = "hangup" if call.outcome == "unknown" else call.outcome
        return None

    def _finish(self, call: SimulatedCall) -> None:
        params = {**self.base_params(), "CallStatus": "completed", "CallDuration": str(20 * len(call.turns))}
        try:
            self.post(self.public_base + "/ivr/status", params)
        except Exception as exc:  # noqa: BLE001 - the status callback is best effort
            log.debug("status callback failed: %s", exc)


def _script(inputs: Iterator[CallerInput]) -> Callable[[SimTurn], CallerInput | None]:
    def ask(_turn: SimTurn) -> CallerInput | None:
        return next(inputs, None)

    return ask


def read_script(text: str) -> list[CallerInput]:
    """A script file: one input per line ("press 1", "say where is my order", "silence");
    blank lines and lines starting with '#' followed by a space are ignored."""
    out: list[CallerInput] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("# ") or stripped == "#":
            continue
        out.append(CallerInput.parse(stripped))
    return out
