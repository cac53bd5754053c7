"""``sigphone-token``: print a v1 Signaling Key (for a customer's token server or for tests)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..protocol.names import is_valid_name
from ..protocol.text import nfc
from ..protocol.token import make_token
from ..server.apps import read_apps


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="sigphone-token", description=__doc__)
    p.add_argument("--app-id", required=True)
    p.add_argument(
        "--apps-file",
        type=Path,
        metavar="FILE",
        help="read the app's certificate from this file (APPID:CERTIFICATE lines); also read"
        " from the SIGPHONE_APPS variable",
    )
    p.add_argument(
        "--certificate",
        help="the app certificate; avoid it: a command line is visible to every user of the"
        " machine (use --apps-file or SIGPHONE_APPS)",
    )
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
    certificate = args.certificate
    if certificate is None:
        try:
            certificate = read_apps(args.apps_file).get(args.app_id)
        except (OSError, ValueError) as exc:
            p.error(str(exc))
        if not certificate:
            p.error(f"no certificate for {args.app_id}: give --apps-file or SIGPHONE_APPS")
    else:
        print("warning: --certificate is visible to other users of this machine", file=sys.stderr)
    expired = (
        args.expired_time if args.expired_time is not None else int(time.time()) + args.valid_for
    )
    if expired < 0:
        p.error("the expiry time must not be negative")
    # Tokens sign the account's NFC form, the form the server compares (docs/protocol.md).
    print(make_token(nfc(args.account), args.app_id, certificate, expired))
    return 0


if __name__ == "__main__":
    sys.exit(main())
