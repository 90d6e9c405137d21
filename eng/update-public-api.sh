#!/usr/bin/env bash
# Adds every public symbol of src/Duckton that its PublicAPI files lack to PublicAPI.Unshipped.txt: builds with the
# analyzer's RS0016 reported as warnings and appends the symbols it names (sorted). A removed symbol (RS0017) must be
# deleted from the files by hand: removing public API is a decision, not a regeneration.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
project="$root/src/Duckton"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build "$project" -c Release -f net10.0 -nologo -v q -p:TreatWarningsAsErrors=false --no-incremental >"$log" 2>&1 || true
{
  grep -v '^#nullable' "$project/PublicAPI.Unshipped.txt" || true
  grep -o "RS0016: Symbol '.*' is not part of the declared public API" "$log" \
    | sed -e "s/^RS0016: Symbol '//" -e "s/' is not part of the declared public API\$//" || true
} | sort -u >"$log.symbols"
{ echo '#nullable enable'; cat "$log.symbols"; } >"$project/PublicAPI.Unshipped.txt"
rm -f "$log.symbols"
echo "update-public-api: $(($(wc -l <"$project/PublicAPI.Unshipped.txt") - 1)) unshipped symbol(s)"
