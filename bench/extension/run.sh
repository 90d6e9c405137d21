#!/usr/bin/env bash
# Extension benchmarks (SPEC §6): publishes artifacts/duckton.duckdb_extension, installs the pinned DuckDB Node client
# and measures file size, LOAD time, per-call overhead and 1 M-row throughput against their anchors in the same run.
# Usage: bench/extension/run.sh [--processes N] [--calls N] [--runs N]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dotnet publish "$root/src/Duckton.Extension" -c Release -nologo >/dev/null
bash "$root/tests/Duckton.Extension.Tests/node/install.sh" "$root/.cache/node"
NODE_PATH="$root/.cache/node/node_modules" node "$root/bench/extension/bench.cjs" "$root/artifacts/duckton.duckdb_extension" "$@"
