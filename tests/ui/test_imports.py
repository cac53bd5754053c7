"""Only ``sigphone.ui`` may import Qt or qasync (DESIGN.md: all Qt in one sub-package), so the
server, SDK, protocol and media stay usable and testable without a GUI stack."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "sigphone"
GUI_MODULES = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6", "PySide2")
#: ``sigphone --self-test`` loads every heavy part of the frozen bundle on purpose (Qt
#: included, lazily inside one check); it is the one allowed exception.
ALLOWED = {Path("selftest.py")}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_no_gui_imports_outside_sigphone_ui() -> None:
    offenders = []
    checked = 0
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "ui" or relative in ALLOWED:
            continue
        checked += 1
        if _imports(path) & set(GUI_MODULES):
            offenders.append(str(relative))
    assert checked > 20  # the walk really saw the packages
    assert offenders == []


def test_ui_does_import_qt() -> None:
    """The check above is not vacuous: the same walk finds PySide6 in sigphone.ui."""
    assert "PySide6" in _imports(PACKAGE / "ui" / "bridge.py")
