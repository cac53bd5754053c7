"""``sigphone --self-test``: load and start every heavy part, one line per part.

Used by CI on the frozen bundle (a part PyInstaller left out fails here, not on a user's
desk) and by support ("run it and send me the output"). Each check does real work: the
server serves a login and a message on loopback, Qt draws a widget offscreen, PortAudio
loads and lists devices, aiortc builds an offer with Opus. Exit status 0 only if all pass.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["main", "run_checks"]


def check_protocol() -> str:
    from .protocol.token import sign

    expected = "5c0ee12fdf2020d0d0fdad04d6395473"
    got = sign(
        "test@agora.io",
        "C5D15F8FD394285DA5227B533302A518",
        "fe1a0437bf217bdd34cd65053fb0fe1d",
        "2592000",
    )
    if got != expected:
        raise RuntimeError(f"token signature {got} != {expected}")
    return "token vector verifies"


def check_server() -> str:
    async def run() -> str:
        from .sdk import Signal
        from .server import ServerConfig, SignalServer

        started = time.perf_counter()
        async with SignalServer(ServerConfig(port=0, data=None, apps={"selftest": None})) as srv:
            alice = await Signal("selftest", srv.url).login("alice", "_no_need_token")
            bob = await Signal("selftest", srv.url).login("bob", "_no_need_token")
            got: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            bob.on_message_instant_receive = lambda account, uid, msg: got.set_result(msg)
            await alice.message_instant_send("bob", "ping")
            text = await asyncio.wait_for(got, 10)
            await alice.logout()
            await bob.logout()
        if text != "ping":
            raise RuntimeError(f"bob got {text!r}")
        return f"embedded server, two logins and a message in {time.perf_counter() - started:.2f} s"

    return asyncio.run(run())


def check_qt() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([])
    label = QLabel("Sigphone")
    label.resize(120, 40)
    image = label.grab().toImage()
    if image.isNull() or image.width() < 1:
        raise RuntimeError("Qt could not render a widget")
    import qasync  # noqa: F401 - the loop bridge must be bundled too

    platform = app.platformName()  # type: ignore[attr-defined]  # a QGuiApplication here
    return f"PySide6 {pyside_version} renders on the {platform} platform; qasync loads"


def check_audio() -> str:
    import sounddevice

    devices = sounddevice.query_devices()
    inputs = sum(1 for d in devices if d["max_input_channels"] > 0)
    outputs = sum(1 for d in devices if d["max_output_channels"] > 0)
    version = sounddevice.get_portaudio_version()[1]
    if not inputs and not outputs:
        return f"{version} loads; no audio device (calls still connect, without sound)"
    return f"{version} loads; {inputs} input and {outputs} output devices"


def check_webrtc() -> str:
    async def run() -> str:
        import av
        from aiortc import RTCConfiguration, RTCPeerConnection

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            pc.addTransceiver("audio", direction="sendrecv")
            offer = await pc.createOffer()
            if "opus/48000" not in offer.sdp:
                raise RuntimeError("Opus is missing from the offer")
        finally:
            await pc.close()
        av.codec.Codec("opus", "w")  # libopus inside PyAV
        return f"aiortc offers Opus (PyAV {av.__version__})"

    return asyncio.run(run())


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("protocol", check_protocol),
    ("server", check_server),
    ("qt", check_qt),
    ("audio", check_audio),
    ("webrtc", check_webrtc),
]


def run_checks(write: Callable[[str], object] = print) -> int:
    failures = 0
    for name, check in CHECKS:
        try:
            detail = check()
        except Exception as exc:  # report every part, then fail
            failures += 1
            write(f"FAIL {name}: {type(exc).__name__}: {exc}")
        else:
            write(f"ok   {name}: {detail}")
    write("self-test passed" if not failures else f"self-test FAILED ({failures} part(s))")
    return 1 if failures else 0


def main() -> int:
    """Print the report; a windowed Windows build has no stdout, so it goes to a file."""
    from . import __version__

    lines: list[str] = []
    stream = sys.stdout

    def write(line: str) -> None:
        lines.append(line)
        if stream is not None:
            print(line, file=stream, flush=True)

    kind = "frozen" if getattr(sys, "frozen", False) else "from source"
    write(f"sigphone {__version__} self-test (Python {sys.version.split()[0]}, {kind})")
    status = run_checks(write)
    if stream is None:
        import platformdirs

        folder = Path(platformdirs.user_log_dir("sigphone", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "self-test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
