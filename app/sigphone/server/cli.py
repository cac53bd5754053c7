"""``sigphone-server``: run the signaling server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from sigphone.server.app import run_until_cancelled
from sigphone.server.apps import parse_app, read_apps
from sigphone.server.config import ServerConfig, default_data_dir


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sigphone-server", description=__doc__)
    p.add_argument("--config", type=Path, help="TOML file with the same settings")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 9000; 0 picks a free one)")
    p.add_argument(
        "--data", type=Path, help=f"folder of the SQLite store (default {default_data_dir()})"
    )
    p.add_argument("--memory", action="store_true", help="keep everything in memory (lost on exit)")
    p.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APPID[:CERTIFICATE]",
        help="an app without a certificate (it accepts the token _no_need_token); repeatable."
        " Give certificates with --apps-file or SIGPHONE_APPS: a command line is visible to"
        " every user of the machine",
    )
    p.add_argument(
        "--apps-file",
        type=Path,
        metavar="FILE",
        help="apps, one APPID[:CERTIFICATE] per line (keep it chmod 600); also read from the"
        " SIGPHONE_APPS variable",
    )
    p.add_argument(
        "--api-port", type=int, help="port of the Server API (HTTP; default 9001; 0 picks one)"
    )
    p.add_argument("--no-api", action="store_true", help="do not serve the Server API")
    p.add_argument(
        "--dev-tokens",
        action="store_true",
        help="serve /api/token: anyone can get a login token (development only)",
    )
    p.add_argument("--tls-cert", type=Path, help="PEM certificate chain: serve wss://")
    p.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    p.add_argument("--inbox-ttl", type=float, help="seconds an undelivered message is kept")
    p.add_argument(
        "--redis",
        metavar="redis://HOST:PORT/DB",
        help="run as one node of a cluster sharing this Redis (docs/deployment.md, Cluster)",
    )
    p.add_argument("--node-id", help="this node's id in the cluster (default: made up at start)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    return p


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    cfg = ServerConfig.from_toml(args.config) if args.config else ServerConfig()
    if args.host is not None:
        cfg.host = args.host
    if args.port is not None:
        cfg.port = args.port
    if args.memory:
        cfg.data = None
    elif args.data is not None:
        cfg.data = args.data
    elif cfg.data is None and not (args.config and "data" in args.config.read_text()):
        cfg.data = default_data_dir()
    cfg.apps.update(read_apps(args.apps_file))
    for text in args.app:
        app, cert = parse_app(text)
        if cert is not None:
            print(
                f"warning: the certificate of {app} is on the command line, which every user"
                " of this machine can read: use --apps-file or SIGPHONE_APPS",
                file=sys.stderr,
            )
        cfg.apps[app] = cert
    if args.no_api:
        cfg.api_port = None
    elif args.api_port is not None:
        cfg.api_port = args.api_port
    elif cfg.api_port is None:
        cfg.api_port = 9001
    if args.dev_tokens:
        cfg.api.dev_tokens = True
    if args.tls_cert is not None:
        cfg.tls_cert, cfg.tls_key = args.tls_cert, args.tls_key or args.tls_cert
    if args.inbox_ttl is not None:
        cfg.hub.inbox_ttl = args.inbox_ttl
    if args.redis is not None:
        cfg.cluster.redis = args.redis
    if args.node_id is not None:
        cfg.cluster.node_id = args.node_id
    if cfg.cluster.node_id and not cfg.cluster.redis:
        raise ValueError("--node-id needs --redis (a node id names a node of a cluster)")
    if cfg.cluster.redis and not cfg.cluster.redis.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"--redis expects redis://HOST:PORT/DB, got {cfg.cluster.redis!r}")
    if cfg.cluster.redis and not _cluster_installed():
        # An optional extra: the Windows bundle and a plain install are embedded servers.
        raise ValueError("--redis needs redis-py with hiredis: pip install 'sigphone[cluster]'")
    return cfg


def _cluster_installed() -> bool:
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    if not cfg.apps:
        parser.error("configure at least one app: --apps-file, SIGPHONE_APPS, --app or --config")
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(run_until_cancelled(cfg))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"sigphone-server: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
