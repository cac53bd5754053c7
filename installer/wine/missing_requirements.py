"""Print the requirements the Windows site-packages still lacks, one per line (pip syntax).

    wine python.exe installer/wine/missing_requirements.py "sigphone[gui,media,freeze]" ...

installer/windows-on-wine.sh fills a Windows Python's site-packages from Linux with
``pip install --platform win_amd64``, and pip then evaluates environment markers for Linux:
a requirement such as PyInstaller's ``pefile; sys_platform == 'win32'`` is silently left out.
This script runs under the Windows interpreter itself, walks the requirements from the given
roots with Windows' own markers, and prints each one that is missing or whose installed
version does not match, for the shell script to install; nothing printed means complete.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pip_line(req: Requirement) -> str:
    """Without its marker: pip on Linux would evaluate it for Linux again."""
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


def missing(roots: list[str]) -> list[str]:
    todo = [Requirement(root) for root in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    lacking: list[str] = []
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            lacking.append(pip_line(req))
            continue
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            lacking.append(pip_line(req))
            continue
        for text in dist.requires or []:
            child = Requirement(text)
            # Evaluated here, on Windows: sys_platform is "win32", and the extras asked for count.
            if child.marker is not None and not any(
                child.marker.evaluate({"extra": extra}) for extra in (req.extras or {""})
            ):
                continue
            todo.append(child)
    return sorted(set(lacking))


if __name__ == "__main__":
    for line in missing(sys.argv[1:]):
        print(line)
