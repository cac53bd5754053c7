"""``python -m sigphone``: the desktop softphone (the server is ``sigphone-server``).

``--self-test`` loads and starts every heavy part instead (CI runs it on the frozen bundle).
"""

from __future__ import annotations

import sys


def run() -> int:
    if "--self-test" in sys.argv[1:]:
        from .selftest import main as self_test

        return self_test()
    from .ui.app import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
