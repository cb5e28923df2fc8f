"""X-Twilio-Signature checks with the URL Twilio actually called (proxy-aware)."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from twilio.request_validator import RequestValidator

from callscope.errors import WebhookSignatureError
from callscope.settings import Settings

log = logging.getLogger(__name__)


def public_url(request: Request, public_base_url: str | None = None) -> str:
    """The URL Twilio requested: ``public_base_url`` + path + query when configured,
    else rebuilt from X-Forwarded-Proto / X-Forwarded-Host (first value) or Host."""
    path = request.url.path
    query = request.url.query
    if public_base_url:
        base = urlsplit(public_base_url.rstrip("/"))
        prefix = base.path.rstrip("/")
        # behind a path-rewriting proxy the app may see /ivr/... while Twilio called /prefix/ivr/...
        full_path = path if prefix and path.startswith(prefix + "/") else prefix + path
        return urlunsplit((base.scheme, base.netloc, full_path, query, ""))
    headers = request.headers
    proto = headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip() or request.url.scheme
    host = headers.get("x-forwarded-host") or headers.get("host") or request.url.netloc
    host = host.split(",")[0].strip()
    return urlunsplit((proto, host, path, query, ""))


def public_base(request: Request, public_base_url: str | None = None) -> str:
    """scheme://host[/prefix] that Twilio uses for this app."""
    if public_base_url:
        return public_base_url.rstrip("/")
    parts = urlsplit(public_url(request))
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


SIGNATURE_ALGORITHMS = ("HMAC_SHA1", "HMAC_SHA256")


def signature_settings(header: str | None) -> tuple[str, str]:
    """(algorithm, key id) from X-Twilio-Webhooks-Signature-Settings (``key=…,algorithm=…``);
    ("HMAC_SHA1", "") without the header: the legacy auth-token signature."""
    algorithm, key_id = "", ""
    for part in (header or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip().lower() == "algorithm":
            algorithm = value.strip().upper()
        elif sep and name.strip().lower() == "key":
            key_id = value.strip()
    return algorithm or "HMAC_SHA1", key_id


def verify_signature(
    url: str,
    params: dict[str, str] | str,
    signature: str,
    auth_token: str,
    *,
    settings_header: str | None = None,
    webhook_secret: str = "",
) -> None:
    """Check an X-Twilio-Signature.

    Two schemes: the legacy one (HMAC-SHA1 with the account auth token), and Webhook
    Rules, announced by X-Twilio-Webhooks-Signature-Settings (``key=…,algorithm=HMAC_SHA256``)
    and signed with the rule's SharedKey secret (``CALLSCOPE_TWILIO_WEBHOOK_SECRET``).
    JSON bodies are signed through a ``bodySHA256`` query parameter; pass the raw body.

    Args:
        url: the public URL of the request (see :func:`public_url`).
        params: the POST form fields (all of them, empty values included), or the raw
            body for JSON webhooks.
        signature: the X-Twilio-Signature header.
        auth_token: the account auth token.
        settings_header: X-Twilio-Webhooks-Signature-Settings, when Twilio sent it.
        webhook_secret: the SharedKey secret of the Webhook Rule, when one is used.

    Raises:
        WebhookSignatureError: missing secret or signature, unsupported algorithm, or no match.
    """
    algorithm, key_id = signature_settings(settings_header)
    if settings_header:
        secret = webhook_secret
        if not secret:
            raise WebhookSignatureError(
                f"this request is signed with Webhook Rule key {key_id or '(unnamed)'} ({algorithm}); "
                "set CALLSCOPE_TWILIO_WEBHOOK_SECRET to that SharedKey secret"
            )
    else:
        secret = auth_token
        if not secret:
            raise WebhookSignatureError(
                "TWILIO_AUTH_TOKEN is not set, so webhook signatures cannot be checked; set it "
                "(or set CALLSCOPE_TWILIO_VALIDATE=false for local development only)"
            )
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise WebhookSignatureError(
            f"unsupported webhook signature algorithm {algorithm!r} (supported: "
            f"{', '.join(SIGNATURE_ALGORITHMS)}); upgrade callscope and twilio"
        )
    if not signature:
        raise WebhookSignatureError("the request has no X-Twilio-Signature header")
    if isinstance(params, str) and "bodySHA256=" not in urlsplit(url).query:
        raise WebhookSignatureError(f"a JSON webhook body must be signed through ?bodySHA256= in the URL ({url})")
    validator = RequestValidator(secret)
    if algorithm == "HMAC_SHA1":
        ok = validator.validate(url, params, signature)
    else:
        try:
            ok = validator.validate(url, params, signature, algorithm=algorithm)
        except TypeError:  # twilio < 9.12 only knows HMAC-SHA1
            raise WebhookSignatureError(
                f"{algorithm} webhook signatures need twilio >= 9.12 (pip install -U twilio)"
            ) from None
    if not ok:
        scheme = f"Webhook Rule key {key_id or '(unnamed)'}, {algorithm}" if settings_header else "auth token"
        raise WebhookSignatureError(f"X-Twilio-Signature ({scheme}) does not match a request to {url}")


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send (for the simulator and tests)."""
    return RequestValidator(auth_token).compute_signature(url, params)


def local_auth_token_path(data_dir: Path) -> Path:
    """Where a locally served IVR without TWILIO_AUTH_TOKEN (``callscope demo``) keeps the
    random auth token it validates with, for ``callscope ivr simulate --url``."""
    return Path(data_dir) / "demo" / "twilio_auth_token"


def local_auth_token(settings: Settings) -> str:
    """The configured TWILIO_AUTH_TOKEN, else the local one (created on first use, mode 600)."""
    configured = settings.twilio_auth_token.get_secret_value()
    if configured:
        return configured
    token = read_local_auth_token(settings)
    if not token:
        token = secrets.token_hex(16)
        path = local_auth_token_path(settings.data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token + "\n", encoding="utf-8")
        path.chmod(0o600)
    return token


def read_local_auth_token(settings: Settings) -> str | None:
    """The local auth token, when ``callscope demo`` has created one."""
    try:
        return local_auth_token_path(settings.data_dir).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
