"""Server settings: command-line flags and an optional TOML file (flags win)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from sigphone.server.api.server_api import ApiConfig
from sigphone.server.apps import parse_app
from sigphone.server.backends.base import ClusterConfig
from sigphone.server.core.hub import HubConfig
from sigphone.server.core.quotas import Quotas
from sigphone.server.edges.native import EdgeLimits
from sigphone.server.services.calls import CallConfig
from sigphone.server.services.channels import ChannelsConfig

__all__ = ["ServerConfig", "default_data_dir", "parse_app"]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("sigphone-server", appauthor=False))


@dataclass(slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 9000
    #: Folder of the SQLite store; None keeps everything in memory (lost on exit).
    data: Path | None = None
    apps: dict[str, str | None] = field(default_factory=dict)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    hub: HubConfig = field(default_factory=HubConfig)
    calls: CallConfig = field(default_factory=CallConfig)
    #: Port of the Server API (HTTP, docs/server-api.md); None: no Server API.
    api_port: int | None = None
    api: ApiConfig = field(default_factory=ApiConfig)
    limits: EdgeLimits = field(default_factory=EdgeLimits)
    #: The quotas; in the config file they sit in ``[limits]`` too (core/quotas.py).
    quotas: Quotas = field(default_factory=Quotas)
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    #: ``[cluster]``: Redis for several nodes as one system (docs/deployment.md, "Cluster").
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    #: The IPv4 address the legacy clients' address lookup (GET /getaddr) hands out; None:
    #: the address the asking client reached us on (docs/legacy-clients.md).
    legacy_address: str | None = None

    @classmethod
    def from_toml(cls, path: Path) -> ServerConfig:
        """Read a config file; see docs/deployment.md for the keys."""
        with path.open("rb") as fh:
            raw: dict[str, Any] = tomllib.load(fh)
        cfg = cls()
        server = raw.get("server", {})
        cfg.host = str(server.get("host", cfg.host))
        cfg.port = int(server.get("port", cfg.port))
        if "api_port" in server:
            cfg.api_port = int(server["api_port"])
        if "legacy_address" in server:
            cfg.legacy_address = str(server["legacy_address"])
        if "data" in server:
            cfg.data = (path.parent / server["data"]).resolve()
        if "tls_cert" in server:
            cfg.tls_cert = (path.parent / server["tls_cert"]).resolve()
        if "tls_key" in server:
            cfg.tls_key = (path.parent / server["tls_key"]).resolve()
        for app in raw.get("apps", []):
            cfg.apps[str(app["id"])] = app.get("certificate") or None
            gateway = app.get("gateway")  # the app's SIP gateway account(s) (K6)
            if gateway:
                names = [gateway] if isinstance(gateway, str) else gateway
                cfg.calls.gateways[str(app["id"])] = [str(n) for n in names]
        sections = {
            "hub": cfg.hub,
            "limits": cfg.limits,
            "channels": cfg.channels,
            "calls": cfg.calls,
            "api": cfg.api,
            "cluster": cfg.cluster,
        }
        for section, target in sections.items():
            for key, value in raw.get(section, {}).items():
                owner = target
                if section == "limits" and not hasattr(target, key):
                    owner = cfg.quotas  # [limits] holds the per-connection limits and quotas
                if not hasattr(owner, key):
                    raise ValueError(f"unknown [{section}] setting {key!r} in {path}")
                setattr(owner, key, type(getattr(owner, key))(value))
        return cfg
