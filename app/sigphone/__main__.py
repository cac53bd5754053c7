"""``python -m sigphone`` and the ``sigphone`` command: the desktop softphone (the server is
``sigphone-server``).

``--self-test`` loads and starts every heavy part instead (CI runs it on the frozen bundle);
``--demo`` starts the demo (``sigphone.demo``: an embedded server and two phones).
"""

from __future__ import annotations

import sys


def run() -> int:
    argv = sys.argv[1:]
    if "--self-test" in argv:
        from .selftest import main as self_test

        return self_test()
    if "--demo" in argv:
        from .demo import main as demo

        return demo(argv)
    from .ui.app import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(run())
