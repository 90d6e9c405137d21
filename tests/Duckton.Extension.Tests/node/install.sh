#!/usr/bin/env bash
# Installs the pinned DuckDB Node client (package.json + package-lock.json beside this script) into DIR, once:
# a second call with the same lock file does nothing. Used by the extension tests and bench/extension.
# Usage: install.sh DIR   -> DIR/node_modules/@duckdb/node-api
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?install directory}
mkdir -p "$dir"
exec 9>"$dir/.install.lock"
flock 9
if cmp -s "$here/package-lock.json" "$dir/.installed-lock.json" && [ -f "$dir/node_modules/@duckdb/node-api/package.json" ]; then
  exit 0
fi
rm -f "$dir/.installed-lock.json"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
# npm ci would insist on lock entries for every platform's optional binding package, which this registry copy lacks;
# npm install honours the lock for everything it has (the pinned versions and integrity hashes).
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
cp "$here/package-lock.json" "$dir/.installed-lock.json"
