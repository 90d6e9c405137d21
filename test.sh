#!/usr/bin/env bash
# Runs every test of the solution. Fetches what the tests need that a fresh Debian machine may lack, when running as
# root: Debian's b3sum (the BLAKE3 reference the hashing tests compare against), and what the extension's build needs
# to link OpenSSL statically (libssl-dev's libssl.a/libcrypto.a and headers, cmake, make; see docs/EXTENSION.md), and
# what the dashboard needs (npm, which installs its pinned plotly with `npm ci`; chromium, which its browser tests drive).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
need=()
command -v b3sum >/dev/null 2>&1 || need+=(b3sum)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v make >/dev/null 2>&1 || need+=(make)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/include/openssl/ssl.h ] && [ -n "$(find /usr/lib -name libcrypto.a -print -quit 2>/dev/null)" ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]} (Debian) for the BLAKE3 conformance tests, the extension's build and the dashboard" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
      || echo "test.sh: could not install ${need[*]}; the tests that need them will fail" >&2
  else
    echo "test.sh: missing ${need[*]} (not root or no apt-get: install them yourself); the tests that need them will fail" >&2
  fi
fi
# The package tests (tests/Duckton.Library.Tests PackageTests) pack the NuGet packages, install them in a fresh project
# with an empty NuGet cache and install the dotnet tool: minutes of restore and build, so they run only when asked.
export DUCKTON_PACKAGE_TESTS="${DUCKTON_PACKAGE_TESTS:-1}"
# A background job of a non-interactive shell (`./test.sh &` in a script, CI wrappers) starts with SIGINT and SIGQUIT
# ignored, and every process it starts inherits that: the tests that interrupt `duckton sql` or stop `grid up` with
# SIGINT would wait for a signal their processes never see. GNU env (coreutils 8.31+) restores the default.
reset=()
if env --default-signal=INT true >/dev/null 2>&1; then
  reset=(env --default-signal=INT,QUIT)
fi
exec "${reset[@]}" dotnet test "$root/Duckton.sln" -c Release --nologo "$@"
