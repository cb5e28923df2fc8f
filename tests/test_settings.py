"""Settings from the environment / config file, and errors that name the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callscope.errors import ConfigError
from callscope.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_are_embedded_and_offline(tmp_path: Path) -> None:
    settings = get_settings()
    assert settings.queue == "inprocess"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'callscope.db'}"
    assert settings.resolved_model_dir == tmp_path / "data" / "models"
    assert settings.languages == ["en", "zh"] and settings.channel_roles == ["caller", "agent"]
    assert settings.pii_redaction is True and settings.twilio_validate is True


def test_lists_from_csv_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSCOPE_LANGUAGES", " zh , en ")
    monkeypatch.setenv("CALLSCOPE_CHANNEL_ROLES", '["agent", "caller"]')
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "abc123")
    settings = get_settings()
    assert settings.languages == ["zh", "en"]
    assert settings.channel_roles == ["agent", "caller"]
    assert settings.twilio_auth_token.get_secret_value() == "abc123"
    assert "abc123" not in repr(settings)


def test_config_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "callscope.env"
    config.write_text("CALLSCOPE_QUEUE=rq\nCALLSCOPE_REDIS_URL=redis://queue.internal:6379/2\n")
    monkeypatch.setenv("CALLSCOPE_CONFIG", str(config))
    settings = get_settings()
    assert settings.queue == "rq" and settings.redis_url.endswith("/2")


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLSCOPE_QUEUE", "celery-ish")
    monkeypatch.setenv("CALLSCOPE_WORKERS", "0")
    with pytest.raises(ConfigError) as caught:
        get_settings()
    message = str(caught.value)
    assert "CALLSCOPE_QUEUE='celery-ish'" in message and "'inprocess' or 'rq'" in message
    assert "CALLSCOPE_WORKERS='0'" in message


def test_cli_reports_bad_settings_without_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from callscope import cli

    monkeypatch.setenv("CALLSCOPE_MAX_UPLOAD_MB", "lots")
    monkeypatch.setattr(sys, "argv", ["callscope", "recordings"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid settings") and "CALLSCOPE_MAX_UPLOAD_MB='lots'" in err
    assert "Traceback" not in err


def test_ivr_threads_share_the_cores_among_server_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from callscope import settings as settings_module
    from callscope.settings import Settings

    monkeypatch.setattr(settings_module, "usable_cores", lambda: 4)
    assert Settings().resolved_ivr_threads == 4  # one process: one lane thread per core
    assert Settings(workers=2).resolved_ivr_threads == 2
    assert Settings(workers=8).resolved_ivr_threads == 1
    assert Settings(workers=2, ivr_threads=3).resolved_ivr_threads == 3  # CALLSCOPE_IVR_THREADS wins
    monkeypatch.setattr(settings_module, "usable_cores", lambda: 1)
    assert Settings().resolved_ivr_threads == 2  # keypad turns never queue behind one question


def test_job_threads_are_not_server_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from callscope.settings import Settings

    monkeypatch.setenv("CALLSCOPE_JOB_THREADS", "3")
    monkeypatch.setenv("CALLSCOPE_WORKERS", "2")
    settings = Settings()
    assert (settings.job_threads, settings.workers) == (3, 2)
