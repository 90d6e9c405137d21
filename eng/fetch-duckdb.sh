#!/usr/bin/env bash
# Fetches libduckdb.so v1.5.6 once into the ignored cache and checks its SHA-256.
# It ships inside the npm package @duckdb/node-bindings-linux-x64 (the only registry copy reachable here).
# Usage: eng/fetch-duckdb.sh CACHE_DIR   -> prints nothing on success, CACHE_DIR/libduckdb.so exists.
set -euo pipefail
cache=${1:?cache dir}
pkg="@duckdb/node-bindings-linux-x64@1.5.6-r.1"
lib_sha="3f4962cdd266eab2b479a5b5a4a6d063d279b2954ae814ed00385d553b747633"
mkdir -p "$cache"
if [ -f "$cache/libduckdb.so" ] && echo "$lib_sha  $cache/libduckdb.so" | sha256sum -c --status; then
  exit 0
fi
lock="$cache/.fetch.lock"
exec 9>"$lock"
flock 9
# Another build may have fetched it while we waited for the lock.
if [ -f "$cache/libduckdb.so" ] && echo "$lib_sha  $cache/libduckdb.so" | sha256sum -c --status; then
  exit 0
fi
work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$pkg" >/dev/null 2>&1)
tar -xzf "$work"/*.tgz -C "$work" package/libduckdb.so package/LICENSE
if ! echo "$lib_sha  $work/package/libduckdb.so" | sha256sum -c --status; then
  echo "fetch-duckdb: SHA-256 of libduckdb.so from $pkg does not match the pin $lib_sha" >&2
  exit 1
fi
mv "$work/package/LICENSE" "$cache/LICENSE.duckdb"
mv "$work/package/libduckdb.so" "$cache/libduckdb.so"
