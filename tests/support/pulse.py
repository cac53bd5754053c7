"""A private PulseAudio daemon with virtual devices, for the full-path audio tests.

Two null sinks (docs/media.md): whatever is played into ``vmic_src`` is what the app records
from the default source ``vmic_src.monitor`` (its "microphone"), and the default sink
``vspk`` is the app's "speaker", recorded through ``vspk.monitor``. Feeding and recording go
through ``pacat``/``parec`` in their own processes, like a person next to the PC.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RATE = 48_000
RAW = ["--raw", "--format=float32le", f"--rate={RATE}", "--channels=1"]


class PulseAudio:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sigphone-pulse-"))
        (self.dir / "home").mkdir()
        (self.dir / "run").mkdir()
        self.server = f"unix:{self.dir / 'native'}"
        self.env = dict(
            os.environ,
            HOME=str(self.dir / "home"),
            XDG_RUNTIME_DIR=str(self.dir / "run"),
            PULSE_SERVER=self.server,
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._children: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        log = open(self.dir / "log", "wb")  # noqa: SIM115 - lives as long as the daemon
        self.proc = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                "--use-pid-file=no", "--disallow-exit",
                "-L", f"module-native-protocol-unix auth-anonymous=1 socket={self.dir}/native",
                "-L", "module-null-sink sink_name=vspk rate=48000 channels=1",
                "-L", "module-null-sink sink_name=vmic_src rate=48000 channels=1",
            ],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while self.pactl("info").returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pulseaudio did not start: " + (self.dir / "log").read_text())
            time.sleep(0.05)
        self.pactl("set-default-sink", "vspk")
        self.pactl("set-default-source", "vmic_src.monitor")

    def pactl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, timeout=10)

    def play(self, samples: np.ndarray, sink: str = "vmic_src") -> subprocess.Popen[bytes]:
        """Play float samples into ``sink`` (the app's microphone by default)."""
        path = self.dir / f"play-{len(self._children)}.raw"
        np.asarray(samples, dtype="<f4").tofile(path)
        proc = subprocess.Popen(
            ["pacat", "--playback", "-d", sink, *RAW, str(path)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._children.append(proc)
        return proc

    def record(self, source: str = "vspk.monitor") -> Recording:
        """Record ``source`` (the app's speaker by default) until ``stop``."""
        proc = subprocess.Popen(
            ["parec", "-d", source, "--latency-msec=10", *RAW],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._children.append(proc)
        return Recording(proc)

    def stop(self) -> None:
        for proc in [*self._children, self.proc]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Recording:
    """parec's output, read on a thread so the test's loop never blocks on the pipe."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._data = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):
            with self._lock:
                self._data += chunk

    def samples(self, last: float | None = None) -> np.ndarray:
        with self._lock:
            data = bytes(self._data[: len(self._data) // 4 * 4])
        x = np.frombuffer(data, dtype="<f4")
        return x if last is None else x[-round(last * RATE) :]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
