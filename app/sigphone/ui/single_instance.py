"""One softphone per user: a second launch hands its argument to the first and exits.

The first instance listens on a QLocalServer (a named pipe on Windows, a Unix socket
elsewhere); a later launch (e.g. a clicked ``tel:`` link) connects, writes one line and
quits. Connecting happens before the event loop starts, so the short blocking wait is not on
a running GUI.

Who is first must be decided atomically, for two launches racing (a double click on a link).
QLocalServer.listen does not: Qt opens a Windows pipe name as many times as it is asked, and
on Unix (with UserAccessOption) it renames its socket over a live one. Both seen by the tests
(tests/ui/test_single_instance.py; tests/windows under Wine). So a lock file decides; Qt's
QLockFile takes over the lock of a process that died, and the socket of a crashed run with it.
"""

from __future__ import annotations

import getpass
import hashlib
import time
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["SingleInstance", "instance_name"]


def instance_name(profile: str) -> str:
    """Per user and per profile folder, short enough for every platform's socket path."""
    digest = hashlib.sha1(f"{getpass.getuser()}|{profile}".encode()).hexdigest()[:12]
    return f"sigphone-{digest}"


class SingleInstance(QObject):
    received = Signal(str)  # a line forwarded by a later launch ("show" or a link)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None
        self._lock: QLockFile | None = None  # held while this process is the first

    def forward(self, message: str, timeout_ms: int = 1000) -> bool:
        """True if a running instance took ``message`` (then this process should exit)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write((message.replace("\n", " ") + "\n").encode())
        socket.flush()  # usually writes everything at once ...
        ok = socket.bytesToWrite() == 0 or socket.waitForBytesWritten(timeout_ms)  # ... else wait
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        return ok

    def hand_over(self, message: str, within: float = 5.0) -> bool:
        """``forward`` until the first instance listens: it may have won the race a moment
        ago and not be listening yet."""
        deadline = time.monotonic() + within
        while not self.forward(message):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def listen(self) -> bool:
        """Become the first instance; False if another process already is."""
        lock = QLockFile(str(Path(QDir.tempPath()) / f"{self.name}.lock"))
        lock.setStaleLockTime(0)  # stale only when its process is gone, however old
        if not lock.tryLock(0):
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)  # we hold the lock: a crashed run's socket
            if not server.listen(self.name):
                lock.unlock()
                return False
        self._lock = lock
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def _on_connection(self) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode(errors="replace").strip()
            if line:
                self.received.emit(line)
