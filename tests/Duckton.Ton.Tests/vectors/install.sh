#!/usr/bin/env bash
# Installs the pinned @ton packages (package.json + package-lock.json beside this script) into DIR with npm ci, once:
# a second call with the same lock file does nothing. Used by the golden-vector tests.
# Usage: install.sh DIR   -> DIR/node_modules/@ton/core
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?install directory}
mkdir -p "$dir"
exec 9>"$dir/.install.lock"
flock 9
if cmp -s "$here/package-lock.json" "$dir/.installed-lock.json" && [ -f "$dir/node_modules/@ton/core/package.json" ]; then
  exit 0
fi
rm -f "$dir/.installed-lock.json"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --legacy-peer-deps)
cp "$here/package-lock.json" "$dir/.installed-lock.json"
