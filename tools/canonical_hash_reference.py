#!/usr/bin/env python3
"""Independent reference implementation of the duckton canonical result hash (docs/PROTOCOL.md,
"Canonical result hash"), written from that document alone, checked against the published vectors.

BLAKE3 comes from Debian's b3sum (apt-get install b3sum), so nothing here shares code with the C#.
Usage: python3 tools/canonical_hash_reference.py [vectors.json]
"""
import json
import os
import struct
import subprocess
import sys
import uuid
from decimal import Decimal

IDS = {
    "BOOLEAN": 1, "TINYINT": 2, "SMALLINT": 3, "INTEGER": 4, "BIGINT": 5, "UTINYINT": 6, "USMALLINT": 7,
    "UINTEGER": 8, "UBIGINT": 9, "FLOAT": 10, "DOUBLE": 11, "TIMESTAMP": 12, "DATE": 13, "TIME": 14,
    "INTERVAL": 15, "HUGEINT": 16, "VARCHAR": 17, "BLOB": 18, "TIMESTAMP_S": 20, "TIMESTAMP_MS": 21,
    "TIMESTAMP_NS": 22, "UUID": 27, "TIMESTAMP WITH TIME ZONE": 31, "UHUGEINT": 32, "TIME_NS": 39,
}
INT_FORMATS = {2: "<b", 3: "<h", 4: "<i", 5: "<q", 6: "<B", 7: "<H", 8: "<I", 9: "<Q",
               12: "<q", 13: "<i", 14: "<q", 20: "<q", 21: "<q", 22: "<q", 31: "<q", 39: "<q"}


def b3(data, derive_context=None):
    args = ["b3sum", "--no-names"] + (["--derive-key", derive_context] if derive_context else [])
    return bytes.fromhex(subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode().strip())


def u32(n):
    return struct.pack("<I", n)


def string(s):
    b = s.encode("utf-8")
    return u32(len(b)) + b


def parse_type(t):
    if isinstance(t, str):
        return {"id": IDS[t]}
    (kind, arg), = t.items()
    if kind == "decimal":
        return {"id": 19, "width": arg[0], "scale": arg[1]}
    if kind == "enum":
        return {"id": 23, "labels": arg}
    if kind == "list":
        return {"id": 24, "element": parse_type(arg)}
    if kind == "array":
        return {"id": 33, "element": parse_type(arg[0]), "size": arg[1]}
    if kind == "map":
        return {"id": 26, "key": parse_type(arg[0]), "value": parse_type(arg[1])}
    if kind in ("struct", "union"):
        return {"id": 25 if kind == "struct" else 28, "fields": [(n, parse_type(ft)) for n, ft in arg]}
    raise ValueError(kind)


def type_bytes(t):
    out = bytes([t["id"]])
    if t["id"] == 19:
        out += bytes([t["width"], t["scale"]])
    elif t["id"] == 23:
        out += u32(len(t["labels"])) + b"".join(string(l) for l in t["labels"])
    elif t["id"] == 24:
        out += type_bytes(t["element"])
    elif t["id"] == 33:
        out += u32(t["size"]) + type_bytes(t["element"])
    elif t["id"] == 26:
        out += type_bytes(t["key"]) + type_bytes(t["value"])
    elif t["id"] in (25, 28):
        out += u32(len(t["fields"])) + b"".join(string(n) + type_bytes(ft) for n, ft in t["fields"])
    return out


def float_bits(v, double):
    special = {"NaN": float("nan"), "-NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf"), "-0.0": 0.0}
    x = special[v] if isinstance(v, str) else float(v)
    if x != x:
        return 0x7FF8000000000000 if double else 0x7FC00000
    if x == 0:
        return 0  # -0.0 and +0.0 are one value
    return struct.unpack("<Q", struct.pack("<d", x))[0] if double else struct.unpack("<I", struct.pack("<f", x))[0]


def cell(t, v):
    if v is None:
        return b"\x00"
    i = t["id"]
    tag = bytes([i])
    if i == 1:
        return tag + bytes([1 if v else 0])
    if i in INT_FORMATS:
        return tag + struct.pack(INT_FORMATS[i], int(v))
    if i in (16, 32):
        return tag + int(v).to_bytes(16, "little", signed=(i == 16))
    if i == 10:
        return tag + struct.pack("<I", float_bits(v, False))
    if i == 11:
        return tag + struct.pack("<Q", float_bits(v, True))
    if i == 19:
        unscaled = int(Decimal(v).scaleb(t["scale"]))
        return tag + unscaled.to_bytes(16, "little", signed=True)
    if i == 15:
        return tag + struct.pack("<iiq", *v)
    if i == 27:
        return tag + uuid.UUID(v).bytes
    if i == 17:
        return tag + string(v)
    if i == 18:
        b = bytes.fromhex(v)
        return tag + u32(len(b)) + b
    if i == 23:
        return tag + string(v)
    if i == 24:
        return tag + u32(len(v)) + b"".join(cell(t["element"], e) for e in v)
    if i == 33:
        assert len(v) == t["size"]
        return tag + b"".join(cell(t["element"], e) for e in v)
    if i == 25:
        return tag + b"".join(cell(ft, v.get(n)) for n, ft in t["fields"])
    if i == 26:
        entry = {"id": 25, "fields": [("key", t["key"]), ("value", t["value"])]}
        return tag + u32(len(v)) + b"".join(cell(entry, {"key": k, "value": val}) for k, val in v)
    if i == 28:
        (member, value), = v.items()
        index = [n for n, _ in t["fields"]].index(member)
        return tag + bytes([index]) + cell(t["fields"][index][1], value)
    raise ValueError(f"type id {i}")


def result_hash(columns, rows):
    types = [parse_type(c["type"]) for c in columns]
    schema = u32(len(columns)) + b"".join(string(c["name"]) + type_bytes(t) for c, t in zip(columns, types))
    digests = sorted(b3(b"".join(cell(t, v) for t, v in zip(types, row)), "duckton-result-v1 row") for row in rows)
    return b3(b"duckton-result-v1" + schema + struct.pack("<Q", len(rows)) + b"".join(digests)).hex()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests",
        "Duckton.Core.Tests", "TestData", "canonical-hash-vectors.json")
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    failed = 0
    for case in cases:
        actual = result_hash(case["columns"], case["rows"])
        ok = actual == case["expected"]
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {case['name']}: {actual}")
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
