"""Frozen entry point of ``sigphone-server`` (a console program beside the app)."""

import sys

from sigphone.server.cli import main

if __name__ == "__main__":
    sys.exit(main())
