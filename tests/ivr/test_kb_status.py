"""``/ivr/kb/status`` shows the server's KB path, entry ids and reload errors: operators only."""

from __future__ import annotations

from pydantic import SecretStr

from tests.ivr.conftest import make_client


def test_kb_status_needs_the_operator_token(ivr_settings) -> None:  # type: ignore[no-untyped-def]
    with make_client(ivr_settings, secret_key=SecretStr("operator-secret")) as client:
        anonymous = client.get("/ivr/kb/status")
        assert anonymous.status_code == 401
        assert str(ivr_settings.kb_path) not in anonymous.text and "ids" not in anonymous.text
        assert client.get("/ivr/kb/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/ivr/kb/status", headers={"Authorization": "Bearer operator-secret"})
        assert ok.status_code == 200 and ok.json()["entries"] > 0 and ok.json()["error"] is None
