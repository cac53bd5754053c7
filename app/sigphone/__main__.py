"""``python -m sigphone``: until the desktop softphone lands, this runs the signaling server.

With no ``--app`` it serves one development app, ``demo``, which has no certificate and so
accepts the token ``_no_need_token``.
"""

from __future__ import annotations

import sys

from .server.cli import main


def run() -> int:
    argv = sys.argv[1:]
    if "--self-test" in argv:
        from .selftest import main as self_test

        return self_test()
    if not any(a == "--app" or a.startswith("--app=") or a == "--config" for a in argv) and not {
        "-h",
        "--help",
    } & set(argv):
        argv = [*argv, "--app", "demo"]
    return main(argv)


if __name__ == "__main__":
    sys.exit(run())
