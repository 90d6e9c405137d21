#!/usr/bin/env bash
# Checks what the extension's NativeAOT link with StaticOpenSslLinking=true needs, before the build tries it, and
# says what is missing and how to install it. The extension carries its own OpenSSL (libssl.a + libcrypto.a) so that
# its TLS never binds to an OpenSSL the host process exports (the Node client does); .NET builds its crypto shim
# from source for that, with cmake and make.
# Usage: eng/check-openssl-static.sh [C compiler]   (exit 0: all present; 1: something is missing)
set -uo pipefail
cc=${1:-gcc}
missing=()
packages=()
command -v cmake >/dev/null 2>&1 || { missing+=("cmake (builds .NET's crypto shim)"); packages+=(cmake); }
command -v make >/dev/null 2>&1 || { missing+=("make (builds .NET's crypto shim)"); packages+=(make); }
if ! command -v "$cc" >/dev/null 2>&1; then
  missing+=("the C compiler '$cc'"); packages+=(gcc)
else
  # -print-file-name prints the bare name when the compiler cannot find the archive.
  for lib in libssl.a libcrypto.a; do
    found=$("$cc" -print-file-name="$lib" 2>/dev/null)
    if [ "$found" = "$lib" ] || [ ! -f "$found" ]; then
      missing+=("$lib (OpenSSL's static libraries)"); packages+=(libssl-dev)
    fi
  done
  if ! printf '#include <openssl/ssl.h>\n' | "$cc" -E -x c - >/dev/null 2>&1; then
    missing+=("openssl/ssl.h (OpenSSL's headers)"); packages+=(libssl-dev)
  fi
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "The extension links OpenSSL statically (so its TLS works inside any host process, e.g. the Node client) and this machine lacks:" >&2
for m in "${missing[@]}"; do
  echo "  - $m" >&2
done
unique=$(printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' ')
echo "Install them (Debian/Ubuntu: sudo apt-get install ${unique% }; elsewhere: OpenSSL's development files with its static libraries, cmake, make) and build again." >&2
exit 1
