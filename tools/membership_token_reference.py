#!/usr/bin/env python3
"""A membership-token verifier written from docs/PROTOCOL.md ("Membership token") alone.

Reads JSON cases on stdin: [{"token": "dkt1....", "kind": "group"|"region", "value": "...", "node": "b3:<hex>",
"issuers": ["value=<hex>", ...], "now_ms": <int>}, ...] and prints one line per case: "valid" or "refused: <why>".
Ed25519 comes from libsodium through ctypes, so nothing here shares code with the C# implementation.
"""
import base64
import ctypes
import ctypes.util
import json
import struct
import sys

DOMAIN = b"duckton-membership-token-v1"
_sodium = None


def ed25519_verify(public_key, message, signature):
    global _sodium
    if _sodium is None:
        _sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
        if _sodium.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
    return _sodium.crypto_sign_verify_detached(signature, message, ctypes.c_ulonglong(len(message)), public_key) == 0


def decode(text):
    if not text.startswith("dkt1."):
        raise ValueError("no dkt1. prefix")
    body = text[len("dkt1."):]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(raw):
            raise ValueError("truncated")
        out = raw[pos:pos + n]
        pos += n
        return out

    version, kind = take(1)[0], take(1)[0]
    if version != 1 or kind not in (1, 2):
        raise ValueError("version or kind")
    node = take(32)
    (length,) = struct.unpack("<I", take(4))
    if length == 0 or length > 256:
        raise ValueError("value length")
    value = take(length).decode("utf-8")
    issued, expires = struct.unpack("<QQ", take(16))
    issuer = take(32)
    signed_end = pos
    signature = take(64)
    if pos != len(raw):
        raise ValueError("trailing bytes")
    return {"kind": "group" if kind == 1 else "region", "node": node, "value": value, "issued": issued,
            "expires": expires, "issuer": issuer, "signature": signature, "signed": DOMAIN + raw[:signed_end]}


def check(case):
    try:
        t = decode(case["token"])
    except ValueError as e:
        return "refused: malformed (%s)" % e
    if t["kind"] != case["kind"] or t["value"] != case["value"]:
        return "refused: other membership"
    if "b3:" + t["node"].hex() != case["node"]:
        return "refused: other node"
    listed = any(e.split("=", 1)[0].strip() == case["value"] and e.split("=", 1)[1].strip().lower() == t["issuer"].hex()
                 for e in case["issuers"] if "=" in e)
    if not listed:
        return "refused: issuer not listed"
    if case["now_ms"] >= t["expires"]:
        return "refused: expired"
    if t["issued"] > case["now_ms"] + 60_000:
        return "refused: not valid yet"
    if not ed25519_verify(t["issuer"], t["signed"], t["signature"]):
        return "refused: bad signature"
    return "valid"


def main():
    for case in json.load(sys.stdin):
        print(check(case))


if __name__ == "__main__":
    main()
