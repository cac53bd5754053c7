"""The Server API's OpenAPI 3.1 document, served at ``/api/openapi.json``.

Kept as Python data next to the handlers so the package needs no data files; the copy in
docs/server-api.openapi.json is written by
``python -c "from sigphone.server.api.openapi import main; main()" > docs/server-api.openapi.json``
and a test keeps the two equal.
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["OPENAPI"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


#: The answer of the two administrator kicks.
_KICKED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "channel": {"type": "string"},
        "account": {"type": "string"},
        "kicked": {"type": "integer", "enum": [0, 1]},
    },
}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {"application/json": {"schema": schema}}},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
    }


_NAME = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^\S+$"}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": _NAME,
    }


_EMPTY = {"type": "object"}


#: Both forms of the development token endpoint answer alike.
_TOKEN_RESPONSES: dict[str, Any] = {
    "200": {
        "description": "a token the account can log in with",
        "content": {"application/json": {"schema": _ref("Token")}},
    },
    "400": {"$ref": "#/components/responses/BadRequest"},
    "404": {"description": "the server runs without --dev-tokens"},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Sigphone Server API",
        "version": "1.0.0",
        "description": "For the app's own servers: no login, every /api/v1 request is signed "
        "with the app certificate (HMAC-SHA256, see docs/server-api.md). Errors carry the "
        "seed error code: {code, reason}.",
    },
    "components": {
        "securitySchemes": {
            "app": {"type": "apiKey", "in": "header", "name": "X-Sigphone-App"},
            "timestamp": {"type": "apiKey", "in": "header", "name": "X-Sigphone-Timestamp"},
            "nonce": {"type": "apiKey", "in": "header", "name": "X-Sigphone-Nonce"},
            "signature": {"type": "apiKey", "in": "header", "name": "X-Sigphone-Signature"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["code", "reason"],
                "properties": {"code": {"type": "integer"}, "reason": {"type": "string"}},
            },
            "Status": {
                "type": "object",
                "properties": {
                    "account": {"type": "string"},
                    "status": {"type": "integer", "enum": [0, 1]},
                },
            },
            "Attrs": {
                "type": "object",
                "properties": {
                    "account": {"type": "string"},
                    "attrs": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "ChannelUsers": {
                "type": "object",
                "properties": {
                    "channel": {"type": "string"},
                    "users": {"type": "array", "items": {"type": "string"}},
                    "num": {"type": "integer"},
                },
            },
            "Message": {
                "type": "object",
                "required": ["msg"],
                "properties": {
                    "from": {**_NAME, "description": "sender account (default _server)"},
                    "msg": {"type": "string", "maxLength": 8192},
                },
            },
            "CallRequest": {
                "type": "object",
                "required": ["caller", "callee", "channel"],
                "properties": {
                    "caller": {**_NAME, "description": "the account shown as the caller"},
                    "callee": _NAME,
                    "channel": _NAME,
                    "extra": {
                        "description": "JSON object (or its text, up to 8K): "
                        "_require_peer_online, srcNum, destMediaUid, any other key",
                        "oneOf": [{"type": "string", "maxLength": 8192}, {"type": "object"}],
                    },
                },
            },
            "Call": {"type": "object", "properties": {"call": {"type": "string"}}},
            "Token": {
                "type": "object",
                "properties": {"token": {"type": "string"}, "expires": {"type": "integer"}},
            },
        },
        "responses": {
            "BadRequest": {
                "description": "bad parameter (1004, 1005, ...)",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "Unauthorized": {
                "description": "unknown app, bad or replayed signature (206), stale timestamp "
                "(204), app without certificate (206)",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        },
    },
    "security": [{"app": [], "timestamp": [], "nonce": [], "signature": []}],
    "paths": {
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI document"}},
            }
        },
        "/api/token": {
            "get": {
                "summary": "Development token (only with --dev-tokens)",
                "security": [],
                "parameters": [
                    {
                        "name": "app_id",
                        "in": "query",
                        "required": False,
                        "description": "may be left out when the server has one app",
                        "schema": _NAME,
                    },
                    {"name": "account", "in": "query", "required": True, "schema": _NAME},
                ],
                "responses": _TOKEN_RESPONSES,
            },
            "post": {
                "summary": "Development token (only with --dev-tokens), parameters in the body",
                "security": [],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["account"],
                        "properties": {"app_id": _NAME, "account": _NAME},
                    }
                ),
                "responses": _TOKEN_RESPONSES,
            },
        },
        "/api/v1/users/{account}/status": {
            "get": {
                "summary": "Is the account logged in (1) or not (0)",
                "parameters": [_path_param("account", "account")],
                "responses": _ok(_ref("Status")),
            }
        },
        "/api/v1/users/{account}/session": {
            "delete": {
                "summary": "Log the account out: its client gets onLogout(103), its channel "
                "onChannelLeaved(601); kicked 0 when it was not logged in",
                "parameters": [_path_param("account", "account")],
                "responses": _ok(_KICKED),
            }
        },
        "/api/v1/users/{account}/attrs": {
            "get": {
                "summary": "All attributes of an account",
                "parameters": [_path_param("account", "account")],
                "responses": _ok(_ref("Attrs")),
            }
        },
        "/api/v1/users/{account}/attrs/{name}": {
            "put": {
                "summary": "Set one attribute (an empty value deletes it)",
                "parameters": [
                    _path_param("account", "account"),
                    {
                        **_path_param("name", "attribute name"),
                        "schema": {**_NAME, "maxLength": 256},
                    },
                ],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["value"],
                        "properties": {"value": {"type": "string", "maxLength": 128}},
                    }
                ),
                "responses": _ok(_EMPTY),
            }
        },
        "/api/v1/users/{account}/messages": {
            "post": {
                "summary": "Send a point-to-point message (kept durably until delivered)",
                "parameters": [_path_param("account", "recipient")],
                "requestBody": _json_body(_ref("Message")),
                "responses": _ok(_EMPTY, "stored (and delivered if the account is online)"),
            }
        },
        "/api/v1/channels/{channel}/users": {
            "get": {
                "summary": "Members of a channel",
                "parameters": [_path_param("channel", "channel")],
                "responses": _ok(_ref("ChannelUsers")),
            }
        },
        "/api/v1/channels/{channel}/users/{account}": {
            "get": {
                "summary": "Is the account in the channel (isin 1) or not (0)",
                "parameters": [
                    _path_param("channel", "channel"),
                    _path_param("account", "account"),
                ],
                "responses": _ok(
                    {
                        "type": "object",
                        "properties": {
                            "channel": {"type": "string"},
                            "account": {"type": "string"},
                            "isin": {"type": "integer", "enum": [0, 1]},
                        },
                    }
                ),
            },
            "delete": {
                "summary": "Remove the account from the channel: it gets onChannelLeaved(601), "
                "the members onChannelUserLeaved; kicked 0 when it was not in the channel",
                "parameters": [
                    _path_param("channel", "channel"),
                    _path_param("account", "account"),
                ],
                "responses": _ok(_KICKED),
            },
        },
        "/api/v1/channels/{channel}/attrs": {
            "get": {
                "summary": "The channel's attribute table",
                "parameters": [_path_param("channel", "channel")],
                "responses": _ok(
                    {
                        "type": "object",
                        "properties": {
                            "channel": {"type": "string"},
                            "attrs": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    }
                ),
            },
            "delete": {
                "summary": "Clear every attribute (members get on_channel_attr_updated 'clear')",
                "parameters": [_path_param("channel", "channel")],
                "responses": _ok(_EMPTY),
            },
        },
        "/api/v1/channels/{channel}/attrs/{name}": {
            "put": {
                "summary": "Set one channel attribute (members get 'update'; a missing channel "
                "is created and lives for its _channel_ttl)",
                "parameters": [_path_param("channel", "channel"), _path_param("name", "attribute")],
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["value"],
                        "properties": {"value": {"type": "string", "maxLength": 1024}},
                    }
                ),
                "responses": _ok(_EMPTY),
            },
            "delete": {
                "summary": "Delete one channel attribute (members get 'del')",
                "parameters": [_path_param("channel", "channel"), _path_param("name", "attribute")],
                "responses": _ok(_EMPTY),
            },
        },
        "/api/v1/channels/{channel}/messages": {
            "post": {
                "summary": "Send a message to every member (on_message_channel_receive)",
                "parameters": [_path_param("channel", "channel")],
                "requestBody": _json_body(_ref("Message")),
                "responses": _ok(
                    {"type": "object", "properties": {"num": {"type": "integer", "minimum": 0}}},
                    "how many members it went to",
                ),
            }
        },
        "/api/v1/calls": {
            "post": {
                "summary": "Call an account; the caller side's events go to the event stream",
                "requestBody": _json_body(_ref("CallRequest")),
                "responses": _ok(_ref("Call")),
            }
        },
        "/api/v1/calls/{call}": {
            "delete": {
                "summary": "End (or cancel) a call made through this API",
                "parameters": [
                    {
                        "name": "call",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                    }
                ],
                "responses": {
                    **_ok(_EMPTY),
                    "404": {
                        "description": "no such call made through the API (700)",
                        "content": {"application/json": {"schema": _ref("Error")}},
                    },
                },
            }
        },
        "/api/v1/events": {
            "get": {
                "summary": "Server-sent events of the app: online, offline, attr, call, channel",
                "parameters": [
                    {
                        "name": "types",
                        "in": "query",
                        "required": False,
                        "description": "comma-separated subset of online,offline,attr,call,channel",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "text/event-stream; each event's data is JSON",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            }
        },
    },
}


def main() -> None:
    """Print the document (to refresh docs/server-api.openapi.json)."""
    sys.stdout.write(json.dumps(OPENAPI, indent=2) + "\n")


if __name__ == "__main__":
    main()
