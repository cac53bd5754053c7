# Sourced by scripts/test and scripts/demo: find the system packages they need and install
# them on Debian or Ubuntu as root; anywhere else print the exact package line and go on.
#
#   need PACKAGE PROBE...          PACKAGE is missing unless the command PROBE... succeeds
#   need --lean PACKAGE PROBE...   ... and is installed without "recommends" (PulseAudio
#                                  would otherwise pull in a desktop)
#   install_missing                install (or print) what need found missing
#
# Probes look for the file or command itself, not for a package name, so they hold on any
# distribution and for renamed packages (Ubuntu 24.04's libglib2.0-0t64 provides libglib2.0-0).

missing=()
missing_lean=()

need() {
  local lean=0
  if [ "$1" = --lean ]; then lean=1; shift; fi
  local pkg=$1
  shift
  "$@" >/dev/null 2>&1 && return 0
  if [ $lean = 1 ]; then missing_lean+=("$pkg"); else missing+=("$pkg"); fi
}

# has_lib SONAME: the dynamic linker knows the 64-bit library (e.g. libEGL.so.1); an i386
# copy (Wine's) does not count.
has_lib() {
  local ldconfig
  ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
  "$ldconfig" -p 2>/dev/null | awk -v lib="$1" '$1 == lib && $2 ~ /64/ {found = 1} END {exit !found}'
}

is_debian_like() {
  [ -r /etc/os-release ] && command -v apt-get >/dev/null 2>&1 &&
    grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release
}

install_missing() {
  [ ${#missing[@]} -gt 0 ] || [ ${#missing_lean[@]} -gt 0 ] || return 0
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -qq)
  if is_debian_like && [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${missing[*]} ${missing_lean[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A broken mirror index (seen: bookworm-security i386 once i386 is enabled for Wine) must
    # not stop us: the install below fails loudly if a package really cannot be had.
    "${apt[@]}" update || echo "note: apt-get update failed; using the package lists there are"
    [ ${#missing[@]} -eq 0 ] || "${apt[@]}" install "${missing[@]}" >/dev/null
    [ ${#missing_lean[@]} -eq 0 ] || "${apt[@]}" install --no-install-recommends \
      "${missing_lean[@]}" >/dev/null
    return 0
  fi
  echo "Missing system packages; on Debian or Ubuntu install them with:"
  [ ${#missing[@]} -eq 0 ] || echo "  sudo apt-get install -y ${missing[*]}"
  [ ${#missing_lean[@]} -eq 0 ] ||
    echo "  sudo apt-get install -y --no-install-recommends ${missing_lean[*]}"
  echo "(elsewhere, their equivalents). Going on: what needs them is skipped or fails."
}

# python_for_venv: a Python >= 3.11 with venv (PYTHON=... chooses one).
python_for_venv() {
  local py
  for py in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
    if command -v "$py" >/dev/null 2>&1 &&
      "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  return 1
}
