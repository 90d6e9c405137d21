#!/usr/bin/env python3
"""Asks a real libduckdb for (storage bytes, CAST(x AS VARCHAR)) pairs of scalar values; writes the TSV that
tests/Duckton.Core.Tests/ValueFormatterDuckDBTests.cs checks ValueFormatter against.

Usage: tools/gen_duckdb_cast_vectors.py PATH/TO/libduckdb.so > tests/Duckton.Core.Tests/TestData/duckdb_casts.tsv
(eng/fetch-duckdb.sh CACHE_DIR fetches the pinned libduckdb.so.) The committed file also has a hand-picked tail of
FLOAT values where fmt's Grisu gives up, drawn from a larger random run of this same query shape.
Each line: <type sql> TAB <storage as hex> TAB <DuckDB's text, with \\ \t \n escaped>. Seeded, so reruns are identical."""
import ctypes, random, struct, sys

lib = ctypes.CDLL(sys.argv[1])


class Result(ctypes.Structure):
    _fields_ = [("a", ctypes.c_uint64), ("b", ctypes.c_uint64), ("c", ctypes.c_uint64),
                ("d", ctypes.c_void_p), ("e", ctypes.c_void_p), ("f", ctypes.c_void_p)]


for name, restype in [("duckdb_fetch_chunk", ctypes.c_void_p), ("duckdb_data_chunk_get_vector", ctypes.c_void_p),
                      ("duckdb_vector_get_data", ctypes.c_void_p), ("duckdb_vector_get_validity", ctypes.c_void_p),
                      ("duckdb_data_chunk_get_size", ctypes.c_uint64), ("duckdb_result_error", ctypes.c_char_p),
                      ("duckdb_library_version", ctypes.c_char_p)]:
    getattr(lib, name).restype = restype
db, con = ctypes.c_void_p(), ctypes.c_void_p()
assert lib.duckdb_open(None, ctypes.byref(db)) == 0 and lib.duckdb_connect(db, ctypes.byref(con)) == 0


def read_string_t(address):
    length = struct.unpack("<I", ctypes.string_at(address, 4))[0]
    if length <= 12:
        return ctypes.string_at(address + 4, length)
    pointer = struct.unpack("<Q", ctypes.string_at(address + 8, 8))[0]
    return ctypes.string_at(pointer, length)


def run(exprs, width):
    """Each expr's storage (width bytes, or a string_t when width is 0) and its VARCHAR cast, in one query."""
    sql = "SELECT * FROM (VALUES " + ", ".join(f"({i}, {e}, ({e})::VARCHAR)" for i, e in enumerate(exprs)) + ") ORDER BY 1"
    r = Result()
    if lib.duckdb_query(con, sql.encode(), ctypes.byref(r)) != 0:
        raise RuntimeError(lib.duckdb_result_error(ctypes.byref(r)).decode() + "\n" + sql[:500])
    out = []
    while True:
        chunk = ctypes.c_void_p(lib.duckdb_fetch_chunk(r))
        if not chunk.value:
            break
        n = lib.duckdb_data_chunk_get_size(chunk)
        raw = lib.duckdb_vector_get_data(ctypes.c_void_p(lib.duckdb_data_chunk_get_vector(chunk, ctypes.c_uint64(1))))
        txt = lib.duckdb_vector_get_data(ctypes.c_void_p(lib.duckdb_data_chunk_get_vector(chunk, ctypes.c_uint64(2))))
        for i in range(n):
            storage = read_string_t(raw + 16 * i) if width == 0 else ctypes.string_at(raw + width * i, width)
            out.append((storage, read_string_t(txt + 16 * i).decode()))
        lib.duckdb_destroy_data_chunk(ctypes.byref(chunk))
    lib.duckdb_destroy_result(ctypes.byref(r))
    return out


rng = random.Random(20240501)
cases = []  # (type sql, width, [expr])


def add(type_sql, width, exprs):
    cases.append((type_sql, width, [f"({e})::{type_sql}" for e in exprs]))


def rand_double_bits():
    return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]


def rand_float_bits():
    return struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))[0]


def decimal_text(unscaled, scale):
    """The exact decimal literal of an unscaled integer, e.g. (-5, 2) -> '-0.05'."""
    digits = str(abs(unscaled)).zfill(scale + 1)
    text = digits if scale == 0 else digits[:-scale] + "." + digits[-scale:]
    return ("-" if unscaled < 0 else "") + text


def lit(x):
    return "'nan'" if x != x else ("'inf'" if x == float("inf") else ("'-inf'" if x == float("-inf") else repr(x)))


