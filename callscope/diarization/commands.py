"""``callscope diarize``: RTTM speaker turns for call recordings."""

from __future__ import annotations

from pathlib import Path

import typer

from callscope.diarization.diarize import diarize_file
from callscope.diarization.options import DiarizeOptions
from callscope.diarization.rttm import rttm_lines, write_rttm
from callscope.errors import CallscopeError
from callscope.settings import get_settings

app = typer.Typer()


@app.command("diarize")
def diarize_command(
    files: list[Path] = typer.Argument(..., help="Audio files (wav, mp3, flac, ogg, m4a...)."),
    rttm_dir: Path | None = typer.Option(
        None, "--rttm-dir", help="Write <DIR>/<file stem>.rttm for each file (default: RTTM on stdout)."
    ),
    num_speakers: int | None = typer.Option(None, "--num-speakers", min=1, help="Exact number of speakers."),
    min_speakers: int | None = typer.Option(None, "--min-speakers", min=1, help="At least this many speakers."),
    max_speakers: int | None = typer.Option(None, "--max-speakers", min=1, help="At most this many speakers."),
    method: str | None = typer.Option(
        None,
        "--method",
        help="auto, channels, embeddings (mono: resemblyzer), neural (mono: segmentation-3.0 + CAM++) or pyannote "
        "(default: CALLSCOPE_DIARIZATION_METHOD or auto).",
    ),
    mono_overlap: bool = typer.Option(
        False,
        "--mono-overlap",
        help="--method embeddings: mark both speakers where one starts without a pause (experimental; "
        "the neural method finds overlap itself).",
    ),
) -> None:
    """Find who spoke when (dual-channel calls by channel, mono calls by voice) and write RTTM."""

    settings = get_settings()
    try:
        options = DiarizeOptions.from_settings(
            settings,
            **({"method": method} if method else {}),
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            mono_overlap=mono_overlap,
        )
    except CallscopeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if rttm_dir is not None:
        rttm_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in files:
        try:
            diarization = diarize_file(path, options)
        except CallscopeError as exc:
            failed += 1
            message = str(exc)
            typer.echo(f"error: {message if message.startswith(path.name) else f'{path}: {message}'}", err=True)
            continue
        if rttm_dir is None:
            typer.echo("".join(rttm_lines(diarization, path.stem)), nl=False)
        else:
            out = write_rttm(diarization, rttm_dir / f"{path.stem}.rttm", uri=path.stem)
            speakers = ", ".join(diarization.speakers) or "no speech"
            typer.echo(
                f"{path} -> {out} ({len(diarization.turns)} turns: {speakers}; {diarization.method})", err=True
            )
    if failed:
        typer.echo(f"{failed} of {len(files)} file(s) failed", err=True)
        raise typer.Exit(code=1)
