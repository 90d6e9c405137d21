#!/usr/bin/env python3
"""Independent reference implementation of duckton job records, epoch roots and inclusion proofs, written from
docs/PROTOCOL.md alone ("Job records and epoch roots").

BLAKE3 comes from Debian's b3sum and SHA-256 from Python's hashlib, so nothing here shares code with the C# side.

Usage:
  job_proof_reference.py leaf RECORD_JSON|-       prints the raw leaf (64 hex digits) of a record object
  job_proof_reference.py tree LEAVES_FILE|-       one raw leaf (hex) a line; prints {"root", "proofs": [[{"side","hash"}...]...]}
  job_proof_reference.py verify PROOF_FILE|-      prints {"valid", "error", "job_id", "epoch", "root"}; exit 0 valid, 1 not

Exit code 2 on a usage error.
"""
import hashlib
import json
import struct
import subprocess
import sys

DOMAIN = b"duckton-job-record-v1"
FORMAT = "duckton-job-proof-v1"
MAX_DEPTH = 32
MAX_FIELD = 4096


class Invalid(Exception):
    pass


def blake3(data):
    out = subprocess.run(["b3sum", "--no-names"], input=data, capture_output=True, check=True).stdout
    return bytes.fromhex(out.decode().strip())


def text(s):
    b = s.encode("utf-8")
    if len(b) > MAX_FIELD:
        raise Invalid("a record field is too long")
    return struct.pack("<I", len(b)) + b


def record_bytes(r):
    cert = bytes.fromhex(r["certificate_hash"])
    if len(cert) != 32:
        raise Invalid("certificate_hash is not 32 bytes")
    epoch = r["epoch"]
    if not isinstance(epoch, int) or not 0 <= epoch < 2 ** 32:
        raise Invalid("epoch is not a u32")
    return (DOMAIN + text(r["job_id"]) + text(r["query_hash"]) + text(r["result_hash"]) + cert
            + text(r["requester"]) + text(r["winner"]) + struct.pack("<I", epoch))


def leaf_of(r):
    return blake3(record_bytes(r))


def leaf_node(leaf):
    return hashlib.sha256(b"\x00\x40" + leaf).digest()


def interior(left, right):
    return hashlib.sha256(b"\x00\x80" + left + right).digest()


def tree(leaves):
    """(root, proofs): proofs[i] is the list of (sibling_is_left, sibling) from leaf i upward."""
    if not leaves:
        raise Invalid("an empty epoch has no root")
    level = [leaf_node(x) for x in leaves]
    proofs = [[] for _ in leaves]
    pos = list(range(len(leaves)))  # each leaf's index on the current level
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 == len(level):
                nxt.append(level[i])  # odd last node: promoted, no step
            else:
                nxt.append(interior(level[i], level[i + 1]))
        for leaf, p in enumerate(pos):
            if p % 2 == 0 and p + 1 < len(level):
                proofs[leaf].append((False, level[p + 1]))
            elif p % 2 == 1:
                proofs[leaf].append((True, level[p - 1]))
            pos[leaf] = p // 2
        level = nxt
    return level[0], proofs


def expected_sides(index, count):
    if count < 1 or not 0 <= index < count:
        raise Invalid(f"leaf index {index} is not within a tree of {count} leaves")
    sides = []
    while count > 1:
        if not (index == count - 1 and count % 2 == 1):
            sides.append(index % 2 == 1)
        index //= 2
        count = (count + 1) // 2
    return sides


def hex32(v, what):
    if not isinstance(v, str) or len(v) != 64:
        raise Invalid(f"{what} is not 64 hex digits")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise Invalid(f"{what} is not 64 hex digits")


def verify(doc):
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise Invalid("not a " + FORMAT + " document")
    r = doc["record"]
    for k in ("job_id", "query_hash", "result_hash", "requester", "winner"):
        if not isinstance(r.get(k), str):
            raise Invalid(f"record.{k} is not a string")
    hex32(r.get("certificate_hash"), "certificate_hash")
    leaf = leaf_of(r)
    if hex32(doc.get("leaf"), "leaf") != leaf:
        raise Invalid("the stated leaf is not the hash of the record")
    path = doc["path"]
    if len(path) > MAX_DEPTH:
        raise Invalid("path too long")
    sides = expected_sides(doc["index"], doc["leaf_count"])
    if len(sides) != len(path):
        raise Invalid("the path length does not match the index and leaf count")
    h = leaf_node(leaf)
    for want_left, step in zip(sides, path):
        if step.get("side") not in ("left", "right") or (step["side"] == "left") != want_left:
            raise Invalid("a path step is on the wrong side")
        sib = hex32(step.get("hash"), "path hash")
        h = interior(sib, h) if want_left else interior(h, sib)
    if h != hex32(doc.get("root"), "root"):
        raise Invalid("the path does not fold to the root")


def read(arg):
    return sys.stdin.read() if arg == "-" else open(arg, encoding="utf-8").read()


def main(argv):
    if len(argv) != 3 or argv[1] not in ("leaf", "tree", "verify"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, src = argv[1], read(argv[2])
    if cmd == "leaf":
        print(leaf_of(json.loads(src)).hex())
        return 0
    if cmd == "tree":
        leaves = [bytes.fromhex(line.strip()) for line in src.splitlines() if line.strip()]
        root, proofs = tree(leaves)
        print(json.dumps({"root": root.hex(), "proofs": [[{"side": "left" if l else "right", "hash": s.hex()} for l, s in p] for p in proofs]}))
        return 0
    out = {"valid": False, "error": None, "job_id": None, "epoch": None, "root": None}
    try:
        doc = json.loads(src)
        out["job_id"] = doc.get("record", {}).get("job_id")
        out["epoch"] = doc.get("record", {}).get("epoch")
        out["root"] = doc.get("root")
        verify(doc)
        out["valid"] = True
    except (Invalid, ValueError, KeyError, TypeError, AttributeError) as e:
        out["error"] = str(e)
    print(json.dumps(out))
    return 0 if out["valid"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