add("BOOLEAN", 1, ["true", "false"])
for t, w, lo, hi in [("TINYINT", 1, -128, 127), ("SMALLINT", 2, -32768, 32767), ("INTEGER", 4, -2**31, 2**31 - 1),
                     ("BIGINT", 8, -2**63, 2**63 - 1), ("UTINYINT", 1, 0, 255), ("USMALLINT", 2, 0, 65535),
                     ("UINTEGER", 4, 0, 2**32 - 1), ("UBIGINT", 8, 0, 2**64 - 1), ("HUGEINT", 16, -2**127, 2**127 - 1),
                     ("UHUGEINT", 16, 0, 2**128 - 1)]:
    vals = [lo, hi, 0, 1, -1 if lo < 0 else 2] + [rng.randint(lo, hi) for _ in range(6)]
    add(t, w, [f"{v}::{t}" if v >= 0 else f"({v + 1}::{t} - 1)" for v in vals])
specials = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 3.14, 1e15, 1e16, 1e-4, 1e-5, 123456789012345678.0, 1e20, 1e-7, 1.5e300,
            5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 9007199254740993.0, 100.0, 1234.5678,
            float("nan"), float("inf"), float("-inf"), 0.30000000000000004, 2.5e-5, 999999999999999.9, 9999999999999998.0]
add("DOUBLE", 8, [lit(x) + "::DOUBLE" for x in specials] + ["-('nan'::DOUBLE)"])
add("DOUBLE", 8, [f"{lit(x)}::DOUBLE" for x in (rand_double_bits() for _ in range(400)) if x == x and abs(x) != float("inf")])
add("DOUBLE", 8, [f"{rng.randint(-10**6, 10**6) / 10**rng.randint(0, 8)!r}::DOUBLE" for _ in range(150)])
add("FLOAT", 4, [lit(x) + "::FLOAT" for x in [0.0, -0.0, 1.0, 0.1, 3.14, 16777216.0, 1e7, 1e15, 1e16, 3.4028234663852886e38,
                                               1.401298464324817e-45, 1e-5, 123456789.0, float("nan"), float("-inf")]])
add("FLOAT", 4, [f"{lit(x)}::FLOAT" for x in (rand_float_bits() for _ in range(300)) if x == x and abs(x) != float("inf")])
for width, scale in [(4, 1), (9, 4), (18, 3), (38, 10), (3, 3), (38, 0), (18, 18), (38, 38), (10, 2)]:
    vals = [0, 1, -1, 10**width - 1, -(10**width - 1)] + [rng.randint(-(10**width - 1), 10**width - 1) for _ in range(8)]
    add(f"DECIMAL({width},{scale})", 2 if width <= 4 else 4 if width <= 9 else 8 if width <= 18 else 16,
        [f"'{decimal_text(v, scale)}'"
         for v in vals])
add("DATE", 4, ["'infinity'", "'-infinity'", "'0001-01-01'", "'0001-12-31 (BC)'", "'5877642-06-25 (BC)'", "'5881580-07-10'",
                "'1969-12-31'", "'2000-02-29'"] + [f"DATE '1970-01-01' + {rng.randint(-2_000_000_000, 2_000_000_000)}" for _ in range(25)]
    + [f"DATE '1970-01-01' + {rng.randint(-800_000, 800_000)}" for _ in range(15)])
add("TIME", 8, ["'00:00:00'", "'24:00:00'", "'23:59:59.999999'", "'12:34:56.120'"]
    + [f"'00:00:00'::TIME + to_microseconds({rng.randint(0, 86_400_000_000 - 1)})" for _ in range(20)])
add("TIME_NS", 8, ["'00:00:00'", "'12:34:56.123456789'", "'12:34:56.000000001'", "'12:34:56.1'", "'23:59:59.999999999'"]
    + [f"'{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}.{rng.randint(0, 999999999):09}'" for _ in range(15)])


def tz():
    off = rng.randint(-57599, 57599)
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return f"{sign}{off // 3600:02}:{off // 60 % 60:02}:{off % 60:02}"


add("TIMETZ", 8, ["'12:34:56+02'", "'12:34:56-05:30'", "'12:34:56+02:00:30'", "'00:00:00+15:59:59'", "'24:00:00-15:59:59'"]
    + [f"'{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}.{rng.randint(0, 999999):06}{tz()}'" for _ in range(15)]
    + [f"'{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:00{['+', '-'][rng.randint(0, 1)]}{rng.randint(0, 15):02}:{rng.choice([0, 0, 30, 45]):02}'" for _ in range(10)])
