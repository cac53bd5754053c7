"""sigphone.media stays free of POSIX-only loop calls (Windows' proactor loop has no
add_reader). Its imports (no Qt, no server) are import-linter contracts in pyproject.toml."""

from __future__ import annotations

import ast
from pathlib import Path

import sigphone.media

MEDIA = Path(sigphone.media.__file__).parent
FORBIDDEN_CALLS = ("add_reader", "add_writer", "fork", "setpgid", "SIGKILL")


def test_no_posix_only_calls() -> None:
    files = sorted(MEDIA.glob("*.py"))
    assert len(files) > 5
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in FORBIDDEN_CALLS, f"{path.name}: {node.attr}"
