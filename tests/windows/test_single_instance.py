"""One softphone per user on Windows: the single-instance channel is a named pipe.

QLocalServer listens on ``\\\\.\\pipe\\<name>`` on Windows (a Unix socket file elsewhere), so
what Linux CI proves about stale socket files and permissions says nothing here. These tests
hand a ``tel:`` link from a second process to the first through the real pipe.
"""

from __future__ import annotations

import subprocess
import sys
import time

from PySide6.QtCore import QCoreApplication

from sigphone.ui.single_instance import SingleInstance, instance_name

FORWARD = """
import sys
from PySide6.QtCore import QCoreApplication
from sigphone.ui.single_instance import SingleInstance
app = QCoreApplication([])
sys.exit(0 if SingleInstance(sys.argv[1]).forward(sys.argv[2]) else 3)
"""


def forward_from_another_process(name: str, message: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", FORWARD, name, message])


def wait_for(proc: subprocess.Popen[bytes], received: list[str], timeout: float = 30) -> int:
    """Run Qt's events (the first instance's side) until the child exits."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.01)
    for _ in range(50):  # the line may arrive just after the child's exit
        QCoreApplication.processEvents()
        time.sleep(0.01)
    if proc.poll() is None:
        proc.kill()
    return proc.wait()


def test_names_are_per_user_and_profile() -> None:
    assert instance_name(r"C:\Users\a\AppData\Local\Sigphone") == instance_name(
        r"C:\Users\a\AppData\Local\Sigphone"
    )
    assert instance_name(r"C:\p1") != instance_name(r"C:\p2")


def test_a_second_process_hands_its_link_over_the_named_pipe(qapp: object) -> None:
    name = instance_name(f"test-{time.monotonic_ns()}")
    first = SingleInstance(name)
    assert first.listen()
    assert first.server is not None
    assert first.server.fullServerName().lower().startswith("\\\\.\\pipe\\")
    received: list[str] = []
    first.received.connect(received.append)
    try:
        assert wait_for(forward_from_another_process(name, "tel:+15551234"), received) == 0
        assert received == ["tel:+15551234"]
    finally:
        first.close()


def test_without_a_first_instance_the_launch_goes_on(qapp: object) -> None:
    name = instance_name(f"test-{time.monotonic_ns()}")
    assert not SingleInstance(name).forward("show", timeout_ms=1000)


def test_after_the_first_instance_quits_the_next_launch_becomes_first(qapp: object) -> None:
    name = instance_name(f"test-{time.monotonic_ns()}")
    first = SingleInstance(name)
    assert first.listen()
    first.close()
    second = SingleInstance(name)
    assert second.listen()
    received: list[str] = []
    second.received.connect(received.append)
    try:
        assert wait_for(forward_from_another_process(name, "sigphone:bob"), received) == 0
        assert received == ["sigphone:bob"]
    finally:
        second.close()


LISTEN = """
import sys
from PySide6.QtCore import QCoreApplication
from sigphone.ui.single_instance import SingleInstance
app = QCoreApplication([])
sys.exit(0 if SingleInstance(sys.argv[1]).listen() else 4)
"""


def test_while_the_first_lives_no_other_process_becomes_first(qapp: object) -> None:
    """Qt would open the same pipe name twice on Windows: the named mutex refuses it, so two
    launches racing (a double click on a link) cannot both become the first instance."""
    name = instance_name(f"test-{time.monotonic_ns()}")
    first = SingleInstance(name)
    assert first.listen()
    try:
        child = subprocess.run([sys.executable, "-c", LISTEN, name], timeout=60)
        assert child.returncode == 4
        assert not SingleInstance(name).listen()  # nor a second one in this process
    finally:
        first.close()
    assert subprocess.run([sys.executable, "-c", LISTEN, name], timeout=60).returncode == 0
