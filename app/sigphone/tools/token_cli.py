"""``sigphone-token``: print a v1 Signaling Key (for a customer's token server or for tests)."""

from __future__ import annotations

import argparse
import sys
import time

from ..protocol.names import is_valid_name
from ..protocol.token import make_token


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="sigphone-token", description=__doc__)
    p.add_argument("--app-id", required=True)
    p.add_argument("--certificate", required=True, help="the app certificate (keep it secret)")
    p.add_argument("--account", required=True)
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--expired-time",
        type=int,
        metavar="UNIX_TS",
        help="UTC Unix time after which the key stops working (0: never)",
    )
    when.add_argument(
        "--valid-for",
        type=int,
        metavar="SECONDS",
        help="convenience: expire this many seconds from now",
    )
    args = p.parse_args(argv)
    if not is_valid_name(args.account):
        p.error("account must be 1..128 visible characters without spaces")
    expired = (
        args.expired_time if args.expired_time is not None else int(time.time()) + args.valid_for
    )
    if expired < 0:
        p.error("the expiry time must not be negative")
    print(make_token(args.account, args.app_id, args.certificate, expired))
    return 0


if __name__ == "__main__":
    sys.exit(main())
