"""Cyclic garbage collection on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a threshold is
crossed. With voice, worker threads run Python all the time (AudioIO opens and closes
PortAudio streams through ``asyncio.to_thread``, asyncio resolves names in its executor),
so the collector can free a QObject caught in a reference cycle on one of them; Qt then
crashes later, in the GUI thread, delivering a timer event to the freed object (seen in
the GUI tests as a segfault in ``sendThroughObjectEventFilters``). The usual remedy for Qt
apps: switch automatic collection off and collect from a GUI-thread timer, generation by
generation, with the interpreter's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["GcGuard"]


class GcGuard(QObject):
    """Owns the timer; ``install`` once after the QApplication exists."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def install(self) -> GcGuard:
        gc.disable()
        self._timer.start()
        return self

    def uninstall(self) -> None:
        self._timer.stop()
        gc.enable()

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold (as CPython
        would have done itself, but here, on the GUI thread)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                self.collections += 1
                return
