"""``sigphone-sipgw``: the SIP gateway, a process of its own next to the server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from .config import GatewayConfig, parse_app, parse_listen, parse_trunk


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sigphone-sipgw", description=__doc__)
    p.add_argument("--config", type=Path, help="TOML file (docs/sip-gateway.md); flags win")
    p.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="ws://HOST:PORT",
        help="signaling server; repeat (or comma-separate) for a list tried in order",
    )
    p.add_argument("--app", metavar="APPID[:CERTIFICATE]", help="the app the gateway serves")
    p.add_argument("--account", help="the gateway's account (default sipgw)")
    p.add_argument("--listen", metavar="IP:PORT", help="SIP, UDP and TCP (default 127.0.0.1:5060)")
    p.add_argument(
        "--trunk", metavar="sip:HOST[:PORT]", help="where outbound calls go (PBX, SBC, provider)"
    )
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    return p


def config_from_args(args: argparse.Namespace) -> GatewayConfig:
    cfg = GatewayConfig.from_toml(args.config) if args.config else GatewayConfig()
    servers = [s.strip() for text in args.server for s in text.split(",") if s.strip()]
    if servers:
        cfg.servers = servers
    if args.app:
        cfg.app, cfg.certificate = parse_app(args.app)
    if args.account:
        cfg.account = args.account
    if args.listen:
        cfg.host, cfg.port = parse_listen(args.listen)
    if args.trunk:
        cfg.trunk = parse_trunk(args.trunk)
    if not cfg.app:
        raise ValueError("configure the app with --app APPID[:CERTIFICATE] or [gateway] app")
    return cfg


async def serve(cfg: GatewayConfig) -> None:
    from .gateway import Gateway  # pjsip loads here, after the arguments are checked

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, AttributeError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    async with Gateway(cfg):
        print(f"sigphone-sipgw: SIP on {cfg.host}:{cfg.port}, app {cfg.app}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except (ValueError, OSError, KeyError) as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(serve(cfg))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        print(f"sigphone-sipgw: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
