"""App IDs and certificates from a file or the environment, never the command line.

A process's command line is readable by every user of the machine (``/proc/PID/cmdline``,
``ps``), so a certificate given there leaks. ``sigphone-server`` and ``sigphone-token``
both read ``--apps-file FILE`` and the ``SIGPHONE_APPS`` variable instead: entries
``APPID`` or ``APPID:CERTIFICATE``, separated by new lines, commas or spaces, with ``#``
comments in the file. See docs/deployment.md.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["APPS_ENV", "parse_app", "parse_apps", "read_apps"]

APPS_ENV = "SIGPHONE_APPS"


def parse_app(text: str) -> tuple[str, str | None]:
    """``APPID:CERTIFICATE`` -> (app, cert); ``APPID`` alone has no certificate."""
    app, sep, cert = text.partition(":")
    if not app or (sep and not cert):
        raise ValueError(f"expected APPID or APPID:CERTIFICATE, got {app or text!r}...")
    return app, (cert if sep else None)


def parse_apps(text: str) -> dict[str, str | None]:
    apps: dict[str, str | None] = {}
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].replace(",", " ").split():
            app, cert = parse_app(entry)
            apps[app] = cert
    return apps


def read_apps(file: Path | None, environ: Mapping[str, str] = os.environ) -> dict[str, str | None]:
    """The apps of ``SIGPHONE_APPS`` and then of ``file`` (which wins for an app in both).

    Warns on stderr when the file can be read by other users (POSIX).
    """
    apps = parse_apps(environ.get(APPS_ENV, ""))
    if file is not None:
        if os.name == "posix" and file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(
                f"warning: {file} can be read by other users; chmod 600 it",
                file=sys.stderr,
            )
        apps.update(parse_apps(file.read_text(encoding="utf-8")))
    return apps
