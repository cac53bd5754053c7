"""Where the softphone keeps its files: the user's config, data and log directories.

Everything takes a ``Paths`` so tests (and portable installs) point it at a temporary
directory instead of the real user profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["Paths"]


@dataclass(frozen=True)
class Paths:
    config: Path
    data: Path
    logs: Path

    @classmethod
    def default(cls) -> Paths:
        """The platform's per-user directories (``%APPDATA%`` etc. on Windows)."""
        dirs = platformdirs.PlatformDirs("Sigphone", "Sigphone")
        return cls(Path(dirs.user_config_dir), Path(dirs.user_data_dir), Path(dirs.user_log_dir))

    @classmethod
    def under(cls, root: Path) -> Paths:
        """All three under one folder (tests, demo windows)."""
        return cls(root / "config", root / "data", root / "logs")

    def settings_file(self) -> Path:
        return self.config / "sigphone.ini"

    def database(self) -> Path:
        return self.data / "sigphone.sqlite3"

    def log_file(self) -> Path:
        return self.logs / "sigphone.log"
