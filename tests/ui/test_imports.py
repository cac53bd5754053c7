"""Only ``sigphone.ui`` may import Qt or qasync (all Qt in one sub-package), so the server,
SDK, protocol, media and the phone's logic stay usable and testable without a GUI stack; and
``ui`` imports no server, SDK or media code (it talks to ``sigphone.phone``)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "sigphone"
GUI_MODULES = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6", "PySide2")
#: ``sigphone --self-test`` loads every heavy part of the frozen bundle on purpose (Qt
#: included, lazily inside one check); ``demo.py`` is the composition root that puts the
#: server and the GUI in one process. They are the allowed exceptions.
ALLOWED = {Path("selftest.py"), Path("demo.py")}


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


def _sigphone_parts(path: Path, package: str) -> set[str]:
    """The sigphone sub-packages ``path`` (inside ``package``) imports, relative or not."""
    parts: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level >= 2:
                parts.add(module.split(".")[0])
            elif node.level == 1:
                parts.add(package)
            elif module.startswith("sigphone."):
                parts.add(module.split(".")[1])
        elif isinstance(node, ast.Import):
            parts.update(a.name.split(".")[1] for a in node.names if a.name.startswith("sigphone."))
    return parts


def test_ui_imports_no_server_sdk_or_media() -> None:
    """Views talk to the phone through the Qt adapter: no server (the demo lives above
    ui), no SDK, no media."""
    offenders = {}
    for path in (PACKAGE / "ui").rglob("*.py"):
        bad = _sigphone_parts(path, "ui") & {"server", "sdk", "media"}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}
    assert "phone" in _sigphone_parts(PACKAGE / "ui" / "bridge.py", "ui")


def test_phone_imports_no_qt_and_no_ui() -> None:
    for path in (PACKAGE / "phone").rglob("*.py"):
        assert not _imports(path) & set(GUI_MODULES), path.name
        assert "ui" not in _sigphone_parts(path, "phone"), path.name
