#!/usr/bin/env bash
# Install what tests/e2e/test_legacy_js.py needs into tests/legacy_js/node_modules: the vendor's
# unmodified JS SDK (proprietary licence: installed at test time, never committed) and
# playwright-core (which must never download a browser: the tests use Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null
