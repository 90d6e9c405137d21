#!/usr/bin/env bash
# Compares our BLAKE3 with Debian's b3sum, single-threaded, on the same 256 MiB of random bytes, in one
# run, and prints bytes/s of both and the ratio; then times the canonical result hash (rows/s).
# Usage: bench/hash-vs-b3sum.sh [size-in-MiB]     (needs: apt-get install -y b3sum)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-256}"
command -v b3sum >/dev/null || { echo "b3sum not found: apt-get install -y b3sum" >&2; exit 1; }

dotnet build bench/Duckton.Benchmarks -c Release -v quiet -nologo >/dev/null
bench=bench/Duckton.Benchmarks/bin/Release/net10.0/Duckton.Benchmarks

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file="$dir/random.bin"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$file"
bytes=$(stat -c %s "$file")

# Best wall time of several b3sum runs (file in the page cache; includes process start and mmap).
best_b3sum() {
  local best=""
  for _ in 1 2 3 4 5 6 7; do
    local start end ns
    start=$(date +%s%N)
    b3sum --num-threads 1 --no-names "$file" > "$dir/b3sum.out"
    end=$(date +%s%N)
    ns=$((end - start))
    if [[ -z "$best" || "$ns" -lt "$best" ]]; then best=$ns; fi
  done
  echo "$best"
}

b3_before=$(best_b3sum)
ours=$("$bench" --b3sum-compare "$file")
b3_after=$(best_b3sum)
b3_ns=$(( b3_before < b3_after ? b3_before : b3_after ))

expected=$(cat "$dir/b3sum.out")
digest=$(awk '/^digest/{print $2}' <<< "$ours")
if [[ "$digest" != "$expected" ]]; then
  echo "DIGEST MISMATCH: b3sum $expected, ours $digest" >&2
  exit 1
fi

mem_bps=$(awk '/^memory_bytes_per_second/{print $2}' <<< "$ours")
file_bps=$(awk '/^file_bytes_per_second/{print $2}' <<< "$ours")
lanes=$(awk '/^lanes/{print $2}' <<< "$ours")
b3_bps=$(awk -v b="$bytes" -v ns="$b3_ns" 'BEGIN { printf "%.0f", b / (ns / 1e9) }')

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, lanes=$lanes"
echo "input: $bytes bytes, digest $digest (matches b3sum)"
awk -v b3="$b3_bps" -v mem="$mem_bps" -v fil="$file_bps" 'BEGIN {
  printf "b3sum --num-threads 1          %8.0f MB/s  (anchor)\n", b3 / 1e6
  printf "Blake3.Hash (bytes in memory)  %8.0f MB/s  ratio %.2f\n", mem / 1e6, mem / b3
  printf "Blake3Hasher (streaming file)  %8.0f MB/s  ratio %.2f\n", fil / 1e6, fil / b3
}'
"$bench" --quick | grep '^canonical'
# The canonical hash costs ~1.53 BLAKE3 compressions per narrow row (the row digest's one block, plus half
# a block and 1/32 of a parent for its 32 bytes in the final hash): the rows/s b3sum's speed would allow.
awk -v b3="$b3_bps" 'BEGIN { printf "canonical ceiling at b3sum speed: %.1f M rows/s (b3sum bytes/s / 64 / 1.53)\n", b3 / 64 / 1.53 / 1e6 }'
