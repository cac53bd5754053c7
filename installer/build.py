"""Build the Windows (or Linux, for CI) bundle: PyInstaller onedir, then Inno Setup if present.

    python installer/build.py              # dist/sigphone/ (+ Sigphone-Setup-X.Y.Z.exe on Windows)
    python installer/build.py --self-test  # ... then run the bundle's --self-test
    python installer/build.py --dist D --work W  # artefacts in D, intermediate files in W

installer/windows-on-wine.sh runs it with a Windows Python under Wine (docs/install.md).

Needs the app installed with its extras (``pip install '.[gui,media]' pyinstaller``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
DIST = ROOT / "dist"


def version() -> str:
    sys.path.insert(0, str(ROOT / "app"))
    from sigphone import __version__

    return __version__


def version_file(ver: str, work: Path) -> Path:
    """Windows version resource (shown in Explorer's file properties)."""
    nums = [int(p) for p in ver.split(".")[:3] if p.isdigit()] + [0, 0, 0, 0]
    tup = tuple(nums[:4])
    text = f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={tup}, prodvers={tup}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', 'Sigphone'),
      StringStruct('FileDescription', 'Sigphone softphone'),
      StringStruct('FileVersion', '{ver}'),
      StringStruct('InternalName', 'sigphone'),
      StringStruct('OriginalFilename', 'sigphone.exe'),
      StringStruct('ProductName', 'Sigphone'),
      StringStruct('ProductVersion', '{ver}')])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
    path = work / "version_info.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def icon(work: Path) -> Path | None:
    """sigphone.ico in ``work``, made from the app's SVG icon with Qt."""
    ico = work / "sigphone.ico"
    for svg in (
        ROOT / "resources" / "icons" / "sigphone.svg",
        ROOT / "resources" / "sigphone.svg",
        ROOT / "app" / "sigphone" / "ui" / "resources" / "icons" / "app.svg",
    ):
        if not svg.exists():
            continue
        try:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            from PySide6.QtCore import Qt
            from PySide6.QtGui import QGuiApplication, QImage, QPainter
            from PySide6.QtSvg import QSvgRenderer

            _app = QGuiApplication.instance() or QGuiApplication([])
            image = QImage(256, 256, QImage.Format.Format_ARGB32)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            QSvgRenderer(str(svg)).render(painter)
            painter.end()
            if image.save(str(ico), "ICO"):
                return ico
        except Exception as exc:  # no Qt ICO writer: build without an icon, say so
            print(f"note: no icon ({exc})")
        break
    return None


def folder_size(path: Path) -> int:
    """Bytes on disk, counting each file once (the bundle links some libraries twice)."""
    seen: set[int] = set()
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--self-test", action="store_true", help="run the bundle's self-test")
    parser.add_argument("--dist", type=Path, default=DIST, help="where the artefacts go")
    parser.add_argument("--work", type=Path, default=BUILD, help="intermediate files")
    args = parser.parse_args()
    dist, work = args.dist.resolve(), args.work.resolve()
    ver = version()
    env = {**os.environ, "SIGPHONE_VERSION_FILE": str(version_file(ver, work))}
    ico = icon(work)
    if ico is not None:
        env["SIGPHONE_ICON"] = str(ico)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work / "pyinstaller"),
            str(ROOT / "installer" / "sigphone.spec"),
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )
    bundle = dist / "sigphone"
    print(
        f"bundle: {bundle} ({folder_size(bundle) / 1e6:.0f} MB, "
        f"built in {time.monotonic() - started:.0f} s)"
    )

    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if sys.platform == "win32":
        # Windows environment names are case-insensitive (os.environ upper-cases them there).
        default = Path(os.environ.get("PROGRAMFILES(X86)", "C:/Program Files (x86)"))
        candidate = default / "Inno Setup 6" / "ISCC.exe"
        iscc = iscc or (str(candidate) if candidate.exists() else None)
    if iscc:
        subprocess.run(
            [
                iscc,
                "/Q",
                f"/DAppVersion={ver}",
                f"/DBundleDir={bundle}",
                f"/O{dist}",
                str(ROOT / "installer" / "sigphone.iss"),
            ],
            check=True,
        )
        print(f"installer: {dist / f'Sigphone-Setup-{ver}.exe'}")
    else:
        print("installer: skipped (Inno Setup's ISCC not found; it runs on Windows)")

    if args.self_test:
        exe = bundle / ("sigphone.exe" if sys.platform == "win32" else "sigphone")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        result = subprocess.run([str(exe), "--self-test"], env=env, timeout=300)
        return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
