"""Frozen entry point of the desktop app (PyInstaller runs this as ``__main__``)."""

import sys

from sigphone.__main__ import run

if __name__ == "__main__":
    sys.exit(run())
