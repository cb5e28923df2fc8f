"""X-Twilio-Signature checks with the URL Twilio actually called (proxy-aware)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from starlette.requests import Request
from twilio.request_validator import RequestValidator

from callscope.errors import WebhookSignatureError

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


def verify_signature(
    url: str,
    params: dict[str, str] | str,
    signature: str,
    auth_token: str,
    *,
    settings_header: str | None = None,
) -> None:
    """Check an X-Twilio-Signature.

    Args:
        url: the public URL of the request (see :func:`public_url`).
        params: the POST form fields (all of them, empty values included), or the raw
            body for JSON webhooks.
        signature: the X-Twilio-Signature header.
        auth_token: the account auth token (or the SharedKey of a Webhook Rule).
        settings_header: X-Twilio-Webhooks-Signature-Settings, when Twilio sent it.

    Raises:
        WebhookSignatureError: missing token or signature, or no match.
    """
    if not auth_token:
        raise WebhookSignatureError(
            "TWILIO_AUTH_TOKEN is not set, so webhook signatures cannot be checked; set it "
            "(or set CALLSCOPE_TWILIO_VALIDATE=false for local development only)"
        )
    if not signature:
        raise WebhookSignatureError("the request has no X-Twilio-Signature header")
    validator = RequestValidator(auth_token)
    kwargs = {}
    if settings_header:
        try:
            from twilio.request_validator import (
                get_signature_algorithm,  # twilio >= 9.12
            )

            kwargs["algorithm"] = get_signature_algorithm(settings_header)
        except (ImportError, ValueError, TypeError) as exc:
            log.warning("ignoring X-Twilio-Webhooks-Signature-Settings %r: %s", settings_header, exc)
    try:
        ok = validator.validate(url, params, signature, **kwargs)
    except TypeError:
        ok = validator.validate(url, params, signature)
    if not ok:
        raise WebhookSignatureError(f"X-Twilio-Signature does not match a request to {url}")


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send (for the simulator and tests)."""
    return RequestValidator(auth_token).compute_signature(url, params)
