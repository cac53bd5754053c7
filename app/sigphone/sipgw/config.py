"""Gateway settings: command-line flags and an optional TOML file (flags win).

See docs/sip-gateway.md for every key. Parsing only: nothing here touches SIP or the network.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..server.config import parse_app
from .pjsip_stack import SipCredentials

__all__ = ["GatewayConfig", "parse_app", "parse_listen", "parse_trunk"]


def parse_listen(text: str) -> tuple[str, int]:
    """``IP:PORT`` (``[v6]:PORT`` too) -> (ip, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected IP:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def parse_trunk(text: str) -> str:
    if not text.startswith(("sip:", "sips:")) or len(text) <= 4 or "@" in text:
        raise ValueError(f"expected sip:HOST[:PORT][;transport=tcp], got {text!r}")
    return text


@dataclass(slots=True)
class GatewayConfig:
    #: Signaling servers to try in order (``ws://HOST:PORT``).
    servers: list[str] = field(default_factory=lambda: ["ws://127.0.0.1:9000"])
    app: str = ""
    #: The app certificate: the gateway signs its own token. None: ``_no_need_token``.
    certificate: str | None = None
    #: Lifetime of the tokens the gateway signs itself (with ``certificate``); when one
    #: expires the server ends the session and the gateway logs in again with a new one.
    token_ttl: float = 86400.0
    #: The gateway's account; the server's ``[[apps]] gateway`` names the same one.
    account: str = "sipgw"
    #: SIP listens here, UDP and TCP.
    host: str = "127.0.0.1"
    port: int = 5060
    #: Where outbound calls go: ``sip:HOST[:PORT]``; None: outbound calls fail (703).
    trunk: str | None = None
    credentials: SipCredentials | None = None
    #: The host part of the From URI of outbound calls (default: the listen address).
    from_domain: str | None = None
    #: Codecs offered and accepted on the SIP side, best first.
    codecs: list[str] = field(default_factory=lambda: ["PCMU/8000", "PCMA/8000", "G722/16000"])
    rtp_port: int = 0
    #: An outbound call not answered in this time is cancelled and fails with 704.
    no_answer_timeout: float = 60.0
    #: Regular expression an inbound account must match (besides being a valid name and not a
    #: number); anything else is answered 404.
    inbound_accounts: str = r".+"
    #: Local addresses for the WebRTC side's ICE host candidates (None: every interface).
    ice_hosts: list[str] | None = None
    #: pjsip's log level (0-5), at DEBUG in our log.
    sip_log_level: int = 2

    @classmethod
    def from_toml(cls, path: Path) -> GatewayConfig:
        with path.open("rb") as fh:
            raw: dict[str, Any] = tomllib.load(fh)
        cfg = cls()
        gw = dict(raw.get("gateway", {}))
        if "server" in gw:
            value = gw.pop("server")
            cfg.servers = [value] if isinstance(value, str) else [str(v) for v in value]
        if "app" in gw:
            cfg.app, cfg.certificate = parse_app(str(gw.pop("app")))
        if "listen" in gw:
            cfg.host, cfg.port = parse_listen(str(gw.pop("listen")))
        if "trunk" in gw:
            cfg.trunk = parse_trunk(str(gw.pop("trunk")))
        for key, value in gw.items():
            if key not in _SIMPLE:
                raise ValueError(f"unknown [gateway] setting {key!r} in {path}")
            setattr(cfg, key, value)
        creds = raw.get("credentials")
        if creds is not None:
            cfg.credentials = SipCredentials(
                username=str(creds["username"]),
                password=str(creds["password"]),
                realm=str(creds.get("realm", "*")),
                register=bool(creds.get("register", False)),
                registrar=creds.get("registrar"),
            )
        return cfg


_SIMPLE = {
    "account",
    "certificate",
    "from_domain",
    "codecs",
    "rtp_port",
    "no_answer_timeout",
    "inbound_accounts",
    "ice_hosts",
    "sip_log_level",
    "token_ttl",
}
