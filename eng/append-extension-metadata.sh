#!/usr/bin/env bash
# Writes a loadable DuckDB extension: the shared library followed by DuckDB's metadata footer.
#
# Footer (what DuckDB reads from the last 512 bytes of the file), preceded by the 22-byte WebAssembly
# custom-section header DuckDB's own build emits (00, LEB128 531, name length 16, "duckdb_signature",
# LEB128 512) so the layout matches upstream byte for byte:
#   eight 32-byte NUL-padded fields in reverse order (field 8 first, field 1 last):
#     1 magic "4"   2 platform   3 C API version   4 extension version   5 ABI type   6-8 empty
#   then a 256-byte signature (zeros: the file is unsigned and loads with allow_unsigned_extensions).
#
# Usage: eng/append-extension-metadata.sh LIBRARY OUTPUT PLATFORM CAPI_VERSION EXTENSION_VERSION [ABI_TYPE]
set -euo pipefail
lib=${1:?shared library}
out=${2:?output file}
platform=${3:?platform, e.g. linux_amd64}
capi=${4:?C API version, e.g. v1.2.0}
version=${5:?extension version}
abi=${6:-C_STRUCT}

field() {
  local value=$1
  if [ "${#value}" -gt 32 ]; then
    echo "append-extension-metadata: '$value' is longer than a 32-byte footer field" >&2
    exit 1
  fi
  printf '%s' "$value"
  head -c $((32 - ${#value})) /dev/zero
}

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
  cat "$lib"
  printf '\000\223\004\020duckdb_signature\200\004'
  field ""; field ""; field ""
  field "$abi"
  field "$version"
  field "$capi"
  field "$platform"
  field "4"
  head -c 256 /dev/zero
} > "$tmp"
expected=$(( $(stat -c %s "$lib") + 22 + 512 ))
actual=$(stat -c %s "$tmp")
if [ "$actual" -ne "$expected" ]; then
  echo "append-extension-metadata: wrote $actual bytes, expected $expected" >&2
  exit 1
fi
mv -f "$tmp" "$out"
trap - EXIT
