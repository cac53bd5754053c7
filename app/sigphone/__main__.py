"""``python -m sigphone``: the desktop softphone (the server is ``sigphone-server``)."""

from __future__ import annotations

import sys


def run() -> int:
    from .ui.app import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
