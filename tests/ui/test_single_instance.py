"""Who becomes the first instance (sigphone.ui.single_instance), on every platform.

A second ``listen`` while the first instance lives must fail (then the launch hands its link
over), and only a crashed run's socket may be taken over. Qt alone would let the second one
in (it renames its socket over the live one here; a Windows pipe name opens twice, see
tests/windows, run under Wine).
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QDir, QEvent

from sigphone.ui.single_instance import SingleInstance, instance_name


def _name() -> str:
    return instance_name(f"test-{time.monotonic_ns()}")


def test_a_live_first_instance_keeps_its_name(qapp: object) -> None:
    first = SingleInstance(_name())
    assert first.listen()
    try:
        received: list[str] = []
        first.received.connect(received.append)
        second = SingleInstance(first.name)
        assert not second.listen()
        assert second.forward("tel:+15551234")  # the first one still answers ...
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            QCoreApplication.processEvents()
        assert received == ["tel:+15551234"]  # ... and gets the link
    finally:
        first.close()
        for _ in range(20):  # the forwarded connection's deleteLater, before the next test
            QCoreApplication.processEvents()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files only")
def test_a_crashed_runs_socket_file_is_taken_over(qapp: object) -> None:
    name = _name()
    stale = Path(QDir.tempPath()) / name
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(stale))  # bound, never listening, never unlinked: a crash's leftover
    leftover.close()
    assert stale.exists()
    instance = SingleInstance(name)
    try:
        assert instance.listen()
    finally:
        instance.close()
