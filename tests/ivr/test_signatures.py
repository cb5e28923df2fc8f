"""Both Twilio signature schemes, checked with twilio's own RequestValidator:
the auth-token HMAC-SHA1 and Webhook Rules (SharedKey, HMAC-SHA256), form and JSON bodies."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from callscope.errors import WebhookSignatureError
from callscope.ivr.security import signature_settings, verify_signature
from callscope.ivr.tables import IvrCallRow, IvrEventRow

from .conftest import PUBLIC, TOKEN, make_client

SHARED_KEY = "shared-key-secret-9f8e7d6c5b4a"
KEY_ID = "webhooks_sharedkey_0123"
RULE_HEADER = f"key={KEY_ID},algorithm=HMAC_SHA256"
RULE = {"X-Twilio-Webhooks-Signature-Settings": RULE_HEADER}
PARAMS = {
    "CallSid": "CAsig0000000000000000000000000001",
    "AccountSid": "AC" + "0" * 32,
    "From": "+15005550006",
    "To": "+15005550100",
    "CallStatus": "ringing",
    "Digits": "",  # an empty field is signed too
}
URL = PUBLIC + "/ivr/voice"


def sha256_signature(url: str, params, secret: str = SHARED_KEY) -> str:
    return RequestValidator(secret).compute_signature(url, params, algorithm="HMAC_SHA256")


def counts(db) -> tuple[int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(IvrCallRow)),
        db.scalar(select(func.count()).select_from(IvrEventRow)),
    )


@pytest.fixture
def rule_client(ivr_settings):
    with make_client(ivr_settings, twilio_webhook_secret=SecretStr(SHARED_KEY)) as c:
        yield c


def test_signature_settings_header_parsing() -> None:
    assert signature_settings(None) == ("HMAC_SHA1", "")
    assert signature_settings(RULE_HEADER) == ("HMAC_SHA256", KEY_ID)
    assert signature_settings(" algorithm = hmac_sha256 , key = k1 ") == ("HMAC_SHA256", "k1")
    assert signature_settings("key=k2") == ("HMAC_SHA1", "k2")


def test_shared_key_sha256_request_is_accepted(rule_client, db) -> None:
    headers = {"X-Twilio-Signature": sha256_signature(URL, PARAMS), **RULE}
    resp = rule_client.post("/ivr/voice", data=PARAMS, headers=headers)
    assert resp.status_code == 200 and ET.fromstring(resp.text).find("Gather") is not None
    assert counts(db)[0] == 1


def test_forged_shared_key_requests_are_rejected_and_nothing_recorded(rule_client, db) -> None:
    forged = [
        # signed with the wrong secret
        {"X-Twilio-Signature": sha256_signature(URL, PARAMS, "guess"), **RULE},
        # signed with the auth token while claiming a Webhook Rule
        {"X-Twilio-Signature": sha256_signature(URL, PARAMS, TOKEN), **RULE},
        # the right SHA256 signature presented as the legacy scheme (no settings header)
        {"X-Twilio-Signature": sha256_signature(URL, PARAMS)},
        # a downgrade attempt: a Webhook Rule header naming SHA1, signed with the auth token
        {
            "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(URL, PARAMS),
            "X-Twilio-Webhooks-Signature-Settings": f"key={KEY_ID},algorithm=HMAC_SHA1",
        },
        # an algorithm we do not know
        {
            "X-Twilio-Signature": sha256_signature(URL, PARAMS),
            "X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_MD5",
        },
        # no signature at all
        dict(RULE),
    ]
    for headers in forged:
        assert rule_client.post("/ivr/voice", data=PARAMS, headers=headers).status_code == 403, headers
    # tampered field after signing
    headers = {"X-Twilio-Signature": sha256_signature(URL, PARAMS), **RULE}
    assert rule_client.post("/ivr/voice", data={**PARAMS, "From": "+19995550000"}, headers=headers).status_code == 403
    # an empty field dropped after signing
    trimmed = {k: v for k, v in PARAMS.items() if k != "Digits"}
    assert rule_client.post("/ivr/voice", data=trimmed, headers=headers).status_code == 403
    assert counts(db) == (0, 0)


def test_legacy_auth_token_signatures_still_work_with_a_shared_key_set(rule_client, db) -> None:
    headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(URL, PARAMS)}
    assert rule_client.post("/ivr/voice", data=PARAMS, headers=headers).status_code == 200


def test_webhook_rule_without_configured_secret_is_rejected_with_a_clear_reason(client, db) -> None:
    headers = {"X-Twilio-Signature": sha256_signature(URL, PARAMS), **RULE}
    assert client.post("/ivr/voice", data=PARAMS, headers=headers).status_code == 403
    assert counts(db) == (0, 0)
    with pytest.raises(WebhookSignatureError, match=f"{KEY_ID}.*CALLSCOPE_TWILIO_WEBHOOK_SECRET"):
        verify_signature(URL, PARAMS, sha256_signature(URL, PARAMS), TOKEN, settings_header=RULE_HEADER)


def test_webhook_secret_setting_from_environment(monkeypatch) -> None:
    from callscope.settings import Settings

    monkeypatch.setenv("CALLSCOPE_TWILIO_WEBHOOK_SECRET", SHARED_KEY)
    assert Settings().twilio_webhook_secret.get_secret_value() == SHARED_KEY


def json_url(body: str, path: str = "/ivr/status") -> str:
    digest = RequestValidator("unused").compute_hash(body)
    return f"{PUBLIC}{path}?bodySHA256={quote(digest)}"


@pytest.mark.parametrize("scheme", ["auth_token", "shared_key"])
def test_json_body_signed_with_body_sha256(rule_client, db, scheme: str) -> None:
    body = json.dumps({"CallSid": "CAjson00000000000000000000000001", "CallStatus": "completed", "CallDuration": 42})
    url = json_url(body)
    if scheme == "auth_token":
        headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, {})}
    else:
        headers = {"X-Twilio-Signature": sha256_signature(url, {}), **RULE}
    headers["Content-Type"] = "application/json"
    path = url.removeprefix(PUBLIC)
    assert rule_client.post(path, content=body, headers=headers).status_code == 204
    db.expire_all()
    row = db.get(IvrCallRow, "CAjson00000000000000000000000001")
    assert row is not None and row.ended_at is not None  # the JSON fields reached the handler
    # the body changed after signing: the hash in the URL no longer matches
    tampered = body.replace("42", "43").replace("CAjson00000000000000000000000001", "CAjson00000000000000000000000002")
    assert rule_client.post(path, content=tampered, headers=headers).status_code == 403
    assert db.get(IvrCallRow, "CAjson00000000000000000000000002") is None


def test_json_body_without_body_hash_is_rejected(rule_client, db) -> None:
    body = json.dumps({"CallSid": "CAjson00000000000000000000000003", "CallStatus": "completed"})
    headers = {
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC + "/ivr/status", {}),
        "Content-Type": "application/json",
    }
    assert rule_client.post("/ivr/status", content=body, headers=headers).status_code == 403
    assert counts(db) == (0, 0)
