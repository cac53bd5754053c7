"""Signing Server API requests from the app's own server (docs/server-api.md).

    body = json.dumps({"msg": "hello"}).encode()
    headers = signed_headers(APP_ID, CERTIFICATE, "POST", "/api/v1/users/bob/messages", body)
    # send with any HTTP client: the path (with its query) exactly as on the request line

The certificate stays on the app's server: never put it in a client application.
"""

from ..protocol.api_auth import (
    APP_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    string_to_sign,
)

__all__ = [
    "APP_HEADER",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "sign",
    "signed_headers",
    "string_to_sign",
]
