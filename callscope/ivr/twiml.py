"""TwiML building blocks (twilio's VoiceResponse): voices per language, Gather, transfers."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from twilio.twiml.voice_response import Dial, Enqueue, Gather, Recording, VoiceResponse

SAY_VOICE = {"en": ("Polly.Joanna", "en-US"), "zh": ("Polly.Zhiyu", "cmn-CN")}
GATHER_LANGUAGE = {"en": "en-US", "zh": "cmn-Hans-CN"}
RECORDING_NAME = "callscope"


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    """Say voice and language per caller language (Polly voices by default)."""

    say: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(SAY_VOICE))
    gather_language: dict[str, str] = field(default_factory=lambda: dict(GATHER_LANGUAGE))


def say(target: VoiceResponse | Gather, text: str, language: str, voices: VoiceOptions) -> None:
    """Add a <Say> in the caller's language (skipped for empty text)."""
    if not text:
        return
    voice, lang = voices.say.get(language, voices.say["en"])
    target.say(text, voice=voice, language=lang)


def gather(
    response: VoiceResponse,
    action: str,
    language: str,
    voices: VoiceOptions,
    *,
    hints: str = "",
    num_digits: int | None = 1,
    finish_on_key: str | None = None,
    timeout_s: int = 5,
    speech: bool = True,
) -> Gather:
    """Add a speech+DTMF <Gather> posting to ``action`` (automatic speech timeout)."""
    return response.gather(
        input="speech dtmf" if speech else "dtmf",
        action=action,
        method="POST",
        language=voices.gather_language.get(language, voices.gather_language["en"]) if speech else None,
        speech_timeout="auto" if speech else None,
        hints=hints or None,
        num_digits=num_digits,
        finish_on_key=finish_on_key,
        timeout=timeout_s,
        action_on_empty_result=False,
    )


def start_recording(response: VoiceResponse, callback: str) -> None:
    """<Start><Recording channels="dual" track="both"> for the rest of the call."""
    response.start().recording(
        name=RECORDING_NAME,
        channels="dual",
        track="both",
        recording_status_callback=callback,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )


def stop_recording(response: VoiceResponse) -> None:
    """<Stop><Recording name="callscope"/> (twilio 9.13's Stop has no .recording())."""
    response.stop().nest(Recording(name=RECORDING_NAME))


@dataclass(frozen=True, slots=True)
class TransferTarget:
    """Where agents are: a phone number, ``sip:...``, ``client:<identity>`` or ``queue:<name>``."""

    kind: str  # number, sip, client, queue
    address: str

    @classmethod
    def parse(cls, value: str) -> TransferTarget:
        value = (value or "").strip()
        low = value.lower()
        if low.startswith("queue:"):
            return cls("queue", value[6:].strip() or "support")
        if low.startswith(("sip:", "sips:")):
            return cls("sip", value)
        if low.startswith("client:"):
            return cls("client", value[7:].strip())
        return cls("number", value)


def transfer(
    response: VoiceResponse,
    target: TransferTarget,
    *,
    action: str,
    headers: dict[str, str],
    whisper_url: str | None,
    priority: bool,
    record_callback: str | None,
    timeout_s: int = 30,
    priority_queue_suffix: str = "-priority",
) -> None:
    """Add the <Dial> or <Enqueue> that hands the caller to an agent, with context.

    Context travels as SIP ``X-`` headers, <Client> parameters, or a whisper URL
    played to the agent before the call is bridged (numbers); queues get a separate
    priority queue. ``record_callback`` (when recording) records the agent leg
    dual-channel (caller on channel 1, agent on channel 2).
    """
    if target.kind == "queue":
        if record_callback:
            start_recording(response, record_callback)
        name = target.address + (priority_queue_suffix if priority else "")
        response.append(Enqueue(name[:64], action=action, method="POST"))
        return
    dial = Dial(
        action=action,
        method="POST",
        timeout=timeout_s,
        answer_on_bridge=True,
        record="record-from-answer-dual" if record_callback else None,
        recording_status_callback=record_callback,
        recording_status_callback_event="completed absent" if record_callback else None,
    )
    if target.kind == "sip":
        sep = "&" if "?" in target.address else "?"
        query = "&".join(f"X-{quote(k, safe='-')}={quote(v, safe='')}" for k, v in headers.items() if v)
        dial.sip(target.address + (sep + query if query else ""))
    elif target.kind == "client":
        client = dial.client()
        client.identity(target.address)
        for key, value in headers.items():
            if value:
                client.parameter(name=key, value=value)
    else:
        dial.number(target.address, url=whisper_url, method="POST" if whisper_url else None)
    response.append(dial)


def with_query(path: str, **params: object) -> str:
    """``path`` plus URL-encoded query parameters (None values dropped)."""
    clean = {k: str(v) for k, v in params.items() if v is not None}
    return f"{path}?{urlencode(clean)}" if clean else path
