#!/bin/bash
# ctest entry of the browser test (label `browser`): installs the pinned puppeteer-core from
# package-lock.json into NODE_DIR (once; `npm ci`), then runs SCRIPT (default wt_echo_test.mjs)
# against BINARY.
# usage: run_browser_test.sh BINARY NODE_DIR [SCRIPT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tquic=$1
node_dir=$2
script=${3:-wt_echo_test.mjs}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then
  echo "FAIL: $chromium not found (scripts/install-deps.sh installs Debian's chromium)" >&2
  exit 1
fi
mkdir -p "$node_dir"
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" ||
   [[ ! -d $node_dir/node_modules/puppeteer-core ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
  # --ignore-scripts: puppeteer-core downloads nothing; chromium is Debian's.
  (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
cp "$here/$script" "$node_dir/"
exec node "$node_dir/$script" "$tquic" "$chromium"
