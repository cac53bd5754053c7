"""Tests of the Windows-only code paths. They run on Windows only: installer/windows-on-wine.sh
runs them in CI with the Windows CPython under Wine (``python -m pytest tests/windows``), and on
a Windows machine the README's test command includes them. Elsewhere they are not collected.

Each test module starts with the behaviour it pins and why Linux CI cannot see it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

if sys.platform != "win32":
    collect_ignore_glob = ["test_*.py"]
else:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def qapp() -> Iterator[object]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    yield app
