#!/usr/bin/env bash
# Installs the pinned npm packages (package.json + package-lock.json in contracts/) into contracts/node_modules, once:
# a second call with the same lock file does nothing. Used by `duckton chain up` and the contract tests.
# --legacy-peer-deps comes from contracts/.npmrc (@ton/sandbox's optional func-js/jest peers are not needed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
command -v node >/dev/null 2>&1 || { echo "install-deps: node (>= 20) is not on PATH; install Node.js first" >&2; exit 127; }
command -v npm >/dev/null 2>&1 || { echo "install-deps: npm is not on PATH; install Node.js (with npm) first" >&2; exit 127; }
exec 9>"$here/.install.lock"
flock 9
stamp="$here/node_modules/.duckton-installed-lock.json"
if cmp -s "$here/package-lock.json" "$stamp" && [ -f "$here/node_modules/@ton/sandbox/package.json" ]; then
  exit 0
fi
echo "install-deps: npm ci in $here (first use or the lock file changed)" >&2
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
cp "$here/package-lock.json" "$stamp"
