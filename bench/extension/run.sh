#!/usr/bin/env bash
# Extension benchmarks (docs/BENCHMARKS.md): publishes artifacts/duckton.duckdb_extension, installs the pinned DuckDB Node client
# and measures file size, LOAD time, per-call overhead and 1 M-row throughput (quiet, then with one busy process per core)
# against their anchors in the same run.
# Usage: bench/extension/run.sh [--perf] [--processes N] [--calls N] [--runs N] [--load N]
#   --perf  also profiles 20,000 p2p_info() calls with Linux perf (if installed) and reports the CPU time per call
#           spent in the extension's own code, as opposed to DuckDB's and the client's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
profile=0
args=()
for a in "$@"; do
  if [ "$a" = "--perf" ]; then profile=1; else args+=("$a"); fi
done
dotnet publish "$root/src/Duckton.Extension" -c Release -nologo >/dev/null
bash "$root/tests/Duckton.Extension.Tests/node/install.sh" "$root/.cache/node"
ext="$root/artifacts/duckton.duckdb_extension"
export NODE_PATH="$root/.cache/node/node_modules"
node "$root/bench/extension/bench.cjs" "$ext" "${args[@]}"

if [ "$profile" = 1 ]; then
  if ! command -v perf >/dev/null; then
    echo "perf is not installed (Debian: apt-get install linux-perf); skipping the profile" >&2
    exit 0
  fi
  calls=20000
  hz=4999
  data=$(mktemp)
  trap 'rm -f "$data"' EXIT
  perf record -q -F "$hz" -o "$data" -- node "$root/bench/extension/bench.cjs" "$ext" --info-loop "$calls" >/dev/null 2>&1
  perf report -i "$data" --stdio --sort dso -F overhead,sample,dso 2>/dev/null | awk -v hz="$hz" -v calls="$calls" '
    /^#/ || NF < 3 { next }
    { total += $2; if ($3 == "duckton.duckdb_extension") ext += $2 }
    END {
      printf "\nperf, %d p2p_info() calls: %.1f µs CPU per call in all, of which %.1f µs (%.1f%%) in duckton.duckdb_extension\n",
        calls, total / hz / calls * 1e6, ext / hz / calls * 1e6, 100 * ext / total
    }'
fi
