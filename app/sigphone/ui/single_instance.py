"""One softphone per user: a second launch hands its argument to the first and exits.

The first instance listens on a QLocalServer (a named pipe on Windows, a Unix socket
elsewhere); a later launch (e.g. a clicked ``tel:`` link) connects, writes one line and
quits. Connecting happens before the event loop starts, so the short blocking wait is not on
a running GUI.
"""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
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

    def listen(self) -> bool:
        """Become the first instance; a stale socket of a crashed run is removed first."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return False
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

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
