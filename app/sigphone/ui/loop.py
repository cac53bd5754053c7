"""The app's one event loop: qasync's, with the running loop kept set for its last pass.

qasync 0.28's ``run_until_complete`` processes pending Qt events once more *after* it has
cleared the running loop. A task stepped in that pass (a connection handler finishing, a
cancelled SDK task running its ``finally``) then fails with "RuntimeError: no running event
loop" and is reported as "Task exception was never retrieved". Keeping the loop set until
``run_until_complete`` returns lets that pass run like any other turn of the loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import qasync

__all__ = ["QasyncLoop"]


class QasyncLoop(qasync.QEventLoop):  # type: ignore[misc, valid-type]
    def _after_run_forever(self) -> None:
        super()._after_run_forever()
        asyncio.events._set_running_loop(self)  # for qasync's final processEvents()

    def run_until_complete(self, future: Any) -> Any:
        try:
            return super().run_until_complete(future)
        finally:
            asyncio.events._set_running_loop(None)
