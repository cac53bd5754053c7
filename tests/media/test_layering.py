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


def test_media_imports_only_protocol_of_sigphone() -> None:
    """media knows nothing of the SDK's objects (no Call patching): the call's owner routes
    SDP and call messages to it. Of sigphone it imports only ``protocol``."""
    seen: set[str] = set()
    for path in sorted(MEDIA.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                seen.add((node.module or "").split(".")[0])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sigphone."):
                seen.add(node.module.split(".")[1])  # type: ignore[union-attr]
            elif isinstance(node, ast.Import):
                seen.update(
                    a.name.split(".")[1] for a in node.names if a.name.startswith("sigphone.")
                )
    assert seen == {"protocol"}
