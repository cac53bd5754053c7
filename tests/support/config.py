"""Shared test constants and fast settings: imported by tests, never copied."""

from __future__ import annotations

from pathlib import Path

from sigphone.sdk import Signal
from sigphone.server import HubConfig, ServerConfig

#: An app without a certificate (accepts _no_need_token) and one with a certificate.
APP = "testapp"
CERT_APP = "C5D15F8FD394285DA5227B533302A518"
CERT = "fe1a0437bf217bdd34cd65053fb0fe1d"
NO_TOKEN = "_no_need_token"


def fast_config(data: Path | None) -> ServerConfig:
    """Short time limits so tests run in milliseconds (defaults are proven separately)."""
    config = ServerConfig(
        port=0,
        data=data,
        apps={APP: None, CERT_APP: CERT},
        hub=HubConfig(resume_grace=0.3, purge_interval=3600),
    )
    # Every test client comes from 127.0.0.1, hundreds at once in the load tests: the cap on
    # connections waiting to log in per address is proven by test_hardening_strangers.py.
    config.limits.max_pending_per_address = config.limits.max_pending
    return config


def fast_signal(url: str, app: str = APP) -> Signal:
    sig = Signal(app, server=url)
    sig.request_timeout = 10.0
    sig.connect_timeout = 5.0
    sig.reconnect_delay = 0.05
    sig.reconnect_delay_max = 0.3
    sig.ack_delay = 0.01
    return sig
