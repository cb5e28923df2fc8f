"""``/ivr/kb/status`` shows the server's KB path, entry ids and reload errors: operators only."""

from __future__ import annotations

from pydantic import SecretStr

from callscope.ivr.simulator import CallerInput, CallSimulator
from tests.ivr.conftest import PUBLIC, TOKEN, make_client


def test_kb_status_needs_the_operator_token(ivr_settings) -> None:  # type: ignore[no-untyped-def]
    with make_client(ivr_settings, secret_key=SecretStr("operator-secret")) as client:
        anonymous = client.get("/ivr/kb/status")
        assert anonymous.status_code == 401
        assert str(ivr_settings.kb_path) not in anonymous.text and "ids" not in anonymous.text
        assert client.get("/ivr/kb/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/ivr/kb/status", headers={"Authorization": "Bearer operator-secret"})
        assert ok.status_code == 200 and ok.json()["entries"] > 0 and ok.json()["error"] is None


def test_kb_status_counts_how_callers_questions_were_scored(ivr_settings) -> None:  # type: ignore[no-untyped-def]
    with make_client(ivr_settings, secret_key=SecretStr("operator-secret")) as client:
        auth = {"Authorization": "Bearer operator-secret"}
        before = client.get("/ivr/kb/status", headers=auth).json()["scoring"]
        assert set(before) == {"full", "screen", "late"}
        CallSimulator(client, PUBLIC, TOKEN).run([CallerInput.parse(s) for s in ("press 1", "what time do you open on saturday")])
        after = client.get("/ivr/kb/status", headers=auth).json()["scoring"]
        assert sum(after.values()) == sum(before.values()) + 1
