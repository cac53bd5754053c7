"""Where the softphone keeps its files on Windows, and that the uninstaller knows the place.

``Paths.default()`` asks platformdirs, which on Windows reads the shell's known folders (not
the XDG variables Linux CI sees). The installer's uninstaller offers to delete
``{localappdata}\\sigphone`` and ``{userappdata}\\sigphone`` (installer/sigphone.iss, [Code]);
every per-user file the app writes must be inside one of them, or "remove my data" leaves it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PureWindowsPath

import platformdirs

from sigphone.phone.paths import Paths

ISS = Path(__file__).resolve().parents[2] / "installer" / "sigphone.iss"


def _uninstaller_folders() -> list[PureWindowsPath]:
    """The folders the [Code] section passes to DelTree, with Inno's constants expanded."""
    constants = {
        "localappdata": os.environ["LOCALAPPDATA"],
        "userappdata": os.environ["APPDATA"],
    }
    folders = []
    for constant, rest in re.findall(
        r"DelTree\(ExpandConstant\('\{(\w+)\}([^']*)'\)", ISS.read_text()
    ):
        folders.append(PureWindowsPath(constants[constant] + rest))
    assert folders, "no DelTree in installer/sigphone.iss"
    return folders


def _inside(path: Path, folders: list[PureWindowsPath]) -> bool:
    """Windows paths compare without case: %LOCALAPPDATA%\\Sigphone is {localappdata}\\sigphone."""
    target = PureWindowsPath(str(path).lower())
    return any(target.is_relative_to(PureWindowsPath(str(f).lower())) for f in folders)


def test_default_paths_are_in_the_local_app_data_folder() -> None:
    paths = Paths.default()
    local = PureWindowsPath(os.environ["LOCALAPPDATA"].lower())
    for folder in (paths.config, paths.data, paths.logs):
        assert PureWindowsPath(str(folder).lower()).is_relative_to(local), folder
    assert paths.settings_file().suffix == ".ini"  # an INI file, not the registry


def test_every_per_user_file_is_inside_what_the_uninstaller_removes() -> None:
    folders = _uninstaller_folders()
    paths = Paths.default()
    written = [
        paths.settings_file(),
        paths.database(),
        paths.log_file(),
        # sigphone --self-test's report of a windowed build (sigphone.selftest.main).
        Path(platformdirs.user_log_dir("sigphone", appauthor=False)) / "self-test.txt",
    ]
    for path in written:
        assert _inside(path, folders), f"{path} survives 'remove my data' ({folders})"


def test_known_folders_come_from_the_shell_not_the_environment(monkeypatch) -> None:
    """platformdirs on Windows asks SHGetKnownFolderPath: a stale %LOCALAPPDATA% in the
    environment (seen with some launchers) does not move the user's settings."""
    real = Paths.default()
    monkeypatch.setenv("LOCALAPPDATA", r"C:\nowhere")
    assert Paths.default() == real
