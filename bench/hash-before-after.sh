#!/usr/bin/env bash
# Times two builds of the canonical result hash alternately in one session, with b3sum (the BLAKE3 anchor)
# between them, so that a shared machine's load hits both alike. Prints each build's best-of-10 rows/s (wall
# and per CPU second, from `--quick`), b3sum's best of 7 over 256 MiB (wall and, with perf, per CPU second),
# the rows/s ceiling b3sum's speed allows (~1.53 compressions per narrow row), and the load average.
# Usage: bench/hash-before-after.sh OLD_BENCH_DIR [rounds]
#   OLD_BENCH_DIR: a copy of bench/Duckton.Benchmarks/bin/Release/net10.0 built from the old commit, e.g.
#     git worktree add /tmp/old <commit> && dotnet build /tmp/old/bench/Duckton.Benchmarks -c Release \
#       && bench/hash-before-after.sh /tmp/old/bench/Duckton.Benchmarks/bin/Release/net10.0 3
# Needs: apt-get install -y b3sum (and linux-perf for the per-CPU-second anchor).
set -euo pipefail
cd "$(dirname "$0")/.."
old="${1:?usage: bench/hash-before-after.sh OLD_BENCH_DIR [rounds]}"
rounds="${2:-3}"
command -v b3sum >/dev/null || { echo "b3sum not found: apt-get install -y b3sum" >&2; exit 1; }
dotnet build bench/Duckton.Benchmarks -c Release -v quiet -nologo >/dev/null
new=bench/Duckton.Benchmarks/bin/Release/net10.0

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file="$dir/random.bin"
head -c $((256 * 1024 * 1024)) /dev/urandom > "$file"

best_b3sum() {
  local best="" bestcpu="" start end ns cpu
  for _ in 1 2 3 4 5 6 7; do
    start=$(date +%s%N)
    if command -v perf >/dev/null; then
      cpu=$(perf stat -x, -e task-clock b3sum --num-threads 1 --no-names "$file" 2>&1 >/dev/null | awk -F, '/task-clock/ { printf "%.0f", $1 * 1e6 }')
    else
      b3sum --num-threads 1 --no-names "$file" >/dev/null
      cpu=""
    fi
    end=$(date +%s%N)
    ns=$((end - start))
    if [[ -z "$best" || "$ns" -lt "$best" ]]; then best=$ns; fi
    if [[ -n "$cpu" && ( -z "$bestcpu" || "$cpu" -lt "$bestcpu" ) ]]; then bestcpu=$cpu; fi
  done
  awk -v ns="$best" -v cpu="${bestcpu:-0}" 'BEGIN {
    bps = 268435456 / (ns / 1e9)
    printf "b3sum --num-threads 1: %.0f MB/s wall (ceiling %.1f M rows/s)", bps / 1e6, bps / 64 / 1.53 / 1e6
    if (cpu > 0) { cps = 268435456 / (cpu / 1e9); printf ", %.0f MB/s per CPU second (ceiling %.1f M rows/s)", cps / 1e6, cps / 64 / 1.53 / 1e6 }
    printf "\n" }'
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round, $(uptime | sed 's/.*load/load/')"
  best_b3sum
  echo "-- before ($old)"
  "$old/Duckton.Benchmarks" --quick | grep '^canonical'
  echo "-- after ($new)"
  "$new/Duckton.Benchmarks" --quick | grep '^canonical'
  best_b3sum
done
echo "== end, $(uptime | sed 's/.*load/load/')"
