#!/usr/bin/env bash
# Installs the dashboard's pinned browser assets (package-lock.json: plotly.js-dist-min) into
# src/Duckton.Dashboard/node_modules with `npm ci`, when they are missing. The dashboard's build calls it and embeds the
# files in its assembly, so the page is served without any CDN and works offline.
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../src/Duckton.Dashboard" && pwd)
if [ -f "$dir/node_modules/plotly.js-dist-min/plotly.min.js" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "dashboard-assets: npm is needed to install plotly.js-dist-min (Debian: apt-get install npm)" >&2; exit 1; }
exec 9>"${TMPDIR:-/tmp}/duckton-dashboard-npm.lock"
flock 9
[ -f "$dir/node_modules/plotly.js-dist-min/plotly.min.js" ] && exit 0
echo "dashboard-assets: npm ci (plotly.js-dist-min, pinned by package-lock.json)" >&2
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
