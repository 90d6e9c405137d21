#!/usr/bin/env python3
"""Independent reference verifier of duckton commit certificates, written from docs/PROTOCOL.md alone
("Commit certificates", "Messages" / Commit body, "Identifiers", "Batch encoding" / Schema,
"What an offline check proves").

BLAKE3 comes from Debian's b3sum and Ed25519 from libsodium (libsodium.so.23) through ctypes, so nothing here shares
code with the C# implementation.

Usage:
  certificate_reference.py verify CERT|- [--quorum N] [--result-hash HEX] [--sql-file PATH --engine-version V]
                                  [--requester NODE_ID] [--trusted-host NODE_ID ...]
  certificate_reference.py query-hash ENGINE_VERSION SQL_FILE      (prints the 64 hex digits)

`verify` prints one JSON object (valid, error, job_id, query_hash, result_hash, row_count, input_fingerprint,
requester, replicas, quorum, host_set, hosts, schema, columns) and exits 0 when the certificate is valid, 1 when it is not,
2 on a usage error. The SQL is read from a file as raw bytes and must be valid UTF-8; it is hashed exactly as given.
"""
import argparse
import base64
import ctypes
import ctypes.util
import json
import struct
import subprocess
import sys

PREFIX = "dcc2:"
CERT_DOMAIN = b"duckton-certificate-v2"
COMMIT_DOMAIN = b"duckton-commit-v1"
QUERY_DOMAIN = b"duckton-query-v1"
MAX_ENTRIES = 64            # hosts in the host set, and commits
MAX_NODE_ID = 80            # bytes of a node id string
MAX_FINGERPRINT = 64
MAX_SCHEMA = 1 << 20
MAX_COMMIT = MAX_SCHEMA + 4096


class Invalid(Exception):
    pass


def blake3(data):
    out = subprocess.run(["b3sum", "--no-names"], input=data, capture_output=True, check=True).stdout
    return bytes.fromhex(out.decode().strip())


def node_id(public_key):
    return "b3:" + blake3(public_key).hex()


def query_hash(engine_version, sql_bytes):
    return blake3(QUERY_DOMAIN + engine_version.encode("utf-8") + b"\x00" + sql_bytes).hex()


_sodium = None


def ed25519_verify(public_key, message, signature):
    global _sodium
    if _sodium is None:
        _sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
        if _sodium.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
    if len(public_key) != 32 or len(signature) != 64:
        return False
    return _sodium.crypto_sign_verify_detached(signature, message, ctypes.c_ulonglong(len(message)), public_key) == 0