add("TIMESTAMP", 8, ["'infinity'", "'-infinity'", "'2024-01-05 12:34:56.5'", "'0001-01-01 00:00:00'", "'0001-12-31 (BC) 23:59:59'",
                     "'1969-12-31 23:59:59.999999'", "'294246-12-31 23:59:59.999999'", "'290309-12-22 (BC) 00:00:00'"]
    + [f"make_timestamp({rng.randint(-9_000_000_000_000_000, 9_000_000_000_000_000)})" for _ in range(20)]
    + [f"make_timestamp({rng.randint(-10**16, 10**16)})" for _ in range(10)])
add("TIMESTAMP_S", 8, ["'infinity'", "'-infinity'", "'2024-01-05 12:34:56'"]
    + [f"make_timestamp({rng.randint(-9 * 10**15, 9 * 10**15)})" for _ in range(12)])
add("TIMESTAMP_MS", 8, ["'infinity'", "'-infinity'", "'2024-01-05 12:34:56.1'"]
    + [f"make_timestamp({rng.randint(-9 * 10**15, 9 * 10**15)})" for _ in range(12)])
add("TIMESTAMP_NS", 8, ["'infinity'", "'-infinity'", "'2024-01-05 12:34:56.123456789'", "'1677-09-22 00:00:00'", "'2262-04-11 23:47:16.854775806'"]
    + [f"make_timestamp_ns({rng.randint(-9 * 10**18, 9 * 10**18)})" for _ in range(15)]
    + [f"make_timestamp_ns({rng.randint(-9 * 10**15, 9 * 10**15) * 1000})" for _ in range(5)])
add("TIMESTAMPTZ", 8, ["'infinity'", "'-infinity'", "'2024-01-05 12:34:56+02'", "'0001-12-31 (BC) 12:00:00+00'"]
    + [f"make_timestamp({rng.randint(-9 * 10**15, 9 * 10**15)})" for _ in range(15)])
add("INTERVAL", 16, ["INTERVAL '1 year 2 months 3 days 04:05:06.789'", "INTERVAL '0 seconds'", "INTERVAL '-04:05:06.5'",
                     "INTERVAL '100 hours'", "to_months(-13)", "to_microseconds(9223372036854775807)",
                     "to_microseconds(-9223372036854775807)", "to_days(1)", "to_days(-1)", "to_months(1)", "to_months(-1)"]
    + [f"to_months({rng.randint(-2**31 + 1, 2**31 - 1)}) + to_days({rng.randint(-2**31 + 1, 2**31 - 1)}) + to_microseconds({rng.randint(-2**63 + 1, 2**63 - 1)})" for _ in range(20)]
    + [f"to_months({rng.randint(-30, 30)}) + to_days({rng.randint(-40, 40)}) + to_microseconds({rng.choice([0, rng.randint(-10**11, 10**11)])})" for _ in range(20)])
add("UUID", 16, ["'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'80000000-0000-0000-0000-000000000000'",
                 "'7fffffff-ffff-ffff-ffff-ffffffffffff'"] + [f"'{rng.getrandbits(128):032x}'" for _ in range(15)])
add("BLOB", 0, ["''", "'abc'", "'\\x00\\xFF'", "'a''b\"c\\x5C'"]
    + ["'" + "".join(f"\\x{rng.getrandbits(8):02X}" for _ in range(rng.randint(1, 30))) + "'" for _ in range(15)])
add("BIT", 0, ["'1'", "'0'", "'101'", "'10110011101'", "'00000000'", "'000000001'"]
    + ["'" + "".join(rng.choice("01") for _ in range(rng.randint(1, 70))) + "'" for _ in range(15)])
add("BIGNUM", 0, ["0", "1", "-1", "255", "-255", "256", "-256", "12345678901234567890123456789", "-12345678901234567890123456789"]
    + [f"'{rng.choice(['', '-'])}{rng.randint(0, 10**rng.randint(1, 120))}'" for _ in range(20)])
add("VARCHAR", 0, ["''", "'hello'", "'a,b'", "'é'", "'NULL'"])

print(f"# DuckDB {lib.duckdb_library_version().decode()} CAST(x AS VARCHAR); generated by tools/gen_duckdb_cast_vectors.py")
for type_sql, width, exprs in cases:
    for storage, text in run(exprs, width):
        esc = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        print(f"{type_sql}\t{storage.hex()}\t{esc}")