class Reader:
    """The job protocol's encoding: little-endian integers, bytes/str = u32 length then the bytes."""

    def __init__(self, data, what):
        self.data, self.pos, self.what = data, 0, what

    def take(self, n, field):
        if n > len(self.data) - self.pos:
            raise Invalid(f"truncated {self.what} reading {field}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self, field):
        return self.take(1, field)[0]

    def u16(self, field):
        return struct.unpack("<H", self.take(2, field))[0]

    def u32(self, field):
        return struct.unpack("<I", self.take(4, field))[0]

    def u64(self, field):
        return struct.unpack("<Q", self.take(8, field))[0]

    def bytes(self, limit, field):
        n = self.u32(field)
        if n > limit:
            raise Invalid(f"{field} of {n} bytes exceeds {limit}")
        return self.take(n, field)

    def str(self, limit, field):
        try:
            return self.bytes(limit, field).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise Invalid(f"{field} is not valid UTF-8")

    def end(self):
        if self.pos != len(self.data):
            raise Invalid(f"{len(self.data) - self.pos} trailing bytes after the {self.what}")


TYPE_IDS_WITHOUT_PARAMS = set(range(1, 19)) | {20, 21, 22, 27, 29, 30, 31, 32, 34, 35, 36, 39, 40}


def decode_schema(data):
    """The batch encoding of a schema (PROTOCOL.md, "Batch encoding" / "Schema"): [(name, type)], where a type is
    {"id": n, ...parameters}."""
    pos = 0

    def byte():
        nonlocal pos
        if pos >= len(data):
            raise Invalid("truncated schema")
        pos += 1
        return data[pos - 1]

    def varint():
        value, shift = 0, 0
        while True:
            b = byte()
            if shift == 28 and b > 0x0F:
                raise Invalid("schema varint does not fit in 32 bits")
            value |= (b & 0x7F) << shift
            if b & 0x80 == 0:
                if b == 0 and shift > 0:
                    raise Invalid("schema varint is not minimal")
                return value
            shift += 7

    def string():
        nonlocal pos
        n = varint()
        if n > len(data) - pos:
            raise Invalid("truncated schema string")
        pos += n
        return data[pos - n:pos].decode("utf-8", errors="strict")

    def type_(depth):
        if depth > 32:
            raise Invalid("schema type nesting deeper than 32")
        t = {"id": byte()}
        i = t["id"]
        if i == 19:
            t["width"], t["scale"] = byte(), byte()
        elif i == 23:
            t["labels"] = [string() for _ in range(varint())]
        elif i == 24:
            t["element"] = type_(depth + 1)
        elif i == 33:
            t["size"] = varint()
            t["element"] = type_(depth + 1)
        elif i == 26:
            t["key"], t["value"] = type_(depth + 1), type_(depth + 1)
        elif i in (25, 28):
            t["fields"] = [[string(), type_(depth + 1)] for _ in range(varint())]
        elif i not in TYPE_IDS_WITHOUT_PARAMS:
            raise Invalid(f"unknown type id {i} in the schema")
        return t

    if byte() != 1:
        raise Invalid("unknown schema encoding version")
    columns = [[string(), type_(1)] for _ in range(varint())]
    if pos != len(data):
        raise Invalid("trailing bytes after the schema")
    return columns


def decode_commit(payload):
    r = Reader(payload, "commit")
    c = {
        "job_id": r.take(16, "job_id").hex(),
        "query_hash": r.take(32, "query_hash").hex(),
        "requester": r.str(MAX_NODE_ID, "requester_node_id"),
        "host_key": r.take(32, "host_public_key"),
        "input_fingerprint": r.bytes(MAX_FINGERPRINT, "input_fingerprint"),
        "result_hash": r.take(32, "result_hash").hex(),
        "row_count": r.u64("row_count"),
        "schema": r.bytes(MAX_SCHEMA, "schema"),
        "exec_micros": r.u64("exec_micros"),
    }
    body_end = r.pos
    c["signature"] = r.take(64, "signature")
    r.end()
    c["signed"] = COMMIT_DOMAIN + payload[:body_end]
    c["host"] = node_id(c["host_key"])
    return c


def decode(text):
    if not text.startswith(PREFIX):
        raise Invalid("not a dcc2 certificate (dcc1 certificates are not signed by their requester)"
                      if text.startswith("dcc1:") else "a certificate starts with 'dcc2:'")
    try:
        raw = base64.b64decode(text[len(PREFIX):], validate=True)  # standard alphabet, '=' padding
    except ValueError:
        raise Invalid("the certificate is not valid base64")
    r = Reader(raw, "certificate")
    if r.u8("version") != 2:
        raise Invalid("unknown certificate version")
    cert = {"requester_key": r.take(32, "requester_key"), "replicas": r.u8("replicas"), "quorum": r.u8("quorum")}
    n = r.u16("host count")
    if n > MAX_ENTRIES:
        raise Invalid(f"{n} hosts in the host set, more than {MAX_ENTRIES}")
    cert["host_set"] = [r.str(MAX_NODE_ID, "host") for _ in range(n)]
    m = r.u16("commit count")
    if m > MAX_ENTRIES:
        raise Invalid(f"{m} commits, more than {MAX_ENTRIES}")
    cert["commits"] = [decode_commit(r.bytes(MAX_COMMIT, "commit")) for _ in range(m)]
    cert["signed"] = CERT_DOMAIN + raw[:r.pos]
    cert["signature"] = r.take(64, "signature")
    r.end()
    cert["requester"] = node_id(cert["requester_key"])
    return cert


def check(cert, minimum_quorum, expected_hash, expected_query_hash, pinned_requester, trusted_hosts):
    """Returns None when every check passes, else the first failure."""
    if not ed25519_verify(cert["requester_key"], cert["signed"], cert["signature"]):
        return "the requester's signature over the certificate does not verify"
    commits = cert["commits"]
    if not commits:
        return "the certificate holds no commit"
    q, k, hosts = cert["quorum"], cert["replicas"], cert["host_set"]
    if q < 1 or q > len(hosts) or k < q:
        return f"signed quorum {q} does not fit {len(hosts)} host(s) and {k} replica(s)"
    first = commits[0]
    for c in commits:
        if not ed25519_verify(c["host_key"], c["signed"], c["signature"]):
            return f"the commit of {c['host']} has an invalid signature"
        if c["requester"] != cert["requester"]:
            return f"the commit of {c['host']} was made for another requester"
        same = all(c[f] == first[f] for f in ("job_id", "query_hash", "result_hash", "row_count", "schema", "input_fingerprint"))
        if not same:
            return f"the commit of {c['host']} does not state the same job and result"
        if c["host"] not in hosts:
            return f"the commit of {c['host']} is from a host outside the signed host set"
    ids = [c["host"] for c in commits]
    if len(set(ids)) != len(ids):
        return "a host appears twice"
    needed = max(q, minimum_quorum)
    if len(commits) < needed:
        return f"{len(commits)} commit(s), quorum {needed}"
    if expected_hash is not None and expected_hash.lower() != first["result_hash"]:
        return "the certificate is for a different result hash"
    # Beyond CommitCertificate.Verify: what only a verifier that knows the query and whom to believe can check.
    if expected_query_hash is not None and expected_query_hash != first["query_hash"]:
        return "the certificate is for another query (engine version or SQL differ)"
    if pinned_requester is not None and pinned_requester != cert["requester"]:
        return f"the certificate is signed by requester {cert['requester']}, not the pinned {pinned_requester}"
    if trusted_hosts:
        untrusted = [h for h in ids if h not in trusted_hosts]
        if len(ids) - len(untrusted) < needed:
            return f"only {len(ids) - len(untrusted)} commit(s) from trusted hosts, quorum {needed}"
    return None


def columns_of(commit):
    """The decoded schema, or None when it does not decode (a certificate's validity does not depend on it)."""
    try:
        return decode_schema(commit["schema"])
    except (Invalid, UnicodeDecodeError):
        return None


def verify_command(args):
    text = sys.stdin.read().strip() if args.certificate == "-" else args.certificate
    expected_query = None
    if args.sql_file is not None:
        with open(args.sql_file, "rb") as f:
            sql = f.read()
        sql.decode("utf-8", errors="strict")
        expected_query = query_hash(args.engine_version, sql)
    report = {"valid": False, "error": None}
    try:
        cert = decode(text)
        report["error"] = check(cert, args.quorum, args.result_hash, expected_query, args.requester, set(args.trusted_host or []))
        first = cert["commits"][0] if cert["commits"] else None
        report.update({
            "job_id": first["job_id"] if first else "",
            "query_hash": first["query_hash"] if first else "",
            "result_hash": first["result_hash"] if first else "",
            "row_count": first["row_count"] if first else 0,
            "input_fingerprint": first["input_fingerprint"].hex() if first else "",
            "schema": first["schema"].hex() if first else "",
            "columns": columns_of(first) if first else [],
            "requester": cert["requester"],
            "replicas": cert["replicas"],
            "quorum": cert["quorum"],
            "host_set": cert["host_set"],
            "hosts": [c["host"] for c in cert["commits"]],
        })
    except Invalid as e:
        report["error"] = str(e)
    if expected_query is not None:
        report["expected_query_hash"] = expected_query
    report["valid"] = report["error"] is None
    print(json.dumps(report))
    return 0 if report["valid"] else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify")
    v.add_argument("certificate", help="the certificate text (dcc2:...), or - to read it from stdin")
    v.add_argument("--quorum", type=int, default=1, help="require at least this many agreeing commits")
    v.add_argument("--result-hash", help="require this canonical result hash (64 hex)")
    v.add_argument("--sql-file", help="the SQL the query hash must be of (raw bytes, hashed exactly as given)")
    v.add_argument("--engine-version", default=None, help="e.g. duckdb-v1.5.6 (with --sql-file)")
    v.add_argument("--requester", help="require this requester node id (b3:...)")
    v.add_argument("--trusted-host", action="append", help="count only commits of these hosts toward the quorum")
    h = sub.add_parser("query-hash")
    h.add_argument("engine_version")
    h.add_argument("sql_file")
    args = p.parse_args()
    if args.command == "query-hash":
        with open(args.sql_file, "rb") as f:
            sql = f.read()
        sql.decode("utf-8", errors="strict")
        print(query_hash(args.engine_version, sql))
        return 0
    if (args.sql_file is None) != (args.engine_version is None):
        p.error("--sql-file and --engine-version go together")
    return verify_command(args)


if __name__ == "__main__":
    sys.exit(main())
